"""The Keras 3 side of engine_overhead: per-step times of one run of the seed's CIFAR-10 net on
random data, as a plain `model.fit` (dense) or as Shears' own fine-tune loop pruning to 0.9.

    python -m bench.keras_steps dense|shears --warmup W --chunk C --chunks N

Takes turns with other runs as bench.step_stats describes (stdin/stdout), then prints one
JSON object: {"method", "params", "intervals_ms": [...]}.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from bench.datasets import repeating_batches, synthetic_cifar, write_npz  # noqa: E402
from bench.models import (  # noqa: E402
    CIFAR_BATCH_SIZE,
    CIFAR_EXAMPLES,
    CIFAR_LEARNING_RATE,
    CIFAR_SEED,
    cifar_net,
)
from bench.step_stats import (  # noqa: E402
    PacedStep,
    PacedSteps,
    add_pacing_arguments,
    pacing_callback,
)
from worker.pruning.contract.hparams import PruningHParams, parse_hparams  # noqa: E402
from worker.pruning.contract.training_config import TrainingConfig, parse_training  # noqa: E402
from worker.pruning.progress import EventStream  # noqa: E402
from worker.pruning.pruning_job import check_job, prepare_pruning  # noqa: E402
from worker.pruning.training_loop import fine_tune  # noqa: E402


def pruning_hparams(steps: int) -> PruningHParams:
    """0.9 with a mask update every 10 steps, the ramp spanning the whole run. No threshold
    smoothing, so the run provably ends at 0.9; smoothing costs nothing per step."""
    return parse_hparams(
        {
            "target_sparsity": 0.9,
            "pruning_frequency": 10,
            "sparsity_function_end_step": steps,
            "threshold_decay": 0.0,
        }
    )


def training(steps: int) -> TrainingConfig:
    return parse_training(
        {
            "optimizer": "adam",
            "learning_rate": CIFAR_LEARNING_RATE,
            "batch_size": CIFAR_BATCH_SIZE,
            "steps": steps,
            "from_logits": True,
            "seed": CIFAR_SEED,
        }
    )


def dense_fit(pacer: PacedSteps) -> None:
    """A plain Keras 3 fine-tune: compile (loss only) and model.fit, no pruning."""
    arrays = synthetic_cifar(CIFAR_EXAMPLES, CIFAR_SEED)
    model = cifar_net(keras)
    model.compile(
        optimizer=keras.optimizers.Adam(CIFAR_LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    batches = repeating_batches(arrays["x_train"], arrays["y_train"], CIFAR_BATCH_SIZE, CIFAR_SEED)
    callback = pacing_callback(keras.callbacks.Callback, pacer)
    model.fit(batches, steps_per_epoch=pacer.total_steps, epochs=1, verbose=0, callbacks=[callback])


def shears_loop(pacer: PacedSteps) -> None:
    """The engine's own loop (training_loop.fine_tune), as run_pruning drives it: mask updates,
    progress events and TensorBoard summaries included; only loading and export left out."""
    steps = pacer.total_steps
    hparams, config = pruning_hparams(steps), training(steps)
    with (
        tempfile.TemporaryDirectory(prefix="bench-steps-") as scratch,
        open(os.devnull, "w") as sink,
    ):
        model_path, data_path = Path(scratch) / "model.keras", Path(scratch) / "data.npz"
        cifar_net(keras).save(model_path)
        write_npz(synthetic_cifar(CIFAR_EXAMPLES, CIFAR_SEED), data_path)
        job = check_job(str(model_path), str(data_path), hparams, config, scratch)
        run = prepare_pruning(
            job, hparams, config, Path(scratch) / "tensorboard", EventStream(sink)
        )
        paced = PacedStep(run.train_step, pacer)
        try:
            fine_tune(run.pruner, paced, job.train_batches, steps, run.reporter)  # type: ignore[arg-type]
        finally:
            run.summaries.close()
        achieved = run.pruner.global_achieved()
    if abs(achieved - 0.9) > 0.01:
        raise RuntimeError(f"the timed Shears run reached sparsity {achieved}, not 0.9")


RUNS = {"dense": dense_fit, "shears": shears_loop}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("method", choices=sorted(RUNS))
    add_pacing_arguments(parser)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(CIFAR_SEED)
    pacer = PacedSteps(args.warmup, args.chunk, args.chunks)
    RUNS[args.method](pacer)
    result = {
        "method": args.method,
        "params": cifar_net(keras).count_params(),
        "intervals_ms": pacer.intervals_ms,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
