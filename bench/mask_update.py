"""One mask update of a single layer of 1M, 10M and 50M weights: Shears against tfmot.

Shears computes the exact k-th magnitude with np.partition (O(n)); tfmot's Pruning._update_mask
sorts every weight with tf.math.top_k (O(n log n)). Both run here in one process, on the same
weights, at sparsity 0.9; tfmot's inside a tf.function, as it runs during training.

    python -m bench.mask_update [--quick]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tfmot only works with tf-keras
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_model_optimization.python.core.sparsity.keras import (  # noqa: E402
    pruning_impl,
    pruning_schedule,
)

from bench.common import median_seconds, write_result  # noqa: E402
from worker.pruning.masks import MaskSpec, sparsity_of, update_mask  # noqa: E402

SPARSITY = 0.9


def tfmot_update(weights: tf.Variable):
    schedule = pruning_schedule.ConstantSparsity(SPARSITY, begin_step=0, frequency=1)
    mask = tf.Variable(tf.ones_like(weights), trainable=False)
    threshold = tf.Variable(0.0, trainable=False)
    pruning = pruning_impl.Pruning(
        training_step_fn=lambda: tf.constant(0, tf.int64),
        pruning_vars=[(weights, mask, threshold)],
        pruning_schedule=schedule,
        block_size=(1, 1),
        block_pooling_type="AVG",
    )
    return tf.function(lambda: pruning._update_mask(weights))


def measure(size: int, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(size)
    values = rng.standard_normal(size, dtype=np.float32).reshape(size // 1000, 1000)
    weights = tf.Variable(values)

    shears_mask, _ = update_mask(values, SPARSITY, 0.0, 0.0, MaskSpec())
    tfmot_fn = tfmot_update(weights)
    _, tfmot_mask = tfmot_fn()
    shears_s = median_seconds(
        lambda: update_mask(weights.numpy(), SPARSITY, 0.0, 0.0, MaskSpec()), repeats
    )
    tfmot_s = median_seconds(lambda: tfmot_fn()[1].numpy(), repeats)
    return {
        "weights": size,
        "shears_ms": round(shears_s * 1000, 2),
        "tfmot_ms": round(tfmot_s * 1000, 2),
        "speedup": round(tfmot_s / shears_s, 2),
        "shears_sparsity": round(sparsity_of(values * shears_mask), 6),
        "tfmot_sparsity": round(sparsity_of(values * tfmot_mask.numpy()), 6),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M and 10M only, 2 repeats")
    args = parser.parse_args(argv)
    sizes = [1_000_000, 10_000_000] if args.quick else [1_000_000, 10_000_000, 50_000_000]
    rows = [measure(size, repeats=2 if args.quick else 5) for size in sizes]
    for row in rows:
        print(
            f"{row['weights']:>11,} weights: shears {row['shears_ms']:>9.1f} ms, "
            f"tfmot {row['tfmot_ms']:>9.1f} ms ({row['speedup']}x)"
        )
    payload = {"sparsity": SPARSITY, "quick": args.quick, "layers": rows}
    write_result("mask_update", payload)
    return payload


if __name__ == "__main__":
    main()
