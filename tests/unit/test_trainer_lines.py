from datetime import UTC, datetime

import pytest

from worker.trainer_lines import (
    MAX_LINE_CHARS,
    IntervalGate,
    TrainerLine,
    parse_trainer_line,
    progress_record,
    warnings_of,
)


def test_progress_line_is_parsed_without_its_event_field() -> None:
    line = parse_trainer_line('{"event": "progress", "step": 5, "loss": 0.5}\n')
    assert line == TrainerLine("progress", {"step": 5, "loss": 0.5})


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Epoch 1/3 - loss: 0.4",
        "{not json",
        '["event", "progress"]',
        '{"event": "launch_missiles"}',
        '{"step": 3}',
    ],
)
def test_anything_but_a_trainer_event_is_ignored(raw: str) -> None:
    assert parse_trainer_line(raw) is None


def test_error_line_keeps_code_and_message() -> None:
    line = parse_trainer_line('{"event": "error", "code": "invalid_data", "message": "x"}')
    assert line is not None and line.data == {"code": "invalid_data", "message": "x"}


def test_progress_record_is_stamped_with_its_time() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert progress_record({"step": 1}, now) == {
        "step": 1,
        "updated_at": "2026-01-02T03:04:05+00:00",
    }


def test_interval_gate_lets_one_call_through_per_interval() -> None:
    now = [100.0]
    gate = IntervalGate(1.0, clock=lambda: now[0])
    assert gate.due()
    now[0] = 100.5
    assert not gate.due()
    now[0] = 101.0
    assert gate.due()
    assert not gate.due()


def test_zero_interval_gate_is_always_due() -> None:
    gate = IntervalGate(0.0, clock=lambda: 5.0)
    assert gate.due() and gate.due()


def test_an_oversized_line_is_ignored() -> None:
    padding = "x" * MAX_LINE_CHARS
    assert parse_trainer_line(f'{{"event": "progress", "pad": "{padding}"}}') is None


def test_warnings_are_bounded_strings() -> None:
    assert warnings_of({"warnings": ["a" * 1000] * 50 + [3]})[:1] == ["a" * 500]
    assert len(warnings_of({"warnings": ["w"] * 50})) == 20
    assert warnings_of({"warnings": "not a list"}) == []
