"""The `shears` command line against the running service, as a person at a terminal uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.e2e import builders
from tests.e2e.conftest import Service

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SHEARS = str(Path(sys.executable).parent / "shears")


def shears(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHEARS_URL": service.base_url, "SHEARS_API_KEY": service.api_key}
    return subprocess.run(
        [SHEARS, *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def ok_with_progress(result: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr together: progress bars go to stderr, results to stdout."""
    return ok(result) + result.stderr


def test_upload_submit_watch_download(service: Service, tmp_path: Path) -> None:
    # A SavedModel directory: the client archives it for the user.
    model_id = ok(
        shears(service, "models", "upload", str(builders.keras_export_dir(tmp_path / "m")), "-q")
    )
    data_id = ok(
        shears(service, "datasets", "upload", str(builders.digits_npz(tmp_path / "d.npz")), "-q")
    )
    job_id = ok(
        shears(
            service,
            "jobs",
            "submit",
            "--model",
            model_id,
            "--dataset",
            data_id,
            "-q",
            "--hparams",
            "target_sparsity=0.8,threshold_decay=0,pruning_frequency=5,"
            "sparsity_function_end_step=30",
            "--training",
            '{"steps": 50, "batch_size": 32}',
        )
    )
    assert job_id.startswith("job_")

    watched = ok_with_progress(shears(service, "jobs", "watch", job_id))
    assert "succeeded" in watched and "50/50" in watched

    shown = ok(shears(service, "jobs", "show", job_id))
    assert "accuracy" in shown and "80.0%" in shown

    ok(shears(service, "jobs", "download", job_id, "-o", str(tmp_path / "pruned")))
    loaded = tf.saved_model.load(str(tmp_path / "pruned"))
    kernels = [
        v.numpy() for v in loaded.signatures["serving_default"].variables if v.shape.rank >= 2
    ]
    assert kernels and all(np.mean(k == 0) == pytest.approx(0.8, abs=0.02) for k in kernels)


def test_errors_print_the_api_message_not_a_traceback(service: Service) -> None:
    result = shears(service, "jobs", "show", "job_does_not_exist")
    assert result.returncode == 1
    assert "not_found" in result.stderr and "job_does_not_exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
