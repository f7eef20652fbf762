"""The fine-tune: masks updated when the schedule says so, one compiled step otherwise,
progress reported at every mask update, about twice a second, and at the end."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from worker.pruning.data import Split
from worker.pruning.progress import EventStream, Throttle
from worker.pruning.pruner import Pruner
from worker.pruning.results import PruningSummaries
from worker.pruning.train_step import TrainStep

PROGRESS_INTERVAL_SECONDS = 0.5
PREFETCH_BATCHES = 4


def _tensor_spec(split: Split, name: str) -> tf.TensorSpec:
    dtype = split.dtype(name)
    return tf.TensorSpec(
        (None, *split.row_shape(name)), tf.string if dtype.kind in "SU" else tf.as_dtype(dtype)
    )


def batches(split: Split, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Batches of ({input name: tensor}, labels); shuffled and endless when given a seed.

    Read from the split a batch at a time (a generator), so that the dataset is never copied
    whole into TensorFlow nor into a shuffle buffer."""
    spec = ({name: _tensor_spec(split, name) for name in split.x}, _tensor_spec(split, "y"))
    dataset = tf.data.Dataset.from_generator(
        lambda: split.batches(batch_size, shuffle_seed), output_signature=spec
    )
    return dataset.prefetch(PREFETCH_BATCHES)


@dataclass(frozen=True)
class TrainingStats:
    steps: int
    epochs: float
    wall_seconds: float
    steps_per_second: float

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "epochs": round(self.epochs, 4),
            "wall_seconds": round(self.wall_seconds, 3),
            "steps_per_second": round(self.steps_per_second, 3),
        }


class ProgressReporter:
    """Turns the loop's state into progress events and TensorBoard summaries."""

    def __init__(
        self,
        events: EventStream,
        summaries: PruningSummaries,
        pruner: Pruner,
        train_step: TrainStep,
        total_steps: int,
        steps_per_epoch: int,
    ) -> None:
        self._events, self._summaries = events, summaries
        self._pruner, self._train_step = pruner, train_step
        self._total, self._steps_per_epoch = total_steps, steps_per_epoch
        self._started = time.monotonic()
        self._first_step_done: float | None = None

    def first_step_done(self) -> None:
        # Rates are measured from here: the first step includes tracing the function.
        self._first_step_done = time.monotonic()

    def steps_per_second(self, step: int) -> float:
        if self._first_step_done is None or step < 2:
            return 0.0
        return (step - 1) / max(1e-9, time.monotonic() - self._first_step_done)

    def masks_updated(self, step: int) -> None:
        self._summaries.masks(
            step,
            self._pruner.layer_states(step),
            self._pruner.global_target(step),
            self._pruner.global_achieved(),
        )

    def report(self, step: int, mask_update: bool = False) -> None:
        loss, learning_rate = self._train_step.take_report()
        self._summaries.training(step, loss, learning_rate)
        rate = self.steps_per_second(step)
        self._events.emit(
            "progress",
            step=step,
            total_steps=self._total,
            epoch=round(step / self._steps_per_epoch, 4),
            loss=loss,
            target_sparsity=round(self._pruner.global_target(step), 6),
            achieved_sparsity=round(self._pruner.global_achieved(), 6),
            layers=[layer.to_json() for layer in self._pruner.layer_states(step)],
            steps_per_second=round(rate, 3),
            eta_seconds=round((self._total - step) / rate, 1) if rate > 0 else None,
            mask_update=mask_update,
        )

    def stats(self, steps: int) -> TrainingStats:
        wall = time.monotonic() - self._started
        return TrainingStats(steps, steps / self._steps_per_epoch, wall, steps / max(wall, 1e-9))


def fine_tune(
    pruner: Pruner,
    train_step: TrainStep,
    train_batches: tf.data.Dataset,
    total_steps: int,
    reporter: ProgressReporter,
) -> None:
    throttle = Throttle(PROGRESS_INTERVAL_SECONDS)
    iterator = iter(train_batches)
    for step in range(total_steps):
        if pruner.update_due(step):
            pruner.update(step)
            reporter.masks_updated(step)
            reporter.report(step, mask_update=True)
            throttle.reset()
        x, y = next(iterator)
        train_step(x, y)
        if step == 0:
            reporter.first_step_done()
        elif throttle.due() and step + 1 < total_steps:
            reporter.report(step + 1)
    reporter.report(total_steps)
