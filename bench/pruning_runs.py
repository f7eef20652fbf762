"""Keras 3 building blocks of the quality, large-sparse and size benchmarks: train a dense model
with plain `model.fit`, then prune it with Shears' engine exactly as a job does (run_pruning,
from a .keras file and an .npz, writing metrics.json and the SavedModel).
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bench.datasets import repeating_batches
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training
from worker.pruning.progress import EventStream
from worker.pruning.pruning_job import run_pruning

DIGITS_BATCH_SIZE = 32
DIGITS_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Schedule:
    """One gradual-pruning schedule, given to Shears and tfmot alike: masks updated every
    `frequency` steps from `begin` to `end` along the cubic ramp, then `steps - end` steps
    of fine-tuning with the masks fixed."""

    begin: int
    end: int
    frequency: int
    steps: int

    def to_json(self) -> dict[str, int]:
        return {
            "begin": self.begin,
            "end": self.end,
            "frequency": self.frequency,
            "steps": self.steps,
        }


# Training budgets on digits: the dense model's steps, then the pruning schedule's.
DIGITS_DENSE_STEPS = {"full": 1500, "quick": 600}
DIGITS_SCHEDULE = {
    "full": Schedule(begin=0, end=600, frequency=10, steps=1000),
    "quick": Schedule(begin=0, end=200, frequency=10, steps=300),
}


def logits_loss() -> keras.losses.Loss:
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def train_dense(model: keras.Model, arrays: dict[str, np.ndarray], steps: int, seed: int) -> None:
    """Plain Keras: Adam, batches shuffled with `seed`, `steps` optimizer steps."""
    model.compile(optimizer=keras.optimizers.Adam(DIGITS_LEARNING_RATE), loss=logits_loss())
    batches = repeating_batches(arrays["x_train"], arrays["y_train"], DIGITS_BATCH_SIZE, seed)
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)


def held_out_accuracy(model: keras.Model, arrays: dict[str, np.ndarray]) -> float:
    predictions = np.argmax(model.predict(arrays["x_val"], verbose=0), axis=1)
    return float(np.mean(predictions == arrays["y_val"]))


def shears_hparams(sparsity: float, schedule: Schedule) -> dict[str, Any]:
    """The schedule in contrib's names; no threshold smoothing, as tfmot has none."""
    return {
        "target_sparsity": sparsity,
        "begin_pruning_step": schedule.begin,
        "end_pruning_step": schedule.end,
        "pruning_frequency": schedule.frequency,
        "sparsity_function_begin_step": schedule.begin,
        "sparsity_function_end_step": schedule.end,
        "sparsity_function_exponent": 3.0,
        "threshold_decay": 0.0,
    }


def digits_training(steps: int, seed: int) -> dict[str, Any]:
    return {
        "optimizer": "adam",
        "learning_rate": DIGITS_LEARNING_RATE,
        "batch_size": DIGITS_BATCH_SIZE,
        "steps": steps,
        "seed": seed,
        "from_logits": True,
    }


def run_shears(
    model_path: Path,
    data_path: Path,
    hparams: dict[str, Any],
    training: dict[str, Any],
    out: Path,
    exports: list[str] | None = None,
) -> dict[str, Any]:
    """One Shears job in this process; its metrics.json as a dict. Events go nowhere."""
    with open(os.devnull, "w") as sink:
        return run_pruning(
            str(model_path),
            str(data_path),
            parse_hparams(hparams),
            parse_training(training),
            str(out),
            EventStream(sink),
            exports,
        )


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for a single value), rounded for the JSON."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 6), "std": round(spread, 6)}
