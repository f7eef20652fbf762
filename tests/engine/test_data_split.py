"""The engine's data split and progress helpers (the data rules themselves are tested on both
sides in tests/unit/inspection/test_dataset_fit.py)."""

from __future__ import annotations

import numpy as np

from worker.pruning.contract.signatures import Signature, TensorInfo
from worker.pruning.data import prepare_data
from worker.pruning.progress import Throttle, json_safe

LOGITS = TensorInfo("logits", (None, 10), "float32")


def test_validation_split_is_fixed_and_disjoint() -> None:
    arrays = {"x_train": np.arange(50, dtype="float32")[:, None], "y_train": np.arange(50) % 10}
    signature = Signature((TensorInfo("x", (None, 1), "float32"),), (LOGITS,))
    first = prepare_data(arrays, signature, "sparse_categorical_crossentropy", 0.2)
    again = prepare_data(arrays, signature, "sparse_categorical_crossentropy", 0.2)
    assert len(first.val) == 10 and len(first.train) == 40
    val_x, _ = first.val.take(slice(None))
    np.testing.assert_array_equal(val_x["x"], again.val.take(slice(None))[0]["x"])
    assert not set(val_x["x"].ravel()) & set(first.train.take(slice(None))[0]["x"].ravel())


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
