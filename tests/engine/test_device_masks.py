"""The device mask maths (run here on the CPU) gives masks.py's thresholds and masks bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from worker.pruning import device_masks, masks
from worker.pruning.masks import MaskSpec

SPECS = [
    ((3, 3, 8, 16), MaskSpec()),
    ((64, 10), MaskSpec()),
    ((12, 16), MaskSpec(block=(2, 4), pooling="MAX")),
    ((13, 18), MaskSpec(block=(4, 4), pooling="MAX")),  # partial edge blocks: weighted k-th
    ((10, 9), MaskSpec(block=(1, 9), pooling="MAX")),
]
SPARSITIES = [0.0, 0.1, 0.5, 0.77, 0.9, 1.0]


def weights_of(shape: tuple[int, ...], seed: int, zeros: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape).astype(np.float32)
    values[rng.random(shape) < zeros] = 0.0  # already pruned
    values.flat[::7] = values.flat[3]  # ties
    return values


def bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize(("shape", "spec"), SPECS)
@pytest.mark.parametrize("sparsity", SPARSITIES)
@pytest.mark.parametrize("zeros", [0.0, 0.6])
def test_layer_masks_equal_the_numpy_path(
    shape: tuple[int, ...], spec: MaskSpec, sparsity: float, zeros: float
) -> None:
    weights = weights_of(shape, 0, zeros)
    for old, decay in [(0.0, 0.0), (0.3, 0.5), (0.123456789, 0.9)]:
        expected_mask, expected = masks.update_mask(weights, sparsity, old, decay, spec)
        mask, threshold = device_masks.update_mask(tf.constant(weights), sparsity, old, decay, spec)
        assert bits(np.float64(threshold)) == bits(np.float64(expected))
        assert bits(mask.numpy()) == bits(expected_mask)


def test_threshold_between_float32_values_keeps_what_numpy_keeps() -> None:
    weights = np.array([[0.1, 0.2, 0.30000001, 0.3, 0.4]], np.float32)
    for threshold in [0.3, float(np.float32(0.3)), 0.30000000001, 0.29999999999]:
        expected = masks.mask_from_threshold(weights, threshold, MaskSpec())
        got = device_masks.mask_from_pooled(
            tf.abs(tf.constant(weights)), threshold, tf.constant(weights), MaskSpec()
        )
        assert bits(got.numpy()) == bits(expected)


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_global_masks_equal_the_numpy_path(sparsity: float) -> None:
    arrays = {str(i): weights_of(shape, i, 0.3) for i, (shape, _) in enumerate(SPECS)}
    specs = {str(i): spec for i, (_, spec) in enumerate(SPECS)}
    expected, expected_threshold = masks.update_masks_global(arrays, sparsity, 0.2, 0.5, specs)
    got, threshold = device_masks.update_masks_global(
        [tf.constant(a) for a in arrays.values()], sparsity, 0.2, 0.5, list(specs.values())
    )
    assert bits(np.float64(threshold)) == bits(np.float64(expected_threshold))
    for name, mask in zip(arrays, got, strict=True):
        assert bits(mask.numpy()) == bits(expected[name])


def test_avg_blocks_and_m_by_n_stay_on_the_numpy_path() -> None:
    assert device_masks.supports(MaskSpec(), (3, 3))
    assert device_masks.supports(MaskSpec(block=(2, 2), pooling="MAX"), (4, 4))
    assert not device_masks.supports(MaskSpec(block=(2, 2), pooling="AVG"), (4, 4))
    assert not device_masks.supports(MaskSpec(m_by_n=(2, 4)), (4, 4))
