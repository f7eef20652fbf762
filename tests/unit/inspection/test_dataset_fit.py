"""check_dataset_fits: the 422s a job gets at creation when its data cannot feed the model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.inspection import (
    DatasetDescription,
    ExtractLimits,
    ModelDescription,
    UploadRejected,
    check_dataset_fits,
    describe_dataset,
    inspect_model_upload,
)

from .archive_builders import zip_directory


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


def data(**arrays: tuple) -> DatasetDescription:
    """arrays: key=(shape, dtype[, min, max])."""
    described = {
        key: {
            "shape": list(v[0]),
            "dtype": v[1],
            "min": v[2] if len(v) > 2 else 0,
            "max": v[3] if len(v) > 3 else 1,
        }
        for key, v in arrays.items()
    }
    n_val = described["y_val"]["shape"][0] if "y_val" in described else 0
    return DatasetDescription(described, described["y_train"]["shape"][0], n_val)


IMAGE_MODEL = model({"image": ([None, 28, 28, 1],)}, {"probs": ([None, 10],)})


def refusal(model_description, dataset, signature="serving_default", classification=True):
    with pytest.raises(UploadRejected) as caught:
        check_dataset_fits(model_description, dataset, signature, classification)
    assert caught.value.status == 422
    return caught.value


def test_matching_data_fits():
    dataset = data(x_train=((60, 28, 28, 1), "float32"), y_train=((60,), "int64", 0, 9))
    check_dataset_fits(IMAGE_MODEL, dataset, "serving_default", True)


def test_unknown_signature_lists_the_existing_ones():
    dataset = data(x_train=((60, 28, 28, 1), "float32"), y_train=((60,), "int64", 0, 9))
    error = refusal(IMAGE_MODEL, dataset, signature="predict")
    assert error.code == "unknown_signature"
    assert "'predict'" in error.message and "serving_default" in error.message


def test_shape_mismatch_names_input_both_shapes_and_the_fix():
    dataset = data(x_train=((60, 28, 28), "float32"), y_train=((60,), "int64", 0, 9))
    error = refusal(IMAGE_MODEL, dataset)
    assert error.code == "shape_mismatch"
    assert "input 'image'" in error.message
    assert "(28, 28)" in error.message and "(28, 28, 1)" in error.message
    assert "reshape x_train to (60, 28, 28, 1)" in error.message


def test_unknown_dimensions_match_anything():
    sequence_model = model({"x": ([None, None, 3],)}, {"y": ([None, 1],)})
    dataset = data(x_train=((8, 17, 3), "float32"), y_train=((8,), "float32", -2.5, 4.0))
    check_dataset_fits(sequence_model, dataset, "serving_default", False)


def test_int_data_feeds_a_float_input():
    dataset = data(x_train=((60, 28, 28, 1), "uint8", 0, 255), y_train=((60,), "int64", 0, 9))
    check_dataset_fits(IMAGE_MODEL, dataset, "serving_default", True)


def test_float_data_cannot_feed_an_int_input():
    token_model = model({"tokens": ([None, 6], "int32")}, {"y": ([None, 4],)})
    dataset = data(x_train=((5, 6), "float64"), y_train=((5,), "int64", 0, 3))
    error = refusal(token_model, dataset)
    assert error.code == "dtype_mismatch"
    assert "float64" in error.message and "int32" in error.message
    assert "x_train.astype('int32')" in error.message


def test_class_labels_beyond_the_output_classes():
    dataset = data(x_train=((60, 28, 28, 1), "float32"), y_train=((60,), "int64", 0, 10))
    error = refusal(IMAGE_MODEL, dataset)
    assert error.code == "label_out_of_range"
    assert "from 0 to 10" in error.message and "[0, 9]" in error.message


def test_negative_class_labels():
    dataset = data(x_train=((60, 28, 28, 1), "float32"), y_train=((60, 1), "int32", -1, 3))
    assert refusal(IMAGE_MODEL, dataset).code == "label_out_of_range"


def test_one_hot_labels_fit():
    dataset = data(x_train=((60, 28, 28, 1), "float32"), y_train=((60, 10), "float32", 0, 1))
    check_dataset_fits(IMAGE_MODEL, dataset, "serving_default", True)


@pytest.mark.parametrize(("high", "fits"), [(1, True), (2, False)])
def test_binary_output_takes_labels_0_and_1(high, fits):
    binary = model({"x": ([None, 4],)}, {"p": ([None, 1],)})
    dataset = data(x_train=((9, 4), "float32"), y_train=((9,), "int64", 0, high))
    if fits:
        check_dataset_fits(binary, dataset, "serving_default", True)
    else:
        assert refusal(binary, dataset).code == "label_out_of_range"


def test_regression_targets_must_match_the_output():
    regression = model({"x": ([None, 4],)}, {"y": ([None, 1],)})
    check_dataset_fits(
        regression,
        data(x_train=((9, 4), "float32"), y_train=((9,), "float32")),
        "serving_default",
        False,
    )
    error = refusal(
        regression,
        data(x_train=((9, 4), "float32"), y_train=((9, 3), "float32")),
        classification=False,
    )
    assert error.code == "label_shape_mismatch" and "(3)" in error.message


def test_validation_arrays_are_checked_too():
    dataset = data(
        x_train=((60, 28, 28, 1), "float32"),
        y_train=((60,), "int64", 0, 9),
        x_val=((6, 28, 28, 3), "float32"),
        y_val=((6,), "int64", 0, 9),
    )
    error = refusal(IMAGE_MODEL, dataset)
    assert error.code == "shape_mismatch" and "x_val" in error.message


def test_several_inputs_need_one_array_each():
    two = model({"tokens": ([None, 6], "int32"), "extra": ([None, 3],)}, {"y": ([None, 2],)})
    dataset = data(
        x_train__tokens=((5, 6), "int32"),
        x_train__extra_typo=((5, 3), "float32"),
        y_train=((5,), "int64", 0, 1),
    )
    error = refusal(two, dataset)
    assert error.code == "inputs_mismatch"
    assert "missing: x_train__extra" in error.message
    assert "not an input: x_train__extra_typo" in error.message


def test_real_models_against_real_datasets(built_models, tmp_path):
    archive = zip_directory(tmp_path / "cnn.zip", built_models["keras_export"])
    cnn = inspect_model_upload(archive, tmp_path / "w1", ExtractLimits(), "cnn.zip")
    two = inspect_model_upload(built_models["two_inputs.keras"], tmp_path / "w2", ExtractLimits())
    good = tmp_path / "good.npz"
    np.savez(good, x_train=np.zeros((20, 8, 8, 1), "float32"), y_train=np.arange(20) % 10)
    check_dataset_fits(cnn, describe_dataset(good), "serving_default", True)
    flat = tmp_path / "flat.npz"
    np.savez(flat, x_train=np.zeros((20, 64), "float32"), y_train=np.arange(20) % 10)
    assert refusal(cnn, describe_dataset(flat)).code == "shape_mismatch"
    pair = tmp_path / "pair.npz"
    np.savez(
        pair,
        x_train__tokens=np.ones((5, 6), "int32"),
        x_train__extra=np.ones((5, 3), "float32"),
        y_train=np.ones((5, 1), "float32"),
    )
    check_dataset_fits(two, describe_dataset(pair), "serving_default", False)
