"""The batched TensorBoard writer gives the same events tf.summary.scalar does, one by one."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from worker.pruning.scalar_log import ScalarLog

SCALARS = [
    (0, {"shears/conv/kernel/sparsity": 0.0, "shears/conv/kernel/threshold": 0.0}),
    (5, {"shears/conv/kernel/sparsity": 0.5, "shears/conv/kernel/threshold": 0.0123456789}),
    (7, {"loss": 2.302585092994046, "learning_rate": 1e-3}),
]


def _events(logdir: Path) -> list[tuple[str, int, bytes, bytes]]:
    found = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.append(
                    (
                        value.tag,
                        event.step,
                        value.tensor.SerializeToString(),
                        value.metadata.SerializeToString(),
                    )
                )
    return found


def test_batched_scalars_equal_one_by_one_scalars(tmp_path: Path) -> None:
    writer = tf.summary.create_file_writer(str(tmp_path / "one_by_one"))
    for step, scalars in SCALARS:
        with writer.as_default(step=step):
            for tag, value in scalars.items():
                tf.summary.scalar(tag, value)
    writer.close()
    log = ScalarLog(str(tmp_path / "batched"))
    for step, scalars in SCALARS:
        log.add(step, scalars)
    log.close()
    expected = _events(tmp_path / "one_by_one")
    assert len(expected) == 6
    assert _events(tmp_path / "batched") == expected


def test_scalars_reach_the_file_once_the_interval_has_passed(tmp_path: Path) -> None:
    now = [0.0]
    log = ScalarLog(str(tmp_path), interval=10.0, clock=lambda: now[0])
    log.add(0, {"loss": 1.0})
    assert _events(tmp_path) == []
    now[0] = 10.0
    log.add(1, {"loss": 0.5})
    assert [(tag, step) for tag, step, _, _ in _events(tmp_path)] == [("loss", 0), ("loss", 1)]
    log.close()
