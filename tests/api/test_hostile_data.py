"""Issue 5's broken and hostile data, through the real API: an .npz that is not what it says is
refused at upload with nothing kept (`nothing_kept`), and data that does not fit the model's
signature is refused at job creation with no job made. (test_datasets.py holds the pickle,
missing-x_train and length cases; test_jobs_submit.py the shape and label-range ones.)"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, stored_rows, submit, upload
from tests.api.files import N_FEATURES, make_dataset, zip_dir
from tests.unit.inspection import model_builders as mb
from tests.unit.inspection.archive_builders import zip_with_undecodable_name

MiB = 1024**2


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def with_value(value: float, key: str = "x_train") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        x = np.ones((64, N_FEATURES), "float32")
        x[5, 3] = value
        arrays = {key: x} if key == "x_train" else {key: np.where(np.arange(64) == 7, value, 0.0)}
        return make_dataset(folder / "data.npz", **arrays)

    return build


def truncated(folder: Path) -> Path:
    whole = npy(np.ones((100, N_FEATURES), "float32"))
    members = {"x_train.npy": whole[: len(whole) // 2], "y_train.npy": npy(np.zeros(100, "int64"))}
    path = folder / "cut.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def raw_pickle(folder: Path) -> Path:
    path = folder / "data.npz"
    path.write_bytes(pickle.dumps({"x_train": [[1.0] * N_FEATURES], "y_train": [0]}))
    return path


def undecodable_key(folder: Path) -> Path:
    members = {
        "x_train.npy": npy(np.ones((8, N_FEATURES), "float32")),
        "y_train.npy": npy(np.zeros(8, "int64")),
        "extra_a.npy": npy(np.zeros(8)),
    }
    return zip_with_undecodable_name(folder / "data.npz", members, "extra_a")


def without_y_val(folder: Path) -> Path:
    path = folder / "data.npz"
    x = np.ones((16, N_FEATURES), "float32")
    np.savez(path, x_train=x, y_train=np.zeros(16, "int64"), x_val=x)
    return path


def not_an_array(folder: Path) -> Path:
    path = make_dataset(folder / "data.npz")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("payload.pkl", pickle.dumps(print))
    return path


# (builder, settings for the request, status, code, words of the reason)
DATASETS: dict[str, tuple[Callable[[Path], Path], dict[str, Any], int, str, str]] = {
    "nan-in-x_train": (with_value(np.nan), {}, 422, "non_finite_values", "NaN or infinite"),
    "inf-in-x_train": (with_value(-np.inf), {}, 422, "non_finite_values", "x_train"),
    "inf-in-y_train": (with_value(np.inf, "y_train"), {}, 422, "non_finite_values", "y_train"),
    "complex-numbers": (
        lambda d: make_dataset(d / "data.npz", x_train=np.ones((64, N_FEATURES), "complex64")),
        {},
        422,
        "invalid_npz",
        "not plain numbers (bool, int, float) or text",
    ),
    "x_val-without-y_val": (without_y_val, {}, 422, "missing_array", "y_val"),
    "truncated-array": (truncated, {}, 422, "invalid_npz", "shorter than its header"),
    "a-plain-pickle": (raw_pickle, {}, 415, "unsupported_file_type", ".npz"),
    "a-member-that-is-not-an-array": (not_an_array, {}, 422, "invalid_npz", "payload.pkl"),
    "member-name-not-utf8": (undecodable_key, {}, 422, "invalid_npz", "damaged"),
    "more-data-than-allowed": (
        lambda d: make_dataset(d / "data.npz", x_train=np.zeros((64, 2048), "float32")),
        {"max_extracted_bytes": 256 * 1024},
        413,
        "dataset_too_large",
        str(256 * 1024),
    ),
    "upload-over-the-cap": (
        lambda d: make_dataset(d / "data.npz"),
        {"max_upload_bytes": 1024},
        413,
        "upload_too_large",
        "1024",
    ),
}


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize("case", DATASETS)
def test_broken_datasets_are_refused(
    client: TestClient,
    tmp_path: Path,
    settings_update: Callable[[dict[str, Any]], None],
    case: str,
) -> None:
    build, settings, status, code, words = DATASETS[case]
    settings_update(settings)
    error = assert_error(upload(client, "datasets", build(tmp_path)), status, code)
    assert words in error["message"]


@pytest.fixture(scope="module")
def two_input_keras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs `tokens` (int32, 6 per example) and `extra` (float32, 3 per example)."""
    path = tmp_path_factory.mktemp("two_inputs") / "two_inputs.keras"
    mb.keras_two_inputs(two_outputs=False).save(path)
    return path


def two_input_data(folder: Path, **overrides: np.ndarray) -> Path:
    arrays = {
        "x_train__tokens": np.zeros((32, 6), "int32"),
        "x_train__extra": np.zeros((32, 3), "float32"),
        "y_train": np.zeros(32, "int64"),
    }
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value.size}
    path = folder / "two_inputs.npz"
    np.savez(path, **arrays)
    return path


MISFITS: dict[str, tuple[dict[str, np.ndarray], str, str]] = {
    "floats-for-an-int-input": (
        {"x_train__tokens": np.zeros((32, 6), "float32")},
        "dtype_mismatch",
        "astype('int32')",
    ),
    "an-input-missing": (
        {"x_train__extra": np.zeros(0)},
        "inputs_mismatch",
        "missing: x_train__extra",
    ),
    "text-for-an-int-input": (
        {"x_train__tokens": np.full((32, 6), "word")},
        "dtype_mismatch",
        "x_train__tokens is str",
    ),
    "an-array-for-no-input": (
        {"x_train__surplus": np.zeros((32, 2), "float32")},
        "inputs_mismatch",
        "not an input: x_train__surplus",
    ),
}


@pytest.mark.parametrize("case", MISFITS)
def test_data_that_misfits_the_signature_makes_no_job(
    client: TestClient, two_input_keras: Path, tmp_path: Path, case: str
) -> None:
    overrides, code, words = MISFITS[case]
    model = upload(client, "models", two_input_keras).json()["id"]
    dataset = upload(client, "datasets", two_input_data(tmp_path, **overrides)).json()["id"]
    before = stored_rows()
    response = submit(client, model, dataset, training={"validation_split": 0.25})
    error = assert_error(response, 422, code)
    assert words in error["message"]
    assert stored_rows() == before


def test_negative_labels_make_no_job(client: TestClient, model_id: str, tmp_path: Path) -> None:
    labels = np.arange(64) % 4 - 1
    dataset = upload(client, "datasets", make_dataset(tmp_path / "d.npz", y_train=labels))
    before = stored_rows()
    error = assert_error(submit(client, model_id, dataset.json()["id"]), 422, "label_out_of_range")
    assert "from -1 to 2" in error["message"] and "[0, 3]" in error["message"]
    assert stored_rows() == before


class FixedBatchClassifier(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.kernel = tf.Variable(tf.ones((N_FEATURES, 4)))

    @tf.function(input_signature=[tf.TensorSpec([8, N_FEATURES], tf.float32)])
    def __call__(self, features: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probs": tf.nn.softmax(features @ self.kernel)}


def _untrainable_models(folder: Path) -> dict[str, Path]:
    """Models the API accepts as uploads but no job can train through."""
    fixed = FixedBatchClassifier()
    tf.saved_model.save(fixed, str(folder / "fixed"), signatures=fixed.__call__)
    mb.keras_two_inputs().save(folder / "two_outputs.keras")
    return {
        "fixed-batch-dimension": zip_dir(folder / "fixed", folder / "fixed.zip"),
        "two-outputs": folder / "two_outputs.keras",
    }


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("fixed-batch-dimension", "fixed_batch_dimension", "fixed batch size of 8"),
        ("two-outputs", "unsupported_model", "2 outputs"),
    ],
)
def test_a_signature_the_engine_cannot_train_makes_no_job(
    client: TestClient, tmp_path: Path, case: str, code: str, words: str
) -> None:
    model = upload(client, "models", _untrainable_models(tmp_path)[case])
    assert model.status_code == 201, model.text
    dataset = upload(client, "datasets", make_dataset(tmp_path / "d.npz")).json()["id"]
    before = stored_rows()
    error = assert_error(submit(client, model.json()["id"], dataset), 422, code)
    assert words in error["message"]
    assert stored_rows() == before
