"""A trainer's error line is a final failure with its code, never a crash to retry: a model
the trainer refuses (recurrent_saved_model) fails once, with the code the user can act on."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from worker.supervisor import Supervisor

SETTINGS = SimpleNamespace(
    job_time_limit_seconds=60,
    progress_db_interval_seconds=1.0,
    cancel_poll_seconds=1.0,
    trainer_memory_limit_bytes=1 << 30,
)


def supervisor() -> Supervisor:
    return Supervisor(trainer=None, writer=None, attempt=1, settings=SETTINGS)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["recurrent_saved_model", "no_gradient", "internal_error"])
def test_an_error_line_is_a_final_failure_with_its_code(code: str) -> None:
    watching = supervisor()
    message = "upload the Keras model as a .keras file"
    watching._handle(json.dumps({"event": "error", "code": code, "message": message}))
    outcome = watching._exit_outcome(1)
    assert (outcome.kind, outcome.code, outcome.message) == ("failed", code, message)


def test_an_exit_without_an_error_line_is_a_crash_to_retry() -> None:
    watching = supervisor()
    watching.trainer = SimpleNamespace(stderr_tail=lambda _chars: "Segmentation fault")
    outcome = watching._exit_outcome(-11)
    assert (outcome.kind, outcome.code) == ("crashed", "trainer_crashed")
    assert "SIGSEGV" in outcome.message
