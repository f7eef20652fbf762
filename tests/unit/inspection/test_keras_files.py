""".keras files checked without Keras: built-in layers only, signature and prunable weights read
from config.json and model.weights.h5."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import pytest

from app.inspection import ExtractLimits, UploadRejected, inspect_model_upload
from app.inspection.keras_file import read_model_config
from app.inspection.keras_layers import export_signatures, keras_layers

from .archive_builders import rewritten_keras, tar_gz_files, zip_directory

CNN_PRUNABLE = [
    {"name": "conv/kernel", "shape": [3, 3, 1, 4], "params": 36},
    {"name": "logits/kernel", "shape": [144, 10], "params": 1440},
]


def inspect(path: Path, tmp_path: Path, filename: str = "model.keras"):
    return inspect_model_upload(path, tmp_path / "work", ExtractLimits(), filename)


def refusal(path: Path, tmp_path: Path, filename: str = "model.keras") -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        inspect(path, tmp_path, filename)
    return caught.value


def layer(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == name)


def test_keras_file_is_described(built_models, tmp_path):
    described = inspect(built_models["cnn.keras"], tmp_path)
    assert (described.format, described.container) == ("keras", "keras")
    serving = {
        "inputs": {"image": {"shape": [None, 8, 8, 1], "dtype": "float32"}},
        "outputs": {"output_0": {"shape": [None, 10], "dtype": "float32"}},
    }
    assert described.signatures == {"serve": serving, "serving_default": serving}
    assert described.prunable == CNN_PRUNABLE  # no depthwise kernel, bias or batch norm
    assert described.params_total == 36 + 4 + 16 + 36 + 4 + 1440 + 10
    assert described.params_prunable == 1476


def test_keras_file_with_dict_inputs_and_outputs(built_models, tmp_path):
    described = inspect(built_models["two_inputs.keras"], tmp_path)
    assert described.signatures["serving_default"] == {
        "inputs": {
            "tokens": {"shape": [None, 6], "dtype": "int32"},
            "extra": {"shape": [None, 3], "dtype": "float32"},
        },
        "outputs": {
            "score": {"shape": [None, 1], "dtype": "float32"},
            "klass": {"shape": [None, 4], "dtype": "float32"},
        },
    }
    assert sorted((p["name"], p["shape"]) for p in described.prunable) == [
        ("embed/embeddings", [20, 2]),
        ("klass/kernel", [15, 4]),
        ("score/kernel", [15, 1]),
    ]
    assert described.params_prunable == 40 + 60 + 15


def test_lambda_layer_is_refused(built_models, tmp_path):
    error = refusal(built_models["lambda.keras"], tmp_path)
    assert (error.status, error.code) == (422, "forbidden_layer")
    assert "a Lambda layer (layer 'double')" in error.message


def test_custom_activation_function_is_refused(built_models, tmp_path):
    error = refusal(built_models["custom_activation.keras"], tmp_path)
    assert (error.status, error.code) == (422, "custom_object")
    assert "'shifted_relu'" in error.message and "(layer 'out')" in error.message


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        (
            "kernel_initializer",
            {"module": "os", "class_name": "system", "config": {}, "registered_name": None},
            "'os'",
        ),
        (
            "activation",
            {
                "module": "subprocess",
                "class_name": "function",
                "config": "run",
                "registered_name": "function",
            },
            "'run'",
        ),
        ("activation", "os.system", "'os.system'"),
        (
            "kernel_initializer",
            {
                "module": "keras.initializers",
                "class_name": "MyInit",
                "config": {},
                "registered_name": "my>MyInit",
            },
            "MyInit",
        ),
        (
            "kernel_regularizer",
            {
                "module": "keras.utils",
                "class_name": "get_file",
                "config": {},
                "registered_name": None,
            },
            "'keras.utils'",
        ),
    ],
)
def test_config_naming_arbitrary_modules_or_functions_is_refused(
    built_models, tmp_path, field, value, named
):
    def inject(config: dict[str, Any]) -> None:
        layer(config, "logits")["config"][field] = value

    crafted = rewritten_keras(built_models["cnn.keras"], tmp_path / "crafted.keras", inject)
    error = refusal(crafted, tmp_path)
    assert (error.status, error.code) == (422, "custom_object")
    assert named in error.message and "(layer 'logits')" in error.message


def test_custom_layer_class_is_refused(built_models, tmp_path):
    def swap(config: dict[str, Any]) -> None:
        entry = layer(config, "logits")
        entry.update(module="my_package.layers", class_name="Evil", registered_name="my>Evil")

    crafted = rewritten_keras(built_models["cnn.keras"], tmp_path / "crafted.keras", swap)
    assert refusal(crafted, tmp_path).code == "custom_object"


def test_layer_that_loads_files_is_refused(built_models, tmp_path):
    def swap(config: dict[str, Any]) -> None:
        layer(config, "logits")["class_name"] = "TFSMLayer"

    crafted = rewritten_keras(built_models["cnn.keras"], tmp_path / "crafted.keras", swap)
    error = refusal(crafted, tmp_path)
    assert error.code == "forbidden_layer" and "TFSMLayer" in error.message


def test_weights_file_with_an_external_link_is_refused(built_models, tmp_path):
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(built_models["cnn.keras"]) as zf:
        zf.extractall(unpacked)
    with h5py.File(unpacked / "model.weights.h5", "a") as weights:
        weights["layers"]["stolen"] = h5py.ExternalLink("/etc/passwd", "/")
    archive = zip_directory(tmp_path / "linked.keras", unpacked)
    error = refusal(archive, tmp_path)
    assert (error.status, error.code) == (422, "invalid_keras_file")
    assert "external link" in error.message


def test_damaged_weights_file_is_refused(built_models, tmp_path):
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(built_models["cnn.keras"]) as zf:
        zf.extractall(unpacked)
    weights = unpacked / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:3000])
    error = refusal(zip_directory(tmp_path / "damaged.keras", unpacked), tmp_path)
    assert (error.status, error.code) == (422, "invalid_keras_file")
    assert "model.weights.h5" in error.message


def test_keras_file_without_weights(built_models, tmp_path):
    crafted = tmp_path / "noweights.keras"
    with zipfile.ZipFile(built_models["cnn.keras"]) as original, zipfile.ZipFile(crafted, "w") as z:
        for name in ("config.json", "metadata.json"):
            z.writestr(name, original.read(name))
    error = refusal(crafted, tmp_path)
    assert (error.status, error.code) == (422, "invalid_keras_file")


def test_saved_model_zip_named_keras_is_refused(built_models, tmp_path):
    archive = zip_directory(tmp_path / "upload", built_models["module"])
    error = refusal(archive, tmp_path, filename="model.keras")
    assert (error.status, error.code) == (422, "invalid_keras_file")


def test_keras_file_named_zip_is_still_a_keras_model(built_models, tmp_path):
    assert inspect(built_models["cnn.keras"], tmp_path, filename="model.zip").format == "keras"


def test_keras_file_sent_as_tar_gz_content_mismatch(built_models, tmp_path):
    archive = tar_gz_files(tmp_path / "m.keras", {"config.json": b"{}"})
    error = refusal(archive, tmp_path)
    assert (error.status, error.code) == (415, "extension_mismatch")


def test_mangled_configs_are_refused_or_described_never_crash(built_models, tmp_path):
    """Replace random parts of a real config with odd JSON values: every outcome must be a
    description or an UploadRejected (a 4xx), never another exception (a 500)."""
    with zipfile.ZipFile(built_models["cnn.keras"]) as zf:
        original = json.loads(zf.read("config.json"))
    odd_values = [
        None,
        1,
        -1,
        "x",
        "",
        [],
        {},
        [None],
        {"class_name": 3},
        {"config": 5},
        [[1]],
        True,
        {"class_name": "__keras_tensor__", "config": 7},
        {"class_name": ["x"]},
    ]
    places = list(_json_paths(original))
    rng = random.Random(7)
    outcomes = {"described": 0, "refused": 0}
    for _ in range(400):
        mangled = json.loads(json.dumps(original))
        for _ in range(rng.randint(1, 3)):
            _replace(mangled, rng.choice(places), json.loads(json.dumps(rng.choice(odd_values))))
        (tmp_path / "config.json").write_text(json.dumps(mangled))
        try:
            model = read_model_config(tmp_path / "config.json")
            keras_layers(model)
            export_signatures(model)
            outcomes["described"] += 1
        except UploadRejected as error:
            assert error.status == 422
            outcomes["refused"] += 1
    assert outcomes["described"] and outcomes["refused"]


def _json_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, item in items:
        yield from _json_paths(item, (*path, key))


def _replace(document: Any, path: tuple, value: Any) -> None:
    if not path:
        return
    try:
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass  # an earlier replacement removed this place
