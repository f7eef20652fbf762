"""The data rules on shapes and dtypes alone (what the API can check from an .npz header)."""

from __future__ import annotations

import numpy as np
import pytest

from worker.pruning.data import prepare_data
from worker.pruning.data_fit import check_input, check_labels
from worker.pruning.errors import PruningError
from worker.pruning.progress import Throttle, json_safe
from worker.pruning.prunable_model import Signature, TensorInfo

IMAGE = TensorInfo("image", (None, 8, 8, 1), "float32")
TOKENS = TensorInfo("tokens", (None, 5), "int32")
LOGITS = TensorInfo("logits", (None, 10), "float32")


@pytest.mark.parametrize(
    ("shape", "dtype", "spec"),
    [
        ((4, 8, 8, 1), "float64", IMAGE),
        ((4, 8, 8, 1), "uint8", IMAGE),
        ((4, 5), "int64", TOKENS),
        ((4, 5), "bool", TOKENS),
        ((4, 3), "float32", TensorInfo("any", None, "float32")),
    ],
)
def test_data_that_fits(shape, dtype, spec) -> None:
    check_input("x_train", shape, np.dtype(dtype), spec)


@pytest.mark.parametrize(
    ("shape", "dtype", "spec", "says"),
    [
        ((4, 8, 8), "float32", IMAGE, "shape [8, 8]"),
        ((4, 8, 8, 3), "float32", IMAGE, "[None, 8, 8, 1]"),
        ((4, 5), "float32", TOKENS, "dtype float32"),
        ((4, 5), "<U3", TOKENS, "of dtype int32"),
        ((4, 5), "int32", TensorInfo("ids", (1, 5), "int32"), "fixed batch size of 1"),
    ],
)
def test_data_that_does_not_fit(shape, dtype, spec, says) -> None:
    with pytest.raises(PruningError) as caught:
        check_input("x_train", shape, np.dtype(dtype), spec)
    assert caught.value.code == "data_mismatch"
    assert says in caught.value.message and repr(spec.name) in caught.value.message


def test_labels_fit_the_loss_and_output() -> None:
    check_labels("y_train", np.array([0, 9]), "sparse_categorical_crossentropy", LOGITS)
    check_labels("y_train", np.zeros((2, 10)), "categorical_crossentropy", LOGITS)
    check_labels(
        "y_train", np.zeros(2), "binary_crossentropy", TensorInfo("p", (None, 1), "float32")
    )
    for labels, loss in [
        (np.zeros((2, 10)), "sparse_categorical_crossentropy"),
        (np.zeros((2, 3)), "categorical_crossentropy"),
        (np.array([0, 10]), "sparse_categorical_crossentropy"),
    ]:
        with pytest.raises(PruningError, match="y_train"):
            check_labels("y_train", labels, loss, LOGITS)


def test_validation_split_is_fixed_and_disjoint() -> None:
    arrays = {"x_train": np.arange(50, dtype="float32")[:, None], "y_train": np.arange(50) % 10}
    signature = Signature((TensorInfo("x", (None, 1), "float32"),), (LOGITS,))
    first = prepare_data(arrays, signature, "sparse_categorical_crossentropy", 0.2)
    again = prepare_data(arrays, signature, "sparse_categorical_crossentropy", 0.2)
    assert len(first.val) == 10 and len(first.train) == 40
    np.testing.assert_array_equal(first.val.x["x"], again.val.x["x"])
    assert not set(first.val.x["x"].ravel()) & set(first.train.x["x"].ravel())


def test_progress_helpers() -> None:
    assert json_safe({"loss": float("nan"), "layers": [float("inf"), 1.0]}) == {
        "loss": None,
        "layers": [None, 1.0],
    }
    now = [0.0]
    throttle = Throttle(0.5, clock=lambda: now[0])
    now[0] = 0.4
    assert not throttle.due()
    now[0] = 0.6
    assert throttle.due() and not throttle.due()
