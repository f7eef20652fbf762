"""Block and N:M masks, and the MaskSpec a layer gets from hparams."""

from __future__ import annotations

import numpy as np
import pytest

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.masks import (
    MaskSpec,
    m_by_n_mask,
    mask_from_threshold,
    mask_spec_for,
    pooled_magnitudes,
    resolve_block,
    sparsity_of,
    update_mask,
)
from worker.pruning.schedule import PruningSchedule

BLOCK_CASES = [
    ((12, 16), (2, 4), "AVG"),
    ((12, 16), (2, 4), "MAX"),
    ((13, 18), (4, 4), "AVG"),  # partial blocks at the bottom and right edges
    ((13, 18), (4, 4), "MAX"),
    ((10, 9), (-1, 1), "AVG"),  # whole columns
    ((10, 9), (1, -1), "MAX"),  # whole rows
    ((7, 5), (3, -1), "AVG"),
]


def reference_pooling(weights: np.ndarray, block: tuple[int, int], pooling: str) -> np.ndarray:
    """Block by block, with plain loops: AVG/MAX of |W| over what exists of each block."""
    height, width = resolve_block(weights.shape, *block)
    rows, cols = range(0, weights.shape[0], height), range(0, weights.shape[1], width)
    reduce = np.mean if pooling == "AVG" else np.max
    return np.array(
        [[reduce(np.abs(weights[r : r + height, c : c + width])) for c in cols] for r in rows]
    )


def blocks_of(array: np.ndarray, block: tuple[int, int]) -> list[np.ndarray]:
    height, width = resolve_block(array.shape, *block)
    return [
        array[r : r + height, c : c + width]
        for r in range(0, array.shape[0], height)
        for c in range(0, array.shape[1], width)
    ]


@pytest.mark.parametrize(("shape", "block", "pooling"), BLOCK_CASES)
def test_pooled_magnitudes_pool_each_block(shape, block, pooling) -> None:
    weights = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    pooled = pooled_magnitudes(weights, MaskSpec(block=block, pooling=pooling))
    np.testing.assert_allclose(pooled, reference_pooling(weights, block, pooling), rtol=1e-6)


@pytest.mark.parametrize("sparsity", [0.2, 0.5, 0.9])
@pytest.mark.parametrize(("shape", "block", "pooling"), BLOCK_CASES)
def test_block_masks_zero_whole_blocks_with_the_smallest_pooled_magnitude(
    shape, block, pooling, sparsity
) -> None:
    weights = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    spec = MaskSpec(block=block, pooling=pooling)
    mask, threshold = update_mask(weights, sparsity, 0.0, 0.0, spec)
    mask_blocks = blocks_of(mask, block)
    assert all(b.min() == b.max() for b in mask_blocks), "a block was split"
    pooled = pooled_magnitudes(weights, spec).ravel()  # row-major, like blocks_of
    kept = np.array([b[0, 0] == 1 for b in mask_blocks])
    assert pooled[~kept].max(initial=0.0) <= threshold < pooled[kept].min(initial=np.inf)
    height, width = resolve_block(shape, *block)
    nearest_whole_blocks = height * width / 2 / mask.size + 1e-12
    assert sparsity_of(mask) == pytest.approx(sparsity, abs=nearest_whole_blocks)


def test_block_pooling_choice_changes_which_blocks_go() -> None:
    # Block 0: one large weight among zeros; block 1: uniformly medium weights.
    weights = np.array([[4.0, 0.0, 1.5, 1.5], [0.0, 0.0, 1.5, 1.5]], dtype=np.float32)
    avg = mask_from_threshold(weights, 1.2, MaskSpec(block=(2, 2), pooling="AVG"))
    peak = mask_from_threshold(weights, 1.6, MaskSpec(block=(2, 2), pooling="MAX"))
    np.testing.assert_array_equal(avg, [[0, 0, 1, 1], [0, 0, 1, 1]])
    np.testing.assert_array_equal(peak, [[1, 1, 0, 0], [1, 1, 0, 0]])


@pytest.mark.parametrize(
    ("shape", "block", "resolved"),
    [
        ((6, 10), (-1, 4), (6, 4)),
        ((6, 10), (-1, -1), (6, 10)),
        ((6, 10), (8, 2), (6, 2)),
        ((6, 10), (1, 1), (1, 1)),
        ((3, 3, 8, 16), (2, 2), (1, 1)),  # blocks are for rank-2 weights only
        ((100,), (-1, 4), (1, 1)),
    ],
)
def test_resolve_block(shape, block, resolved) -> None:
    assert resolve_block(shape, *block) == resolved


@pytest.mark.parametrize("bad", [dict(block=(0, 2)), dict(pooling="MIN"), dict(m_by_n=(4, 4))])
def test_mask_spec_refuses_what_has_no_meaning(bad: dict) -> None:
    with pytest.raises(ValueError):
        MaskSpec(**bad)


def test_a_block_spec_on_a_conv_kernel_masks_element_wise() -> None:
    weights = np.random.default_rng(5).standard_normal((3, 3, 4, 8)).astype(np.float32)
    mask, _ = update_mask(weights, 0.5, 0.0, 0.0, MaskSpec(block=(2, 2)))
    elementwise, _ = update_mask(weights, 0.5, 0.0, 0.0, MaskSpec())
    np.testing.assert_array_equal(mask, elementwise)


M_BY_N_CASES = [
    ((2, 4), (16, 6), 0),
    ((1, 4), (16, 6), 0),
    ((4, 8), (16, 6), 0),
    ((2, 4), (3, 3, 8, 5), -2),
    ((1, 4), (3, 3, 8, 5), -2),
    ((4, 8), (3, 3, 16, 5), 2),
    ((2, 4), (6, 16), 1),
]


def groups_along(array: np.ndarray, axis: int, m: int) -> np.ndarray:
    """(groups, m): every run of m consecutive entries along `axis`."""
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(*moved.shape[:-1], -1, m).reshape(-1, m)


@pytest.mark.parametrize(("n_m", "shape", "axis"), M_BY_N_CASES)
def test_n_m_keeps_the_n_largest_of_every_group(n_m, shape, axis) -> None:
    n, m = n_m
    weights = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    mask, threshold = update_mask(weights, 0.3, 0.25, 0.9, MaskSpec(m_by_n=n_m, input_axis=axis))
    assert threshold == 0.25, "N:M leaves the threshold alone"
    magnitudes, kept = groups_along(np.abs(weights), axis, m), groups_along(mask, axis, m)
    assert np.all(kept.sum(axis=1) == n)
    smallest_kept = np.where(kept == 1, magnitudes, np.inf).min(axis=1)
    largest_pruned = np.where(kept == 0, magnitudes, -np.inf).max(axis=1)
    assert np.all(largest_pruned < smallest_kept)
    assert sparsity_of(mask) == 1 - n / m


@pytest.mark.parametrize(("n", "m"), [(2, 4), (1, 4), (4, 8)])
def test_n_m_keeps_exactly_n_even_when_weights_tie(n: int, m: int) -> None:
    weights = np.full((16, 3), 0.5, dtype=np.float32)
    mask = m_by_n_mask(weights, n, m, 0)
    assert np.all(groups_along(mask, 0, m).sum(axis=1) == n)


def test_n_m_trailing_short_group_keeps_its_n_largest() -> None:
    weights = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [0.5], [0.1]], dtype=np.float32)
    mask = m_by_n_mask(weights, 2, 4, 0)
    np.testing.assert_array_equal(mask.ravel(), [0, 0, 1, 1, 1, 1, 0])


def test_n_m_refuses_n_not_below_m() -> None:
    with pytest.raises(ValueError, match="N:M"):
        m_by_n_mask(np.ones((4, 4)), 4, 4, 0)


def test_mask_spec_for_reads_hparams() -> None:
    hparams = parse_hparams(
        {
            "block_height": 2,
            "block_width": -1,
            "block_pooling_function": "MAX",
            "block_dims_map": ["^dense_1/:1x4", "embedding:-1x2"],
        }
    )
    assert mask_spec_for(hparams, "dense_1/kernel", (8, 8)) == MaskSpec((1, 4), "MAX")
    assert mask_spec_for(hparams, "my_embedding/table", (50, 8)) == MaskSpec((50, 2), "MAX")
    assert mask_spec_for(hparams, "dense_2/kernel", (8, 6)) == MaskSpec((2, 6), "MAX")
    assert mask_spec_for(hparams, "conv/kernel", (3, 3, 4, 8), -2).block == (1, 1)
    m_by_n = parse_hparams({"sparsity_m_by_n": "2:4"})
    assert mask_spec_for(m_by_n, "conv/kernel", (3, 3, 4, 8), -2) == MaskSpec(
        m_by_n=(2, 4), input_axis=-2
    )


def test_a_weight_matched_by_two_block_entries_is_invalid_config() -> None:
    hparams = parse_hparams({"block_dims_map": ["dense:1x4", "kernel:2x2"]})
    with pytest.raises(InvalidConfig) as caught:
        mask_spec_for(hparams, "dense/kernel", (8, 8))
    assert caught.value.details[0]["field"] == "block_dims_map"


def test_a_layer_pruned_along_its_schedule_ends_at_its_target() -> None:
    """Schedule and masks together, as the trainer uses them (decay 0: no lag)."""
    hparams = parse_hparams({"threshold_decay": 0.0, "target_sparsity": 0.8})
    schedule, rng = PruningSchedule(hparams), np.random.default_rng(7)
    weights = rng.standard_normal((32, 16)).astype(np.float32)
    last, threshold = None, 0.0
    for step in range(150):
        if schedule.mask_update_due(step, last):
            mask, threshold = update_mask(
                weights, schedule.sparsity(step), threshold, 0.0, MaskSpec()
            )
            weights, last = weights * mask, step
            assert sparsity_of(weights) == round(512 * schedule.sparsity(step)) / 512
        weights = weights + rng.normal(0, 0.01, weights.shape).astype(np.float32) * (weights != 0)
    assert sparsity_of(weights) == round(512 * 0.8) / 512
