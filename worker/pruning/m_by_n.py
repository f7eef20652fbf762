"""N:M structured sparsity: in every group of M consecutive weights keep the N largest.

NumPy only; masks.update_mask uses it for a MaskSpec with m_by_n set.
"""

from __future__ import annotations

import math

import numpy as np


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
