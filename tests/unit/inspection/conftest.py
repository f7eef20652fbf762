"""Real SavedModels and .keras files, built once per test session in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from . import model_builders as mb  # imports TensorFlow: only the tests that need it pay

    root = tmp_path_factory.mktemp("models")
    cnn = mb.keras_cnn()
    cnn.export(str(root / "keras_export"), verbose=False)
    cnn.save(root / "cnn.keras")
    mb.keras_two_inputs().save(root / "two_inputs.keras")
    mb.keras_with_lambda().save(root / "lambda.keras")
    mb.keras_with_custom_activation().save(root / "custom_activation.keras")
    models = {
        "keras_export": root / "keras_export",
        "cnn.keras": root / "cnn.keras",
        "two_inputs.keras": root / "two_inputs.keras",
        "lambda.keras": root / "lambda.keras",
        "custom_activation.keras": root / "custom_activation.keras",
        "module": mb.save_module(root / "module"),
        "module_without_signature": mb.save_module(root / "nosig", with_signature=False),
        "hidden_file_write": mb.save_module(root / "hidden", mb.module_with_hidden_file_write()),
        "hidden_checkpoint_write": mb.save_module(
            root / "hidden_ckpt", mb.module_with_hidden_checkpoint_write()
        ),
    }
    for name in (
        "reads_a_file",
        "calls_python",
        "prints",
        "writes_a_checkpoint",
        "python_in_a_branch",
    ):
        models[name] = mb.save_module(root / name, mb.Classifier(getattr(mb, name)))
    return models
