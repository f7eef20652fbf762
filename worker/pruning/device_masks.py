"""masks.py's threshold and mask maths in TensorFlow ops, for weights that live on a GPU: the
magnitudes never leave the device, only the threshold (a scalar) comes back to the host.

Bit for bit what masks.py gives, where it runs: element-wise masks and blocks pooled with MAX
(a maximum does not depend on the order it is taken in). AVG-pooled blocks and N:M patterns
stay on the NumPy path: NumPy's reduceat sums a block in an order TensorFlow's reductions do
not promise to follow, so a pooled average could differ in its last bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from worker.pruning.masks import MaskSpec, block_sizes, smooth_threshold


def supports(spec: MaskSpec, shape: Sequence[int]) -> bool:
    """Whether this module gives the NumPy path's exact results for `spec` on `shape`."""
    if spec.m_by_n is not None:
        return False
    return spec.block_for(shape) is None or spec.pooling == "MAX"


def on_gpu(variable: object) -> bool:
    """A tf.Variable's placement, or a Keras 3 variable's (its TensorFlow variable's)."""
    device = getattr(variable, "device", None) or getattr(
        getattr(variable, "value", None), "device", None
    )
    return "GPU" in str(device or "").upper()


def kth_threshold(flat: tf.Tensor, sparsity: float, counts: np.ndarray | None = None) -> tf.Tensor:
    """masks.kth_threshold of a 1-D tensor, as a scalar tensor of its dtype."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    size = int(flat.shape[0])
    if counts is not None and counts.size and np.all(counts == counts[0]):
        k = round(counts.size * int(counts[0]) * sparsity)
        quotient, remainder = divmod(k, int(counts[0]))
        return _kth_smallest(flat, quotient + (1 if 2 * remainder > counts[0] else 0))
    if counts is not None:
        return _weighted_kth(flat, counts, sparsity)
    return _kth_smallest(flat, round(size * sparsity))


def _kth_smallest(flat: tf.Tensor, entries: int) -> tf.Tensor:
    if entries == 0:
        return tf.zeros([], flat.dtype)
    # The `entries` smallest are the `entries` largest of the negated magnitudes (exact).
    return -tf.math.top_k(-flat, k=entries, sorted=True).values[entries - 1]


def _weighted_kth(flat: tf.Tensor, counts: np.ndarray, sparsity: float) -> tf.Tensor:
    """The entry where the cumulative element count, in ascending order, comes nearest k; the
    first of two equally near (np.argmin's choice). Counts are >= 1, so the cumulative count
    rises strictly and only the entries on either side of k can be nearest."""
    order = tf.argsort(flat, stable=True)
    cumulative = tf.concat(
        [tf.zeros([1], tf.int64), tf.cumsum(tf.gather(tf.constant(counts, tf.int64), order))], 0
    )
    k = round(int(counts.sum()) * sparsity)
    above = tf.searchsorted(cumulative, tf.constant([k], tf.int64), side="left")[0]
    below = tf.maximum(above - 1, 0)
    nearer_below = k - cumulative[below] <= cumulative[above] - k
    entries = tf.where((above > 0) & nearer_below, below, above)
    value = tf.gather(flat, order[tf.maximum(entries - 1, 0)])
    return tf.where(entries == 0, tf.zeros([], flat.dtype), value)


def pooled_magnitudes(weights: tf.Tensor, spec: MaskSpec) -> tf.Tensor:
    """|W|, or the MAX of |W| over each block (edge blocks over what exists)."""
    magnitudes = tf.abs(weights)
    block = spec.block_for(weights.shape)
    if block is None:
        return magnitudes
    if spec.pooling != "MAX":
        raise ValueError("only MAX-pooled blocks are computed on the device")
    rows, cols = (int(d) for d in weights.shape)
    padded = tf.pad(magnitudes, [[0, -rows % block[0]], [0, -cols % block[1]]])
    tiles = tf.reshape(padded, [-1, block[0], padded.shape[1] // block[1], block[1]])
    return tf.reduce_max(tiles, axis=[1, 3])  # padding is 0, never above a magnitude


def mask_from_pooled(
    pooled: tf.Tensor, threshold: float, weights: tf.Tensor, spec: MaskSpec
) -> tf.Tensor:
    """1 where the pooled magnitude is strictly greater than `threshold`, else 0."""
    keep = tf.greater(pooled, tf.constant(threshold, pooled.dtype))
    block = spec.block_for(weights.shape)
    if block is not None:
        keep = tf.repeat(tf.repeat(keep, block[0], axis=0), block[1], axis=1)
        keep = keep[: weights.shape[0], : weights.shape[1]]
    return tf.cast(keep, weights.dtype)


def _counts(shape: Sequence[int], spec: MaskSpec) -> np.ndarray | None:
    block = spec.block_for(shape)
    return None if block is None else block_sizes(shape, block).ravel()


def update_mask(
    weights: tf.Tensor, sparsity: float, old_threshold: float, decay: float, spec: MaskSpec
) -> tuple[tf.Tensor, float]:
    """masks.update_mask for a weight `supports` accepts: (mask tensor, threshold)."""
    pooled = pooled_magnitudes(weights, spec)
    new = float(kth_threshold(tf.reshape(pooled, [-1]), sparsity, _counts(weights.shape, spec)))
    threshold = smooth_threshold(old_threshold, new, decay)
    return mask_from_pooled(pooled, threshold, weights, spec), threshold


def update_masks_global(
    weights: list[tf.Tensor],
    sparsity: float,
    old_threshold: float,
    decay: float,
    specs: list[MaskSpec],
) -> tuple[list[tf.Tensor], float]:
    """masks.update_masks_global for weights `supports` accepts, in the same order."""
    pooled = [pooled_magnitudes(w, s) for w, s in zip(weights, specs, strict=True)]
    flat = tf.concat([tf.reshape(p, [-1]) for p in pooled], 0)
    counts = None
    if any(s.block_for(w.shape) is not None for w, s in zip(weights, specs, strict=True)):
        counts = np.concatenate(
            [
                np.ones(int(np.prod(w.shape)), np.int64) if c is None else c
                for w, s in zip(weights, specs, strict=True)
                for c in [_counts(w.shape, s)]
            ]
        )
    new = float(kth_threshold(flat, sparsity, counts))
    threshold = smooth_threshold(old_threshold, new, decay)
    masks = [
        mask_from_pooled(p, threshold, w, s) for p, w, s in zip(pooled, weights, specs, strict=True)
    ]
    return masks, threshold
