"""Every refusal ends the job before training with its code and a message a user can act on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.engine.jobs import prune_argv, run_cli


def _refusal(argv: list[str]) -> dict:
    code, events = run_cli(argv)
    assert code == 1
    assert len(events) == 1, "a refused job prints only its error"
    assert events[0]["event"] == "error"
    return events[0]


def _npz(tmp_path: Path, **arrays: np.ndarray) -> Path:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


def test_no_prunable_weight_gets_a_gradient(frozen_module_dir, digits_npz, tmp_path) -> None:
    error = _refusal(prune_argv(frozen_module_dir, digits_npz, tmp_path / "out"))
    assert error["code"] == "no_gradient"
    assert "none of the 2 prunable weights receives a gradient" in error["message"]
    assert "'serving_default'" in error["message"]


def test_some_weights_without_gradient_are_named(half_frozen_module_dir, digits_npz, tmp_path):
    error = _refusal(prune_argv(half_frozen_module_dir, digits_npz, tmp_path / "out"))
    assert error["code"] == "no_gradient"
    assert "1 prunable weights receive no gradient" in error["message"]
    assert error["details"] == {"weights": ["out"]}
    assert "do_not_prune" in error["message"]


def test_excluding_the_frozen_weight_lets_the_job_run(half_frozen_module_dir, digits_npz, tmp_path):
    argv = prune_argv(
        half_frozen_module_dir,
        digits_npz,
        tmp_path / "out",
        hparams={"do_not_prune": ["^out$"]},
        training={"steps": 2},
    )
    code, events = run_cli(argv)
    assert code == 0, events[-1]
    assert [layer["name"] for layer in events[-1]["sparsity"]["layers"]] == ["hidden"]


@pytest.mark.parametrize("model", ["module_dir", "keras_file"])
def test_missing_signature_lists_the_available_ones(model, request, digits_npz, tmp_path) -> None:
    argv = prune_argv(
        request.getfixturevalue(model),
        digits_npz,
        tmp_path / "out",
        training={"signature": "predict"},
    )
    error = _refusal(argv)
    assert error["code"] == "unknown_signature"
    assert "no signature 'predict'" in error["message"]
    expected = (
        ["probabilities", "serving_default"]
        if model == "module_dir"
        else ["serve", "serving_default"]
    )
    assert error["details"]["signatures"] == expected


def test_wrong_example_shape_names_the_input_and_both_shapes(module_dir, digits, tmp_path):
    flat = digits[0].reshape(len(digits[0]), 64)
    error = _refusal(
        prune_argv(module_dir, _npz(tmp_path, x_train=flat, y_train=digits[1]), tmp_path / "out")
    )
    assert error["code"] == "shape_mismatch"
    assert "input 'image'" in error["message"]
    assert "(64)" in error["message"] and "(None, 8, 8, 1)" in error["message"]


def test_float_data_for_an_integer_input_is_refused(mixed_keras_file, mixed_arrays, tmp_path):
    arrays = {**mixed_arrays, "x_train__tokens": mixed_arrays["x_train__tokens"] + 0.5}
    error = _refusal(prune_argv(mixed_keras_file, _npz(tmp_path, **arrays), tmp_path / "out"))
    assert error["code"] == "dtype_mismatch"
    assert "x_train__tokens is float64" in error["message"]
    assert "input 'tokens' takes int32" in error["message"]


def test_multi_input_model_names_the_missing_keys(mixed_keras_file, mixed_arrays, tmp_path):
    arrays = {k: v for k, v in mixed_arrays.items() if k != "x_train__tokens"}
    error = _refusal(prune_argv(mixed_keras_file, _npz(tmp_path, **arrays), tmp_path / "out"))
    assert error["code"] == "inputs_mismatch"
    assert "missing: x_train__tokens" in error["message"]


def test_labels_beyond_the_model_classes_are_refused(module_dir, digits, tmp_path) -> None:
    data = _npz(tmp_path, x_train=digits[0], y_train=digits[1] + 5)
    error = _refusal(prune_argv(module_dir, data, tmp_path / "out"))
    assert error["code"] == "label_out_of_range"
    assert "from 5 to 14" in error["message"] and "10 classes" in error["message"]


def test_invalid_hparams_and_unknown_paths(module_dir, digits_npz, tmp_path) -> None:
    error = _refusal(
        prune_argv(module_dir, digits_npz, tmp_path / "o", hparams="target_sparsity=2")
    )
    assert error["code"] == "invalid_hparams" and "target_sparsity" in error["message"]
    error = _refusal(prune_argv(tmp_path / "nothing", digits_npz, tmp_path / "o"))
    assert error["code"] == "invalid_model"
    error = _refusal(["inspect"])
    assert error["code"] == "invalid_arguments"


def test_accuracy_of_a_regression_is_refused(module_dir, digits_npz, tmp_path) -> None:
    argv = prune_argv(
        module_dir, digits_npz, tmp_path / "out", training={"loss": "mse", "metrics": ["accuracy"]}
    )
    error = _refusal(argv)
    assert error["code"] == "invalid_training"
    assert "'accuracy' needs a classification loss" in error["message"]
