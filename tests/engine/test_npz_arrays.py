"""The trainer never holds a copy of the whole dataset: the .npz is memory-mapped, the
validation split is row indices into it, and batches are read and cast one at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.signatures import Signature, TensorInfo
from worker.pruning.data import load_npz, prepare_data
from worker.pruning.npz_arrays import MAP_FROM_BYTES

ROWS = MAP_FROM_BYTES // 8 + 1  # float64 rows of one feature: just above the mapping size


def _arrays() -> dict[str, np.ndarray]:
    x = np.arange(ROWS * 2, dtype=np.float64).reshape(ROWS, 2)
    return {
        "x_train": x,
        "x_fortran": np.asfortranarray(x),
        "y_train": np.arange(ROWS) % 10,
        "small": np.arange(5, dtype=np.int32),
    }


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_large_arrays_are_memory_mapped_with_their_values(save, tmp_path: Path) -> None:
    arrays = _arrays()
    save(tmp_path / "data.npz", **arrays)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    loaded = load_npz(str(tmp_path / "data.npz"), str(scratch))
    assert sorted(loaded) == sorted(arrays)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key], array)
        assert loaded[key].dtype == array.dtype
    assert isinstance(loaded["x_train"], np.memmap)
    assert isinstance(loaded["x_fortran"], np.memmap)
    assert loaded["x_fortran"].flags.f_contiguous
    assert bool(list(scratch.iterdir())) == (save is np.savez_compressed)


def test_arrays_of_objects_are_refused_even_when_large(tmp_path: Path) -> None:
    texts = np.array([f"{i:064d}" for i in range(40000)], dtype=object)  # pickled: > 1 MiB
    np.savez(tmp_path / "data.npz", x_train=texts)
    with pytest.raises(PruningError) as refused:
        load_npz(str(tmp_path / "data.npz"), str(tmp_path))
    assert refused.value.code == "invalid_data"


def test_splits_are_rows_of_the_mapped_file_cast_a_batch_at_a_time(tmp_path: Path) -> None:
    arrays = _arrays()
    np.savez(tmp_path / "data.npz", x_train=arrays["x_train"], y_train=arrays["y_train"])
    loaded = load_npz(str(tmp_path / "data.npz"), str(tmp_path))
    signature = Signature(
        (TensorInfo("x", (None, 2), "float32"),), (TensorInfo("logits", (None, 10), "float32"),)
    )
    data = prepare_data(loaded, signature, "sparse_categorical_crossentropy", 0.25)

    for split in (data.train, data.val):
        assert split.x["x"] is loaded["x_train"]  # no copy, no cast of the whole array
    assert len(data.val) == round(ROWS * 0.25) and len(data.train) + len(data.val) == ROWS
    assert not set(data.train.rows) & set(data.val.rows)
    x, y = data.val.take(slice(0, 3))
    assert x["x"].dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x["x"], arrays["x_train"][data.val.rows[:3]])
    np.testing.assert_array_equal(y, arrays["y_train"][data.val.rows[:3]])
