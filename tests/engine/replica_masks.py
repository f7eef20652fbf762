"""Run as `python -m tests.engine.replica_masks COPIES.npz TRAINER_ARGS...`: the trainer's own
command line (`python -m worker.pruning TRAINER_ARGS...`), which also saves every replica's copy
of every mask and pruned weight at the end of fine-tuning, as "mask/<weight>/<replica>" and
"weight/<weight>/<replica>". A script, not a fixture: `--logical-cpus` splits the CPU before
TensorFlow starts its devices, which the test process has done long before.
"""

from __future__ import annotations

import sys
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from worker.pruning import pruning_job
from worker.pruning.channel_masks import ChannelPruner
from worker.pruning.command_line import main
from worker.pruning.progress import EventStream
from worker.pruning.pruner import Pruner


def _copies(variable: Any) -> list[np.ndarray]:
    variable = variable.value if isinstance(variable, keras.Variable) else variable
    strategy = tf.distribute.get_strategy()  # fine_tune runs in the job's strategy scope
    return [np.asarray(copy) for copy in strategy.experimental_local_results(variable)]


def _saving_fine_tune(out: str, fine_tune: Any) -> Any:
    def fine_tune_and_save(pruner: Pruner | ChannelPruner, *args: Any) -> None:
        fine_tune(pruner, *args)
        arrays: dict[str, Any] = {}
        for variable, mask in pruner.masked_variables():
            name = getattr(variable, "path", variable.name)  # a Keras variable's is conv1/kernel
            for replica, copy in enumerate(_copies(mask)):
                arrays[f"mask/{name}/{replica}"] = copy
            for replica, copy in enumerate(_copies(variable)):
                arrays[f"weight/{name}/{replica}"] = copy
        np.savez(out, **arrays)

    return fine_tune_and_save


if __name__ == "__main__":
    pruning_job.fine_tune = _saving_fine_tune(sys.argv[1], pruning_job.fine_tune)
    sys.exit(main(sys.argv[2:], EventStream(sys.stderr)))
