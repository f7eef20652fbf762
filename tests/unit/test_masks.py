"""The mask maths: PRUNING.md section 3, every mask kind through the same tests."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from worker.pruning.masks import (
    MaskSpec,
    block_sizes,
    kth_threshold,
    mask_from_threshold,
    pooled_magnitudes,
    smooth_threshold,
    sparsity_of,
    update_mask,
)

MASK_KINDS: dict[str, MaskSpec] = {
    "elementwise": MaskSpec(),
    "block_avg": MaskSpec(block=(2, 4)),
    "block_max": MaskSpec(block=(3, 2), pooling="MAX"),
    "block_rows": MaskSpec(block=(1, -1)),
    "m_by_n_2_4": MaskSpec(m_by_n=(2, 4)),
    "m_by_n_1_4_conv_axis": MaskSpec(m_by_n=(1, 4), input_axis=-2),
}


def distinct_weights(shape: tuple[int, ...], seed: int = 0, dtype: type = np.float32) -> np.ndarray:
    """Weights whose magnitudes 1..size are all different, in random order and sign."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    values = rng.permutation(np.arange(1, size + 1)) * rng.choice([-1, 1], size)
    return (values / size).astype(dtype).reshape(shape)


def shape_for(kind: str) -> tuple[int, ...]:
    """Shapes with partial edge blocks; N:M groups fill the input axis."""
    if kind.endswith("conv_axis"):
        return (3, 3, 12, 5)
    return (12, 20) if kind.startswith("m_by_n") else (13, 22)


def block_tolerance(spec: MaskSpec, weights: np.ndarray) -> float:
    """Blocks are zeroed whole: the achieved sparsity is the nearest a whole block allows."""
    if spec.m_by_n or spec.block == (1, 1):
        return 0.0
    height, width = (
        size if dim == -1 else dim for dim, size in zip(spec.block, weights.shape, strict=True)
    )
    return height * width / 2 / weights.size + 1e-12


def expected_sparsity(spec: MaskSpec, sparsity: float, size: int) -> float:
    return 1 - spec.m_by_n[0] / spec.m_by_n[1] if spec.m_by_n else round(size * sparsity) / size


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_mask_is_zeros_and_ones_of_the_weights_shape_and_dtype(kind: str, dtype: type) -> None:
    weights = distinct_weights(shape_for(kind), dtype=dtype)
    mask, threshold = update_mask(weights, 0.5, 0.0, 0.0, MASK_KINDS[kind])
    assert mask.shape == weights.shape
    assert mask.dtype == weights.dtype
    assert set(np.unique(mask)) == {0, 1}
    assert threshold >= 0.0


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_update_does_not_touch_its_input(kind: str) -> None:
    weights = distinct_weights(shape_for(kind))
    before = weights.copy()
    update_mask(weights, 0.7, 0.1, 0.5, MASK_KINDS[kind])
    np.testing.assert_array_equal(weights, before)


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.8])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_achieved_sparsity_meets_the_target_without_smoothing(kind: str, sparsity: float) -> None:
    spec, weights = MASK_KINDS[kind], distinct_weights(shape_for(kind))
    mask, _ = update_mask(weights, sparsity, 0.0, 0.0, spec)
    assert sparsity_of(mask) == pytest.approx(
        expected_sparsity(spec, sparsity, weights.size), abs=block_tolerance(spec, weights)
    )


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_pruned_weights_stay_zero_over_repeated_updates(kind: str) -> None:
    spec, rng = MASK_KINDS[kind], np.random.default_rng(1)
    weights = distinct_weights(shape_for(kind))
    threshold, ever_zero = 0.0, np.zeros(weights.shape, dtype=bool)
    for sparsity in (0.2, 0.4, 0.5, 0.6, 0.6, 0.7):
        mask, threshold = update_mask(weights, sparsity, threshold, 0.5, spec)
        weights = weights * mask
        ever_zero |= weights == 0
        assert not np.any(weights[ever_zero]), "a pruned weight came back"
        # Training as the engine does it: only unmasked weights move.
        weights = weights + rng.normal(0, 0.05, weights.shape).astype(weights.dtype) * mask
    assert sparsity_of(weights) > 0.4


@pytest.mark.parametrize("kind", ["elementwise", "m_by_n_2_4"])
def test_weights_that_are_already_zero_are_never_kept(kind: str) -> None:
    weights = distinct_weights((8, 16))
    weights[:, ::3] = 0.0
    weights[1, 1] = -0.0
    mask, _ = update_mask(weights, 0.0, 0.0, 0.9, MASK_KINDS[kind])
    assert not np.any(mask[weights == 0])


@pytest.mark.parametrize("shape", [(10,), (7, 13), (3, 3, 8, 16), (1000,), (64, 33)])
@pytest.mark.parametrize("sparsity", [0.0, 0.01, 0.1, 0.25, 0.5, 0.77, 0.9, 0.99, 1.0])
def test_exactly_k_smallest_weights_are_zeroed(shape: tuple[int, ...], sparsity: float) -> None:
    weights = distinct_weights(shape)
    k = round(weights.size * sparsity)
    threshold = kth_threshold(np.abs(weights), sparsity)
    mask = mask_from_threshold(weights, threshold, MaskSpec())
    assert weights.size - np.count_nonzero(mask) == k
    assert threshold == (0.0 if k == 0 else np.sort(np.abs(weights), axis=None)[k - 1])
    if 0 < k < weights.size:
        assert np.abs(weights[mask == 0]).max() < np.abs(weights[mask == 1]).min()
    via_update, _ = update_mask(weights, sparsity, 0.0, 0.0, MaskSpec())
    np.testing.assert_array_equal(via_update, mask)


def test_k_is_rounded_like_contrib() -> None:
    magnitudes = np.arange(1.0, 11.0)  # 10 entries
    assert kth_threshold(magnitudes, 0.04) == 0.0  # k = round(0.4) = 0
    assert kth_threshold(magnitudes, 0.06) == 1.0  # k = round(0.6) = 1
    assert kth_threshold(magnitudes, 0.29) == 3.0  # 10 * 0.29 = 2.9999999999999996
    assert kth_threshold(magnitudes.reshape(2, 5), 0.5) == 5.0


def test_kth_threshold_leaves_its_input_alone() -> None:
    magnitudes = np.abs(distinct_weights((50,)))
    before = magnitudes.copy()
    kth_threshold(magnitudes, 0.5)
    kth_threshold(magnitudes.T, 0.5, np.full(50, 3))
    np.testing.assert_array_equal(magnitudes, before)


def test_block_size_weights_count_elements_not_entries() -> None:
    pooled = np.array([0.1, 0.2, 0.3, 0.4])
    sizes = np.array([1, 1, 6, 2])  # 10 elements
    assert kth_threshold(pooled, 0.2, sizes) == 0.2  # 2 elements: the two single ones
    assert kth_threshold(pooled, 0.5, sizes) == 0.2  # 5 elements: 2 and 8 tie, prune less
    assert kth_threshold(pooled, 0.6, sizes) == 0.3  # 6 elements: 8 is nearer than 2
    assert kth_threshold(pooled, 0.3, sizes) == 0.2  # 3: 2 is nearer than 8
    assert kth_threshold(pooled, 0.9, sizes) == 0.3  # 9: 8 is nearer than 10
    assert kth_threshold(pooled, 0.04, sizes) == 0.0
    uniform = np.full(4, 4)  # 16 elements in blocks of 4
    assert kth_threshold(pooled, 0.3, uniform) == 0.1  # round(4.8)=5 elements: 1 block
    assert kth_threshold(pooled, 0.45, uniform) == 0.2  # round(7.2)=7 elements: 2 blocks
    assert kth_threshold(pooled, 0.375, uniform) == 0.1  # 6 elements: 4 and 8 tie


@pytest.mark.parametrize("sparsity", [-0.1, 1.1])
def test_sparsity_outside_zero_one_is_refused(sparsity: float) -> None:
    with pytest.raises(ValueError, match="sparsity"):
        kth_threshold(np.ones(4), sparsity)


def test_smoothing_is_contribs_formula() -> None:
    assert smooth_threshold(0.0, 1.0, 0.9) == pytest.approx(0.1)
    assert smooth_threshold(2.0, 1.0, 0.9) == pytest.approx(1.9)
    assert smooth_threshold(0.3, 0.7, 0.0) == 0.7


@pytest.mark.parametrize("kind", ["elementwise", "block_avg", "block_max"])
def test_threshold_decay_makes_achieved_sparsity_lag_the_target(kind: str) -> None:
    spec, weights = MASK_KINDS[kind], distinct_weights((16, 24))
    exact = kth_threshold(pooled_magnitudes(weights, spec), 0.8)
    threshold = 0.0
    achieved = []
    for update in range(1, 61):
        mask, threshold = update_mask(weights, 0.8, threshold, 0.9, spec)
        # The k-th smallest is unchanged by pruning smaller weights, so the lag is 0.9 ** n.
        assert threshold == pytest.approx((1 - 0.9**update) * exact)
        achieved.append(sparsity_of(weights * mask))
        weights = weights * mask
    assert achieved[0] < 0.2
    assert all(a <= b for a, b in zip(achieved, achieved[1:], strict=False))
    assert achieved[-1] < 0.8
    assert achieved[-1] == pytest.approx(0.8, abs=0.05)


@pytest.mark.parametrize("kind", ["elementwise", "block_avg", "block_max"])
def test_without_decay_the_first_update_reaches_the_target(kind: str) -> None:
    weights = distinct_weights((16, 24))
    spec = MASK_KINDS[kind]
    mask, threshold = update_mask(weights, 0.75, 0.0, 0.0, spec)
    assert sparsity_of(mask) == pytest.approx(0.75, abs=block_tolerance(spec, weights))
    block = spec.block_for(weights.shape)
    sizes = None if block is None else block_sizes(weights.shape, block)
    assert threshold == kth_threshold(pooled_magnitudes(weights, spec), 0.75, sizes)


def test_sparsity_of_counts_exact_zeros() -> None:
    assert sparsity_of(np.array([0.0, -0.0, 1e-30, 2.0])) == 0.5
    assert sparsity_of(np.zeros((3, 3), dtype=np.float16)) == 1.0
    assert sparsity_of(np.array([np.nan, 0.0])) == 0.5
    assert sparsity_of(np.zeros(0)) == 0.0


def test_a_large_layer_updates_with_few_copies() -> None:
    # Speed is measured in bench/mask_update.py; here only the memory bound, which is exact.
    weights = np.random.default_rng(0).standard_normal(10_000_000, dtype=np.float32)
    update_mask(weights, 0.5, 0.0, 0.0, MaskSpec())  # warm up
    tracemalloc.start()
    mask, threshold = update_mask(weights, 0.9, 0.0, 0.9, MaskSpec())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 1.5 * weights.nbytes  # the mask itself is the only full-size buffer
    magnitudes = np.abs(weights)
    exact = np.partition(magnitudes, 9_000_000 - 1)[9_000_000 - 1]
    assert threshold == pytest.approx(0.1 * exact)
    assert np.count_nonzero(mask == 0) == np.count_nonzero(magnitudes <= threshold)
