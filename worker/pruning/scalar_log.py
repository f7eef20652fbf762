"""TensorBoard scalars kept in memory and written in one compiled call every few seconds.

A tf.summary.scalar call costs milliseconds of eager dispatch; a mask update on a model of
many layers writes two per layer, which on a small, fast model is a good share of the run.
The events are the same (tag, step, float32 value, the scalar plugin's metadata); only their
wall times are those of the write.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from tensorboard.plugins.scalar import metadata as scalar_metadata

WRITE_INTERVAL_SECONDS = 10.0


class ScalarLog:
    def __init__(
        self,
        logdir: str,
        interval: float = WRITE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._writer = tf.summary.create_file_writer(logdir)
        self._interval, self._clock = interval, clock
        self._last_write = clock()
        self._tags: list[str] = []
        self._values: list[float] = []
        self._steps: list[int] = []
        self._write = tf.function(
            self._write_all,
            input_signature=[
                tf.TensorSpec([None], tf.string),
                tf.TensorSpec([None], tf.float32),
                tf.TensorSpec([None], tf.int64),
            ],
        )

    def add(self, step: int, scalars: dict[str, float]) -> None:
        """Queue `scalars` at `step`; write the queue if the last write is old enough."""
        for tag, value in scalars.items():
            self._tags.append(tag)
            self._values.append(value)
            self._steps.append(step)
        if self._clock() - self._last_write >= self._interval:
            self.flush()

    def flush(self) -> None:
        if self._tags:
            tags = np.array(self._tags, dtype=object)
            self._write(tags, np.array(self._values, np.float32), np.array(self._steps, np.int64))
            self._tags, self._values, self._steps = [], [], []
        self._writer.flush()
        self._last_write = self._clock()

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def _write_all(self, tags: tf.Tensor, values: tf.Tensor, steps: tf.Tensor) -> None:
        metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)
        with self._writer.as_default():
            for i in tf.range(tf.size(tags)):
                tf.summary.write(tags[i], values[i], step=steps[i], metadata=metadata)
