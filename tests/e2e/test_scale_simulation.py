"""The scale simulation (bench/scale_sim.py), scaled down: the real API, Postgres, Redis and six
Celery workers with the fake trainer, a backlog submitted through the API, one worker
SIGKILLed halfway and replaced. Every job succeeds, and no trainer runs twice but after a
fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scale_sim import Scenario, run_scenario
from tests.e2e.builders import digits_npz, keras_file


@pytest.mark.slow
def test_a_backlog_drains_with_a_worker_killed_and_nothing_lost_or_run_twice(
    tmp_path: Path,
) -> None:
    scenario = Scenario(
        jobs=120,
        workers=6,
        kills=1,
        seconds_per_job=0.3,
        drain_timeout=240,
        heartbeat_timeout=10,
    )
    result = run_scenario(
        scenario, keras_file(tmp_path / "m.keras"), digits_npz(tmp_path / "d.npz")
    )
    assert result["statuses"] == {"succeeded": 120}
    assert (result["lost"], result["duplicates"], result["never_ran"]) == (0, 0, 0)
    assert result["killed_workers"] == 1
    assert result["list_ms"]["queued_limit_50"]["n"] > 0  # the dashboard was answered throughout
