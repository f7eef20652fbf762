"""Does the data fit the model? One rule book, two sides: every case goes through the API's check
at job creation (the upload's descriptions) and the engine's check (the arrays themselves), and
both must give the same verdict, which is the one a user is told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.inspection import (
    ExtractLimits,
    ModelDescription,
    UploadRejected,
    check_dataset_fits,
    describe_dataset,
    inspect_model_upload,
)
from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.signatures import Signature, check_signature
from worker.pruning.data import prepare_data

from .archive_builders import zip_directory

SPARSE = "sparse_categorical_crossentropy"


def model(inputs: dict[str, Any], outputs: dict[str, Any], name="serving_default"):
    spec = lambda shape, dtype="float32": {"shape": shape, "dtype": dtype}  # noqa: E731
    return ModelDescription(
        format="saved_model",
        signatures={
            name: {
                "inputs": {k: spec(*v) for k, v in inputs.items()},
                "outputs": {k: spec(*v) for k, v in outputs.items()},
            }
        },
        prunable=[],
        params_total=0,
        params_prunable=0,
    )


def api_verdict(
    described: ModelDescription, npz: Path, loss: str, signature: str, split: float
) -> tuple[str | None, str]:
    try:
        check_dataset_fits(described, describe_dataset(npz), signature, loss, split)
    except UploadRejected as exc:
        assert exc.status == 422
        return exc.code, exc.message
    return None, ""


def engine_verdict(
    described: ModelDescription, npz: Path, loss: str, signature: str, split: float
) -> tuple[str | None, str]:
    signatures = {name: Signature.from_json(s) for name, s in described.signatures.items()}
    with np.load(npz, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    try:
        prepare_data(arrays, check_signature(signatures, signature), loss, split)
    except PruningError as exc:
        return exc.code, exc.message
    return None, ""


def verdict(
    tmp_path: Path,
    described: ModelDescription,
    loss: str = SPARSE,
    signature: str = "serving_default",
    validation_split: float = 0.1,
    **arrays: np.ndarray,
) -> tuple[str | None, str]:
    """The one verdict both sides give: (error code or None, message)."""
    npz = tmp_path / "data.npz"
    np.savez(npz, **arrays)
    api = api_verdict(described, npz, loss, signature, validation_split)
    engine = engine_verdict(described, npz, loss, signature, validation_split)
    assert api == engine, f"the API says {api}, the engine says {engine}"
    return api


IMAGE_MODEL = model({"image": ([None, 28, 28, 1],)}, {"probs": ([None, 10],)})
IMAGES = np.zeros((60, 28, 28, 1), "float32")
CLASSES = np.arange(60) % 10


def test_matching_data_fits(tmp_path):
    assert verdict(tmp_path, IMAGE_MODEL, x_train=IMAGES, y_train=CLASSES) == (None, "")


def test_unknown_signature_lists_the_existing_ones(tmp_path):
    code, message = verdict(
        tmp_path, IMAGE_MODEL, signature="predict", x_train=IMAGES, y_train=CLASSES
    )
    assert code == "unknown_signature"
    assert "'predict'" in message and "serving_default" in message


def test_a_fixed_batch_dimension_is_refused_with_the_fix(tmp_path):
    fixed = model({"image": ([32, 28, 28, 1],)}, {"probs": ([32, 10],)})
    code, message = verdict(tmp_path, fixed, x_train=IMAGES, y_train=CLASSES)
    assert code == "fixed_batch_dimension"
    assert "fixed batch size of 32" in message and "None batch dimension" in message


def test_a_signature_with_two_outputs_is_refused(tmp_path):
    two = model({"image": ([None, 28, 28, 1],)}, {"a": ([None, 10],), "b": ([None, 1],)})
    code, message = verdict(tmp_path, two, x_train=IMAGES, y_train=CLASSES)
    assert code == "unsupported_model" and "2 outputs" in message


def test_string_data_feeds_a_string_input_and_nothing_else(tmp_path):
    text = model({"text": ([None], "string")}, {"probs": ([None, 2],)})
    words = np.array(["a good film", "a bad film"] * 10)
    labels = np.arange(20) % 2
    assert verdict(tmp_path, text, x_train=words, y_train=labels) == (None, "")
    code, _ = verdict(tmp_path, text, x_train=np.zeros(20, "float32"), y_train=labels)
    assert code == "dtype_mismatch"
    code, _ = verdict(tmp_path, IMAGE_MODEL, x_train=np.full((60, 28, 28, 1), "x"), y_train=CLASSES)
    assert code == "dtype_mismatch"


def test_shape_mismatch_names_input_both_shapes_and_the_fix(tmp_path):
    code, message = verdict(tmp_path, IMAGE_MODEL, x_train=IMAGES[..., 0], y_train=CLASSES)
    assert code == "shape_mismatch"
    assert "input 'image'" in message
    assert "(28, 28)" in message and "(28, 28, 1)" in message
    assert "reshape x_train to (60, 28, 28, 1)" in message


def test_unknown_dimensions_match_anything(tmp_path):
    sequence_model = model({"x": ([None, None, 3],)}, {"y": ([None, 1],)})
    targets = np.linspace(-2.5, 4.0, 8, dtype="float32")
    found = verdict(
        tmp_path, sequence_model, "mse", x_train=np.zeros((8, 17, 3), "float32"), y_train=targets
    )
    assert found == (None, "")


def test_int_data_feeds_a_float_input(tmp_path):
    pixels = np.full((60, 28, 28, 1), 255, "uint8")
    assert verdict(tmp_path, IMAGE_MODEL, x_train=pixels, y_train=CLASSES) == (None, "")


def test_float_data_cannot_feed_an_int_input(tmp_path):
    token_model = model({"tokens": ([None, 6], "int32")}, {"y": ([None, 4],)})
    code, message = verdict(
        tmp_path, token_model, x_train=np.zeros((5, 6)), y_train=np.arange(5) % 4
    )
    assert code == "dtype_mismatch"
    assert "float64" in message and "int32" in message
    assert "x_train.astype('int32')" in message


@pytest.mark.parametrize("labels", [np.arange(60) % 11, np.arange(60) % 10 - 1])
def test_class_labels_outside_the_output_classes(tmp_path, labels):
    code, message = verdict(tmp_path, IMAGE_MODEL, x_train=IMAGES, y_train=labels)
    assert code == "label_out_of_range"
    assert "[0, 9]" in message


def test_one_hot_labels_fit_categorical_crossentropy_and_indices_do_not(tmp_path):
    one_hot = np.eye(10, dtype="float32")[CLASSES]
    loss = "categorical_crossentropy"
    assert verdict(tmp_path, IMAGE_MODEL, loss, x_train=IMAGES, y_train=one_hot) == (None, "")
    code, message = verdict(tmp_path, IMAGE_MODEL, loss, x_train=IMAGES, y_train=CLASSES)
    assert code == "label_shape_mismatch" and "one-hot" in message


def test_binary_output_takes_labels_as_a_column_or_a_vector(tmp_path):
    binary = model({"x": ([None, 4],)}, {"p": ([None, 1],)})
    x = np.zeros((9, 4), "float32")
    for labels in (np.arange(9) % 2, (np.arange(9) % 2)[:, None]):
        found = verdict(tmp_path, binary, "binary_crossentropy", x_train=x, y_train=labels)
        assert found == (None, "")


def test_regression_targets_must_match_the_output(tmp_path):
    regression = model({"x": ([None, 4],)}, {"y": ([None, 1],)})
    x = np.zeros((9, 4), "float32")
    assert verdict(tmp_path, regression, "mse", x_train=x, y_train=np.zeros(9)) == (None, "")
    code, message = verdict(tmp_path, regression, "mse", x_train=x, y_train=np.zeros((9, 3)))
    assert code == "label_shape_mismatch" and "(3)" in message


def test_validation_arrays_are_checked_too(tmp_path):
    code, message = verdict(
        tmp_path,
        IMAGE_MODEL,
        x_train=IMAGES,
        y_train=CLASSES,
        x_val=np.zeros((6, 28, 28, 3), "float32"),
        y_val=CLASSES[:6],
    )
    assert code == "shape_mismatch" and "x_val" in message


def test_a_validation_split_that_leaves_no_rows(tmp_path):
    code, message = verdict(
        tmp_path, IMAGE_MODEL, validation_split=0.001, x_train=IMAGES, y_train=CLASSES
    )
    assert code == "validation_split_impossible" and "x_val" in message


def test_several_inputs_need_one_array_each(tmp_path):
    two = model({"tokens": ([None, 6], "int32"), "extra": ([None, 3],)}, {"y": ([None, 2],)})
    code, message = verdict(
        tmp_path,
        two,
        x_train__tokens=np.ones((5, 6), "int32"),
        x_train__extra_typo=np.ones((5, 3), "float32"),
        y_train=np.arange(5) % 2,
    )
    assert code == "inputs_mismatch"
    assert "missing: x_train__extra" in message
    assert "not an input: x_train__extra_typo" in message


def test_real_models_against_real_datasets(built_models, tmp_path):
    archive = zip_directory(tmp_path / "cnn.zip", built_models["keras_export"])
    cnn = inspect_model_upload(archive, tmp_path / "w1", ExtractLimits(), "cnn.zip")
    two = inspect_model_upload(built_models["two_inputs.keras"], tmp_path / "w2", ExtractLimits())
    labels = np.arange(20) % 10
    found = verdict(tmp_path, cnn, x_train=np.zeros((20, 8, 8, 1), "float32"), y_train=labels)
    assert found == (None, "")
    code, _ = verdict(tmp_path, cnn, x_train=np.zeros((20, 64), "float32"), y_train=labels)
    assert code == "shape_mismatch"
    code, message = verdict(
        tmp_path,
        two,
        "mse",
        x_train__tokens=np.ones((5, 6), "int32"),
        x_train__extra=np.ones((5, 3), "float32"),
        y_train=np.ones((5, 1), "float32"),
    )
    assert code == "unsupported_model" and "score" in message and "klass" in message
