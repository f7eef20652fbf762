"""Datasets described from .npz headers and a chunked scan; good and bad files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.inspection import DatasetDescription, UploadRejected, describe_dataset, npy_arrays


def npz(tmp_path: Path, compressed: bool = False, **arrays: np.ndarray) -> Path:
    path = tmp_path / "data.npz"
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def rejected(path: Path) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        describe_dataset(path)
    return caught.value


def test_train_and_val_arrays_are_described(tmp_path):
    rng = np.random.default_rng(0)
    path = npz(
        tmp_path,
        x_train=rng.normal(size=(50, 8, 8, 1)).astype("float32"),
        y_train=np.arange(50) % 10,
        x_val=np.zeros((7, 8, 8, 1), "float32"),
        y_val=np.full(7, 3, "int64"),
    )
    described = describe_dataset(path)
    assert (described.n_train, described.n_val) == (50, 7)
    assert described.arrays["x_train"]["shape"] == [50, 8, 8, 1]
    assert described.arrays["x_train"]["dtype"] == "float32"
    assert described.arrays["y_train"] == {"shape": [50], "dtype": "int64", "min": 0, "max": 9}
    assert DatasetDescription.from_dict(described.to_dict()) == described


def test_without_validation_arrays_n_val_is_zero(tmp_path):
    described = describe_dataset(npz(tmp_path, x_train=np.ones((4, 2)), y_train=np.ones(4)))
    assert (described.n_train, described.n_val) == (4, 0)


def test_multi_input_keys(tmp_path):
    path = npz(
        tmp_path,
        compressed=True,
        x_train__tokens=np.ones((5, 6), "int32"),
        x_train__extra=np.ones((5, 3), "float32"),
        y_train=np.ones((5, 1), "float32"),
    )
    described = describe_dataset(path)
    assert set(described.arrays) == {"x_train__tokens", "x_train__extra", "y_train"}
    assert described.n_train == 5


def test_values_are_scanned_in_chunks_across_the_whole_array(tmp_path, monkeypatch):
    monkeypatch.setattr(npy_arrays, "SCAN_CHUNK_BYTES", 64)
    x = np.zeros((100, 3), "float64")
    x[99, 2] = np.nan  # in the last of many chunks
    error = rejected(npz(tmp_path, x_train=x, y_train=np.zeros(100)))
    assert (error.status, error.code) == (422, "non_finite_values")
    assert error.details == {"array": "x_train", "flat_index": 299}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_values_are_refused(tmp_path, bad):
    x = np.ones((10, 2), "float32")
    x[3, 1] = bad
    error = rejected(npz(tmp_path, x_train=x, y_train=np.zeros(10)))
    assert error.code == "non_finite_values" and "'x_train'" in error.message


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    objects = np.array([{"__reduce__": "os.system"}, None], dtype=object)
    error = rejected(npz(tmp_path, x_train=objects, y_train=np.zeros(2)))
    assert (error.status, error.code) == (422, "object_array")
    assert "pickled/object arrays are not accepted" in error.message


@pytest.mark.parametrize("missing", ["x_train", "y_train"])
def test_missing_training_arrays(tmp_path, missing):
    arrays = {"x_train": np.ones((3, 2)), "y_train": np.ones(3)}
    del arrays[missing]
    error = rejected(npz(tmp_path, **arrays))
    assert (error.status, error.code) == (422, "missing_array")
    assert missing in error.message


def test_validation_inputs_without_labels(tmp_path):
    path = npz(tmp_path, x_train=np.ones((3, 2)), y_train=np.ones(3), x_val=np.ones((2, 2)))
    error = rejected(path)
    assert error.code == "missing_array" and "y_val" in error.message


def test_length_mismatch_between_x_and_y(tmp_path):
    error = rejected(npz(tmp_path, x_train=np.ones((10, 2)), y_train=np.ones(9)))
    assert (error.status, error.code) == (422, "length_mismatch")
    assert "x_train has 10 rows" in error.message and "y_train has 9 rows" in error.message


def test_text_arrays_are_described_for_string_inputs(tmp_path):
    described = describe_dataset(npz(tmp_path, x_train=np.array(["ab", "c"]), y_train=np.ones(2)))
    assert described.arrays["x_train"] == {"shape": [2], "dtype": "str64", "min": None, "max": None}


def test_structured_arrays_are_refused(tmp_path):
    records = np.zeros(2, dtype=[("a", "f4"), ("b", "i4")])
    error = rejected(npz(tmp_path, x_train=records, y_train=np.ones(2)))
    assert error.code == "invalid_npz"


def test_not_an_npz(tmp_path):
    path = tmp_path / "data.npz"
    path.write_bytes(b"x_train,y_train\n1,2\n")
    error = rejected(path)
    assert (error.status, error.code) == (415, "unsupported_file_type")


def test_truncated_array_data(tmp_path):
    source = npz(tmp_path, x_train=np.ones((100, 4)), y_train=np.ones(100))
    with zipfile.ZipFile(source) as zf:
        x_bytes, y_bytes = zf.read("x_train.npy"), zf.read("y_train.npy")
    cut = tmp_path / "cut.npz"
    with zipfile.ZipFile(cut, "w") as zf:
        zf.writestr("x_train.npy", x_bytes[: len(x_bytes) // 2])
        zf.writestr("y_train.npy", y_bytes)
    error = rejected(cut)
    assert error.code == "invalid_npz" and "shorter than its header" in error.message


def test_declared_size_over_the_cap(tmp_path):
    path = npz(tmp_path, compressed=True, x_train=np.zeros((1000, 100)), y_train=np.zeros(1000))
    with pytest.raises(UploadRejected) as caught:
        describe_dataset(path, max_data_bytes=100_000)
    assert (caught.value.status, caught.value.code) == (413, "dataset_too_large")
