"""The mask maths of PRUNING.md section 3, on NumPy arrays; no TensorFlow.

Every public function is pure: it reads its arrays and returns new ones. A mask is a 0/1
array of the weights' shape and dtype; a weight is kept when its (pooled) magnitude is
strictly greater than the threshold, and a threshold is never negative, so a weight that is
already zero is never kept by an element-wise mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import PruningHParams

POOLINGS = ("AVG", "MAX")


@dataclass(frozen=True)
class MaskSpec:
    """How one weight is masked: element-wise, in blocks (rank 2 only), or N:M."""

    block: tuple[int, int] = (1, 1)
    pooling: str = "AVG"
    m_by_n: tuple[int, int] | None = None  # (N, M): keep the N largest of every M
    input_axis: int = 0  # the axis N:M groups run along

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if any(dim != -1 and dim < 1 for dim in self.block):
            raise ValueError(f"block dims must be >= 1 or -1, got {self.block}")
        if self.m_by_n is not None and not 1 <= self.m_by_n[0] < self.m_by_n[1]:
            raise ValueError(f"m_by_n (N, M) needs 1 <= N < M, got {self.m_by_n}")

    def block_for(self, shape: Sequence[int]) -> tuple[int, int] | None:
        """The resolved block for a weight of `shape`, or None when masked element-wise."""
        if len(shape) != 2:
            return None
        block = resolve_block(shape, *self.block)
        return None if block == (1, 1) else block


def resolve_block(shape: Sequence[int], block_height: int, block_width: int) -> tuple[int, int]:
    """contrib's block dims for a rank-2 shape: -1 = the whole dimension; (1, 1) otherwise."""
    if len(shape) != 2:
        return (1, 1)
    dims = []
    for dim, size in zip((block_height, block_width), shape, strict=True):
        if dim != -1 and dim < 1:
            raise ValueError(f"block dims must be >= 1 or -1, got {dim}")
        dims.append(max(1, size if dim == -1 else min(dim, size)))
    return dims[0], dims[1]


def mask_spec_for(
    hparams: PruningHParams, weight_name: str, shape: Sequence[int], input_axis: int = 0
) -> MaskSpec:
    """The MaskSpec hparams give the weight `weight_name` (block_dims_map matched by re.search)."""
    matches = [dims for regex, dims in hparams.block_map() if regex.search(weight_name)]
    if len(matches) > 1:
        raise InvalidConfig(
            "invalid_hparams",
            f"block_dims_map has {len(matches)} entries matching {weight_name!r}; "
            "make the regexes match at most one each",
            [{"field": "block_dims_map", "message": f"several entries match {weight_name}"}],
        )
    block = matches[0] if matches else (hparams.block_height, hparams.block_width)
    return MaskSpec(
        block=resolve_block(shape, *block),
        pooling=hparams.block_pooling_function,
        m_by_n=hparams.m_by_n(),
        input_axis=input_axis,
    )


def kth_threshold(
    magnitudes: np.ndarray, sparsity: float, weights: np.ndarray | None = None
) -> float:
    """The exact k-th smallest magnitude, k = round(size * sparsity); 0.0 when k == 0.

    `weights` gives each entry's element count (a pooled block's size): size is then their
    sum, and the threshold is the entry at which the cumulative count comes nearest k.
    """
    return _kth_threshold(np.array(magnitudes, order="C").reshape(-1), sparsity, weights)


def _kth_threshold(flat: np.ndarray, sparsity: float, weights: np.ndarray | None) -> float:
    """kth_threshold on a 1-D array it may reorder in place (np.partition is O(n))."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    counts = None if weights is None else np.asarray(weights).ravel()
    if counts is not None and counts.size and np.all(counts == counts[0]):
        k = round(counts.size * int(counts[0]) * sparsity)
        quotient, remainder = divmod(k, int(counts[0]))
        return _nonzero_kth(flat, quotient + (1 if 2 * remainder > counts[0] else 0))
    if counts is not None:
        return _weighted_kth_threshold(flat, counts, sparsity)
    return _nonzero_kth(flat, round(flat.size * sparsity))


def _nonzero_kth(flat: np.ndarray, entries: int) -> float:
    """The entries-th smallest of magnitudes, partitioning only the nonzero ones: once a layer
    is pruned most of it is zero, and zeros are the smallest magnitudes there are."""
    if entries == 0:
        return 0.0
    if 4 * np.count_nonzero(flat) > flat.size:  # mostly dense: a copy would cost more memory
        flat.partition(entries - 1)
        return float(flat[entries - 1])
    nonzero = flat[flat != 0]
    rank = entries - (flat.size - nonzero.size)
    if rank <= 0:
        return 0.0
    nonzero.partition(rank - 1)
    return float(nonzero[rank - 1])


def _weighted_kth_threshold(flat: np.ndarray, counts: np.ndarray, sparsity: float) -> float:
    # Blocks of several sizes: a full sort, but over pooled values, far fewer than weights.
    order = np.argsort(flat, kind="stable")
    cumulative = np.concatenate(([0], np.cumsum(counts[order], dtype=np.int64)))
    k = round(int(cumulative[-1]) * sparsity)
    entries = int(np.argmin(np.abs(cumulative - k)))
    return 0.0 if entries == 0 else float(flat[order[entries - 1]])


def smooth_threshold(old: float, new: float, decay: float) -> float:
    """contrib's exponential smoothing of a layer's threshold."""
    return decay * old + (1.0 - decay) * new


def pooled_magnitudes(weights: np.ndarray, spec: MaskSpec) -> np.ndarray:
    """|W| element-wise, or AVG/MAX of |W| over each block (edge blocks over what exists)."""
    block = spec.block_for(weights.shape)
    if block is None:
        return np.abs(weights)
    starts = [np.arange(0, size, step) for size, step in zip(weights.shape, block, strict=True)]
    if spec.pooling == "MAX":
        rows = np.maximum.reduceat(np.abs(weights), starts[0], axis=0)
        return np.maximum.reduceat(rows, starts[1], axis=1)
    rows = np.add.reduceat(np.abs(weights), starts[0], axis=0)
    sums = np.add.reduceat(rows, starts[1], axis=1)
    return (sums / block_sizes(weights.shape, block)).astype(weights.dtype, copy=False)


def block_sizes(shape: Sequence[int], block: tuple[int, int]) -> np.ndarray:
    """Element count of each block of a rank-2 `shape` (smaller at the bottom/right edges)."""
    rows, cols = (
        np.diff(np.append(np.arange(0, size, step), size))
        for size, step in zip(shape, block, strict=True)
    )
    return np.outer(rows, cols)


def mask_from_threshold(weights: np.ndarray, threshold: float, spec: MaskSpec) -> np.ndarray:
    """1 where the (pooled) magnitude is strictly greater than `threshold`, else 0."""
    return _mask_from_pooled(pooled_magnitudes(weights, spec), threshold, weights, spec)


def _mask_from_pooled(
    pooled: np.ndarray, threshold: float, weights: np.ndarray, spec: MaskSpec
) -> np.ndarray:
    """Reuses `pooled` as the mask's storage when it is element-wise (one buffer, no copy)."""
    block = spec.block_for(weights.shape)
    if block is None:
        return np.greater(pooled, threshold, out=pooled)
    keep = pooled > threshold
    expanded = np.repeat(np.repeat(keep, block[0], axis=0), block[1], axis=1)
    return expanded[: weights.shape[0], : weights.shape[1]].astype(weights.dtype)


def update_mask(
    weights: np.ndarray, sparsity: float, old_threshold: float, decay: float, spec: MaskSpec
) -> tuple[np.ndarray, float]:
    """One layer's new (mask, threshold): section 3 steps 1-3, or the N:M pattern."""
    if spec.m_by_n is not None:
        return m_by_n_mask(weights, *spec.m_by_n, spec.input_axis), old_threshold
    block = spec.block_for(weights.shape)
    pooled = pooled_magnitudes(weights, spec)
    if block is None:
        # `pooled` is our own copy of |W|: partition it in place, then refill it for the mask.
        new_threshold = _kth_threshold(pooled.reshape(-1), sparsity, None)
        np.abs(weights, out=pooled)
    else:
        new_threshold = kth_threshold(pooled, sparsity, block_sizes(weights.shape, block))
    threshold = smooth_threshold(old_threshold, new_threshold, decay)
    return _mask_from_pooled(pooled, threshold, weights, spec), threshold


def update_masks_global(
    weights: dict[str, np.ndarray],
    sparsity: float,
    old_threshold: float,
    decay: float,
    specs: dict[str, MaskSpec],
) -> tuple[dict[str, np.ndarray], float]:
    """One threshold over all `weights` together; N:M layers keep their own pattern."""
    spec_of = {name: specs.get(name, MaskSpec()) for name in weights}
    thresholded = [name for name in weights if spec_of[name].m_by_n is None]
    pooled = {name: pooled_magnitudes(weights[name], spec_of[name]) for name in thresholded}
    magnitudes = np.concatenate([pooled[name].ravel() for name in thresholded] or [np.zeros(0)])
    counts = _global_counts(weights, spec_of, thresholded)
    new_threshold = _kth_threshold(magnitudes, sparsity, counts)
    del magnitudes
    threshold = smooth_threshold(old_threshold, new_threshold, decay)
    masks = {
        name: _mask_from_pooled(pooled[name], threshold, weights[name], spec_of[name])
        for name in thresholded
    }
    for name in weights:
        m_by_n = spec_of[name].m_by_n
        if m_by_n is not None:
            masks[name] = m_by_n_mask(weights[name], *m_by_n, spec_of[name].input_axis)
    return {name: masks[name] for name in weights}, threshold


def _global_counts(
    weights: dict[str, np.ndarray], spec_of: dict[str, MaskSpec], names: list[str]
) -> np.ndarray | None:
    """Each pooled entry's element count, or None when every entry is a single weight."""
    blocks = {name: spec_of[name].block_for(weights[name].shape) for name in names}
    if all(block is None for block in blocks.values()):
        return None
    return np.concatenate(
        [
            np.ones(weights[name].size, dtype=np.int64)
            if block is None
            else block_sizes(weights[name].shape, block).ravel()
            for name, block in blocks.items()
        ]
    )


def sparsity_of(array: np.ndarray) -> float:
    """Fraction of exact zeros (0.0 for an empty array)."""
    return sparsity_from_count(array.size, int(np.count_nonzero(array)))


def sparsity_from_count(size: int, nonzero: int) -> float:
    return 0.0 if size == 0 else (size - nonzero) / size


def m_by_n_mask(weights: np.ndarray, n: int, m: int, axis: int) -> np.ndarray:
    """Keep the n largest |w| of every m consecutive weights along `axis` (never a zero).

    Ties go to the earlier weight, so no group keeps more than n; a trailing group shorter
    than m keeps its n largest too.
    """
    if not 1 <= n < m:
        raise ValueError(f"N:M needs 1 <= N < M, got {n}:{m}")
    axis = axis % weights.ndim
    length = weights.shape[axis]
    # (before, length, after) keeps each group member a contiguous slice for the comparisons.
    magnitudes = np.abs(weights).reshape(
        math.prod(weights.shape[:axis]), length, math.prod(weights.shape[axis + 1 :])
    )
    padding = -length % m
    if padding:  # below every magnitude, so never among a group's n largest
        magnitudes = np.pad(magnitudes, [(0, 0), (0, padding), (0, 0)], constant_values=-1)
    groups = magnitudes.reshape(magnitudes.shape[0], -1, m, magnitudes.shape[2])
    keep = (_rank_in_group(groups) < n) & (groups > 0)
    keep = keep.reshape(magnitudes.shape)[:, :length]
    return keep.reshape(weights.shape).astype(weights.dtype)


def _rank_in_group(groups: np.ndarray) -> np.ndarray:
    """How many members of its group (axis 2) beat each entry; earlier wins a tie."""
    m = groups.shape[2]
    # O(m * size) comparisons, no index arrays: fast for the usual 2:4 and 4:8.
    rank = np.zeros(groups.shape, dtype=np.min_scalar_type(m))
    for i in range(m):
        member, beaten_by = groups[:, :, i], rank[:, :, i]
        for j in range(m):
            if j < i:
                beaten_by += groups[:, :, j] >= member
            elif j > i:
                beaten_by += groups[:, :, j] > member
    return rank
