"""pruning_scope=global: one threshold over all prunable weights together."""

from __future__ import annotations

import numpy as np
import pytest

from worker.pruning.masks import (
    MaskSpec,
    kth_threshold,
    sparsity_of,
    update_mask,
    update_masks_global,
)


def layers_of_different_scales(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "small": (rng.standard_normal((40, 30)) * 0.1).astype(np.float32),
        "medium": rng.standard_normal((3, 3, 8, 16)).astype(np.float32),
        "large": (rng.standard_normal((64, 10)) * 10).astype(np.float64),
    }


def total_zeros(masks: dict[str, np.ndarray]) -> int:
    return sum(m.size - np.count_nonzero(m) for m in masks.values())


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.73, 0.95])
def test_global_target_is_met_exactly_while_layers_differ(sparsity: float) -> None:
    weights = layers_of_different_scales()
    size = sum(w.size for w in weights.values())
    masks, threshold = update_masks_global(weights, sparsity, 0.0, 0.0, {})
    assert total_zeros(masks) == round(size * sparsity)
    all_magnitudes = np.concatenate([np.abs(w).ravel() for w in weights.values()])
    assert threshold == kth_threshold(all_magnitudes, sparsity)
    achieved = {name: sparsity_of(mask) for name, mask in masks.items()}
    if 0.1 <= sparsity < 0.95:
        assert achieved["small"] > achieved["medium"] > achieved["large"]


def test_masks_keep_each_layers_shape_and_dtype() -> None:
    weights = layers_of_different_scales()
    masks, _ = update_masks_global(weights, 0.5, 0.0, 0.9, {})
    assert list(masks) == list(weights)
    for name, mask in masks.items():
        assert mask.shape == weights[name].shape
        assert mask.dtype == weights[name].dtype


def test_global_threshold_is_smoothed_like_a_layers() -> None:
    weights = layers_of_different_scales()
    _, exact = update_masks_global(weights, 0.6, 0.0, 0.0, {})
    _, smoothed = update_masks_global(weights, 0.6, 0.0, 0.9, {})
    _, next_smoothed = update_masks_global(weights, 0.6, smoothed, 0.9, {})
    assert smoothed == pytest.approx(0.1 * exact)
    assert next_smoothed == pytest.approx(0.19 * exact)


def test_one_layer_globally_is_the_same_as_per_layer() -> None:
    weights = layers_of_different_scales()["medium"]
    masks, threshold = update_masks_global({"only": weights}, 0.4, 0.2, 0.5, {})
    mask, layer_threshold = update_mask(weights, 0.4, 0.2, 0.5, MaskSpec())
    np.testing.assert_array_equal(masks["only"], mask)
    assert threshold == layer_threshold


def test_block_layers_count_their_elements_in_the_global_target() -> None:
    weights = layers_of_different_scales()
    specs = {"small": MaskSpec(block=(4, 3)), "large": MaskSpec(block=(1, -1), pooling="MAX")}
    masks, _ = update_masks_global(weights, 0.6, 0.0, 0.0, specs)
    size = sum(w.size for w in weights.values())
    assert total_zeros(masks) == pytest.approx(0.6 * size, abs=10 / 2)  # half the largest block
    for r in range(0, 40, 4):
        for c in range(0, 30, 3):
            block = masks["small"][r : r + 4, c : c + 3]
            assert block.min() == block.max()
    assert all(row.min() == row.max() for row in masks["large"])


def test_n_m_layers_keep_their_pattern_outside_the_global_threshold() -> None:
    weights = layers_of_different_scales()
    specs = {"medium": MaskSpec(m_by_n=(2, 4), input_axis=-2)}
    masks, _ = update_masks_global(weights, 0.3, 0.0, 0.0, specs)
    assert sparsity_of(masks["medium"]) == 0.5
    thresholded = weights["small"].size + weights["large"].size
    assert total_zeros({k: masks[k] for k in ("small", "large")}) == round(thresholded * 0.3)


def test_global_updates_never_revive_pruned_weights_or_touch_inputs() -> None:
    weights, rng = layers_of_different_scales(), np.random.default_rng(1)
    threshold = 0.0
    pruned = {name: np.zeros(w.shape, dtype=bool) for name, w in weights.items()}
    for sparsity in (0.3, 0.5, 0.7, 0.7):
        before = {name: w.copy() for name, w in weights.items()}
        masks, threshold = update_masks_global(weights, sparsity, threshold, 0.5, {})
        for name in weights:
            np.testing.assert_array_equal(weights[name], before[name])
            weights[name] = weights[name] * masks[name]
            pruned[name] |= weights[name] == 0
            assert not np.any(weights[name][pruned[name]])
            noise = rng.normal(0, 0.01, weights[name].shape) * masks[name]
            weights[name] = weights[name] + noise.astype(weights[name].dtype)
    size = sum(w.size for w in weights.values())
    assert 0.5 < sum(sparsity_of(w) * w.size for w in weights.values()) / size < 0.7
