"""Run as `python -m tests.engine.replica_masks MODEL DATA.npz DEVICES OUT.npz`: fine-tune a
pruning job as run_pruning does on DEVICES (with the CPU split in two) and save every
replica's copy of every mask and pruned weight, as "mask/<weight>/<replica>" and
"weight/<weight>/<replica>". A script, not a fixture: the CPU is split before TensorFlow
starts, which the test process has done long before."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tests.engine.jobs import EXACT_HPARAMS, SHORT_TRAINING
from worker.pruning.contract.devices import parse_devices
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training
from worker.pruning.progress import EventStream
from worker.pruning.pruning_job import check_job, prepare_pruning
from worker.pruning.replicas import training_strategy
from worker.pruning.training_loop import fine_tune

LOGICAL_CPUS = 2


def _copies(strategy: tf.distribute.Strategy, variable) -> list[np.ndarray]:
    variable = (
        getattr(variable, "value", variable) if not isinstance(variable, tf.Variable) else variable
    )
    return [np.asarray(v) for v in strategy.experimental_local_results(variable)]


def main(model: str, data: str, devices: str, out: str) -> None:
    strategy = training_strategy(parse_devices(devices, LOGICAL_CPUS))
    tf.keras.utils.set_random_seed(0)
    hparams, config = parse_hparams(EXACT_HPARAMS), parse_training(SHORT_TRAINING)
    arrays: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as scratch, strategy.scope():
        job = check_job(model, data, hparams, config, scratch)
        events = EventStream(open("/dev/null", "w"))
        run = prepare_pruning(job, hparams, config, Path(scratch) / "tb", events)
        fine_tune(run.pruner, run.train_step, job.train_batches, job.total_steps, run.reporter)
        run.summaries.close()
        for weight, mask in zip(run.pruner.weights, run.pruner.masks, strict=True):
            for replica, copy in enumerate(_copies(strategy, mask)):
                arrays[f"mask/{weight.name}/{replica}"] = copy
            for replica, copy in enumerate(_copies(strategy, weight.weight.variable)):
                arrays[f"weight/{weight.name}/{replica}"] = copy
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
