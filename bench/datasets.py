"""The benchmarks' data, as the engine takes it: .npz arrays x_train, y_train, x_val, y_val.

Digits is scikit-learn's bundled 8x8 set (real data, no download); the CIFAR-10 network is
timed and sized on random 32x32x3 images, where speed and size do not depend on the pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

from bench.models import CIFAR_SHAPE, CLASSES, DIGITS_SHAPE

DIGITS_TEST_FRACTION = 0.2
SPLIT_SEED = 0  # one held-out test set for every benchmark and seed


def digits() -> dict[str, np.ndarray]:
    """The 1797 digits scaled to [0, 1], 20% held out as x_val/y_val (the test set)."""
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32).reshape(-1, *DIGITS_SHAPE)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = round(len(y) * DIGITS_TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return {"x_train": x[train], "y_train": y[train], "x_val": x[test], "y_val": y[test]}


def synthetic_cifar(examples: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((examples, *CIFAR_SHAPE), dtype=np.float32)
    y = rng.integers(0, CLASSES, examples, dtype=np.int64)
    n_val = max(1, examples // 10)
    return {"x_train": x[n_val:], "y_train": y[n_val:], "x_val": x[:n_val], "y_val": y[:n_val]}


def write_npz(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    np.savez(path, **cast(dict[str, Any], arrays))  # numpy's stub confuses ** with allow_pickle
    return Path(path)


def repeating_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless shuffled batches, as the engine feeds its own steps (training_loop.batches)."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    dataset = dataset.shuffle(len(y), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
