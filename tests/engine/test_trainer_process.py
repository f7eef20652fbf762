"""`python -m worker.pruning` as the worker runs it: clean JSON stdout, exit codes, SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.engine.jobs import events_of, prune_argv, start_trainer

pytestmark = pytest.mark.slow


def test_stdout_holds_only_json_lines(module_dir: Path, digits_npz: Path, tmp_path: Path) -> None:
    trainer = start_trainer(prune_argv(module_dir, digits_npz, tmp_path / "out"))
    stdout, stderr = trainer.communicate(timeout=120)
    assert trainer.returncode == 0, stderr[-2000:]
    events = events_of(stdout)  # raises on any line that is not JSON
    assert events[0]["event"] == "started" and events[-1]["event"] == "metrics"
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == {
        k: v for k, v in events[-1].items() if k != "event"
    }


def test_failure_exits_non_zero_with_an_error_line(module_dir: Path, tmp_path: Path) -> None:
    trainer = start_trainer(prune_argv(module_dir, tmp_path / "missing.npz", tmp_path / "out"))
    stdout, _ = trainer.communicate(timeout=120)
    assert trainer.returncode == 1
    assert events_of(stdout)[-1]["code"] == "invalid_data"


def test_sigterm_cancels_promptly(module_dir: Path, digits_npz: Path, tmp_path: Path) -> None:
    argv = prune_argv(module_dir, digits_npz, tmp_path / "out", training={"steps": 1_000_000})
    trainer = start_trainer(argv)
    assert trainer.stdout is not None
    for line in trainer.stdout:
        if json.loads(line)["event"] == "progress":
            break
    sent = time.monotonic()
    trainer.send_signal(signal.SIGTERM)
    trainer.wait(timeout=10)
    assert time.monotonic() - sent < 5
    assert trainer.returncode == 128 + signal.SIGTERM
    last = [json.loads(line) for line in trainer.stdout.read().splitlines()][-1]
    assert last == {
        "event": "error",
        "code": "cancelled",
        "message": "the job was cancelled (SIGTERM)",
    }
