"""TRAINER_DEVICES and TRAINER_LOGICAL_CPUS: what each value trains on, and the refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import Settings
from worker.pruning.contract.devices import ONE_DEVICE, parse_devices
from worker.pruning.contract.errors import PruningError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TWO_GPUS, TWO_CPUS = ["GPU:0", "GPU:1"], ["CPU:0", "CPU:1"]


@pytest.mark.parametrize(
    ("setting", "gpus", "expected"),
    [
        ("first", TWO_GPUS, ["GPU:0"]),  # one device, as TensorFlow picks it
        ("first", [], ["CPU:0"]),
        ("cpu", TWO_GPUS, TWO_CPUS),
        ("all", TWO_GPUS, TWO_GPUS),
        ("ALL", [], TWO_CPUS),  # no GPU: the CPU's logical devices
        ("GPU:1", TWO_GPUS, ["GPU:1"]),
        (" gpu:1, GPU:0 ", TWO_GPUS, ["GPU:1", "GPU:0"]),
        ("cpu:1", TWO_GPUS, ["CPU:1"]),
    ],
)
def test_setting_picks_devices(setting: str, gpus: list[str], expected: list[str]) -> None:
    assert parse_devices(setting, logical_cpus=2).pick(gpus, TWO_CPUS) == expected


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "TRAINER_DEVICES is empty"),
        (" , ", "TRAINER_DEVICES is empty"),
        ("GPU0", "'GPU0' is not a device"),
        ("gpu", "'gpu' is not a device"),
        ("TPU:0", "'TPU:0' is not a device"),
        ("GPU:-1", "'GPU:-1' is not a device"),
        ("GPU:0,gpu:0", "names a device twice"),
    ],
)
def test_bad_setting_is_refused_with_the_reason(setting: str, message: str) -> None:
    with pytest.raises(PruningError, match=message) as refused:
        parse_devices(setting)
    assert refused.value.code == "invalid_devices"


def test_devices_the_host_lacks_are_named() -> None:
    with pytest.raises(PruningError, match="names GPU:2, which this worker does not see"):
        parse_devices("GPU:0,GPU:2").pick(TWO_GPUS, ["CPU:0"])


def test_settings_default_to_one_device_and_refuse_no_logical_cpus() -> None:
    assert Settings().trainer_devices == "first"
    assert parse_devices(Settings().trainer_devices) == ONE_DEVICE
    with pytest.raises(ValidationError, match="trainer_logical_cpus"):
        Settings(trainer_logical_cpus=0)


def test_the_trainer_refuses_a_bad_setting_before_it_loads_anything(tmp_path: Path) -> None:
    """The worker passes TRAINER_DEVICES through as it is; the trainer's first check refuses it,
    so the job fails at once with a code that says what to fix (and is never retried)."""
    argv = [str(tmp_path / "model.keras"), str(tmp_path / "data.npz"), "--devices", "GPU0"]
    argv += ["--hparams", "{}", "--training", "{}", "--out", str(tmp_path / "out")]
    result = subprocess.run(
        [sys.executable, "-m", "worker.pruning", *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    error = json.loads(result.stdout.strip().splitlines()[-1])
    assert error["event"] == "error" and error["code"] == "invalid_devices"
    assert "TRAINER_DEVICES: 'GPU0' is not a device: use first, cpu, all" in error["message"]
