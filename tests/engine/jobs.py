"""Running the trainer's command line from tests, in-process or as the worker does."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from worker.pruning.command_line import main
from worker.pruning.progress import EventStream

REPO = Path(__file__).resolve().parents[2]

# A ramp that ends well before training does, and exact thresholds: achieved == target.
EXACT_HPARAMS = {
    "target_sparsity": 0.8,
    "sparsity_function_end_step": 30,
    "pruning_frequency": 5,
    "threshold_decay": 0.0,
}
SHORT_TRAINING = {"steps": 45, "batch_size": 32, "learning_rate": 0.01, "optimizer": "adam"}


def run_cli(argv: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """cli.main in this process: (exit code, the JSON objects it printed, in order)."""
    stream = io.StringIO()
    code = main([str(a) for a in argv], EventStream(stream))
    return code, [json.loads(line) for line in stream.getvalue().splitlines()]


def prune_argv(
    model: Path, data: Path, out: Path, hparams: Any = None, training: Any = None
) -> list[str]:
    hparams = EXACT_HPARAMS if hparams is None else hparams
    training = SHORT_TRAINING if training is None else training
    return [
        str(model),
        str(data),
        "--hparams",
        hparams if isinstance(hparams, str) else json.dumps(hparams),
        "--training",
        json.dumps(training),
        "--out",
        str(out),
    ]


def start_trainer(argv: list[str]) -> subprocess.Popen[str]:
    """`python -m worker.pruning ...` as its own process, the way the worker spawns it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "worker.pruning", *argv],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def events_of(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]
