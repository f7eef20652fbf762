"""The tf-keras side of the benchmarks, in its own process: tfmot only works with tf-keras
(TF_USE_LEGACY_KERAS=1), which must not share a process with the Keras 3 engine.

    python -m bench.tfmot_runner steps tfmot|tf_keras_dense --warmup W --chunk C --chunks N
        per-step times of the CIFAR-10 net, as bench.keras_steps; prints {"method", "intervals_ms"}
    python -m bench.tfmot_runner prune SPEC.json
        prunes the digits CNN from given dense weights, once per (sparsity, seed) of the spec;
        prints {"results": [{"sparsity", "seed", "accuracy", "achieved_sparsity"}, ...]}

tfmot runs as its documentation shows: prune_low_magnitude with PolynomialDecay, compile,
model.fit with the UpdatePruningStep callback, then strip_pruning.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow_model_optimization as tfmot  # noqa: E402
import tf_keras  # noqa: E402

from bench.datasets import repeating_batches, synthetic_cifar  # noqa: E402
from bench.models import (  # noqa: E402
    CIFAR_BATCH_SIZE,
    CIFAR_EXAMPLES,
    CIFAR_LEARNING_RATE,
    CIFAR_SEED,
    cifar_net,
    digits_cnn,
)
from bench.step_stats import PacedSteps, add_pacing_arguments, pacing_callback  # noqa: E402

PRUNABLE_LAYERS = (tf_keras.layers.Conv2D, tf_keras.layers.Dense)


def logits_loss() -> Any:
    return tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def polynomial_decay(sparsity: float, begin: int, end: int, frequency: int) -> Any:
    return tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=sparsity,
        begin_step=begin,
        end_step=end,
        power=3,
        frequency=frequency,
    )


def time_steps(method: str, pacer: PacedSteps) -> None:
    """bench.keras_steps' run in tf-keras: the same net, data, batch size, optimizer and seed."""
    tf_keras.utils.set_random_seed(CIFAR_SEED)
    total = pacer.total_steps
    arrays = synthetic_cifar(CIFAR_EXAMPLES, CIFAR_SEED)
    model = cifar_net(tf_keras)
    callbacks = []
    if method == "tfmot":
        schedule = polynomial_decay(0.9, begin=0, end=total, frequency=10)
        model = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    timer = pacing_callback(tf_keras.callbacks.Callback, pacer)
    model.compile(optimizer=tf_keras.optimizers.Adam(CIFAR_LEARNING_RATE), loss=logits_loss())
    batches = repeating_batches(arrays["x_train"], arrays["y_train"], CIFAR_BATCH_SIZE, CIFAR_SEED)
    model.fit(batches, steps_per_epoch=total, epochs=1, verbose=0, callbacks=[*callbacks, timer])


def kernel_sparsity(model: Any) -> float:
    """Zeros over all Conv2D and Dense kernels: what both tools prune."""
    kernels = [layer.kernel.numpy() for layer in model.layers if isinstance(layer, PRUNABLE_LAYERS)]
    zeros = sum(int(np.sum(k == 0)) for k in kernels)
    return zeros / sum(k.size for k in kernels)


def prune_digits(spec: dict[str, Any], sparsity: float, seed: int) -> dict[str, Any]:
    schedule, training = spec["schedule"], spec["training"]
    data = dict(np.load(spec["data"]))
    with np.load(spec["weights"]) as stored:
        weights = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    tf_keras.utils.set_random_seed(seed)
    model = digits_cnn(tf_keras, spec.get("width", 1.0))
    model.set_weights(weights)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(
        model,
        pruning_schedule=polynomial_decay(
            sparsity, schedule["begin"], schedule["end"], schedule["frequency"]
        ),
    )
    pruned.compile(
        optimizer=tf_keras.optimizers.Adam(training["learning_rate"]), loss=logits_loss()
    )
    pruned.fit(
        repeating_batches(data["x_train"], data["y_train"], training["batch_size"], seed),
        steps_per_epoch=training["steps"],
        epochs=1,
        verbose=0,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
    )
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    predictions = np.argmax(stripped.predict(data["x_val"], verbose=0), axis=1)
    return {
        "sparsity": sparsity,
        "seed": seed,
        "accuracy": float(np.mean(predictions == data["y_val"])),
        "achieved_sparsity": round(kernel_sparsity(stripped), 6),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    steps = commands.add_parser("steps")
    steps.add_argument("method", choices=["tfmot", "tf_keras_dense"])
    add_pacing_arguments(steps)
    prune = commands.add_parser("prune")
    prune.add_argument("spec", help="JSON file: weights, data, schedule, training, runs")
    args = parser.parse_args(argv)
    if args.command == "steps":
        pacer = PacedSteps(args.warmup, args.chunk, args.chunks)
        time_steps(args.method, pacer)
        result: dict[str, Any] = {"method": args.method, "intervals_ms": pacer.intervals_ms}
    else:
        with open(args.spec) as file:
            spec = json.load(file)
        result = {"results": [prune_digits(spec, r["sparsity"], r["seed"]) for r in spec["runs"]]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
