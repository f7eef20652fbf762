"""Describe an extracted .keras file (config.json, metadata.json, model.weights.h5) without Keras:
refuse custom objects, read the serving signature from the config and the weights' shapes from
the HDF5 file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.inspection.channel_check import channel_refusal
from app.inspection.descriptions import ModelDescription
from app.inspection.errors import UploadRejected
from app.inspection.keras_config import check_keras_config
from app.inspection.keras_layers import export_signatures, keras_layers
from app.inspection.keras_weights import read_keras_weights
from app.inspection.prunable import summarize

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
KERAS_FILES = (CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE)
MAX_JSON_BYTES = 64 * 1024**2
TOP_LEVEL_MODELS = ("Functional", "Sequential")


def looks_like_keras_file(member_names: set[str]) -> bool:
    return CONFIG_FILE in member_names and WEIGHTS_FILE in member_names


def describe_keras_file(tree: Path) -> ModelDescription:
    missing = [name for name in KERAS_FILES if not (tree / name).is_file()]
    if missing:
        raise _invalid(f"it lacks {', '.join(missing)}")
    _check_metadata(_read_json(tree / METADATA_FILE))
    model = read_model_config(tree / CONFIG_FILE)
    layers = keras_layers(model)
    summary = summarize(read_keras_weights(tree / WEIGHTS_FILE, layers))
    return ModelDescription(
        format="keras",
        signatures=export_signatures(model),
        prunable=summary.prunable,
        params_total=summary.params_total,
        params_prunable=summary.params_prunable,
        container="keras",
        channel_refusal=channel_refusal(layers),
    )


def read_model_config(path: Path) -> dict[str, Any]:
    """config.json, once it is known to name only built-in Keras objects."""
    model = _read_json(path)
    if (
        not isinstance(model, dict)
        or model.get("class_name") not in TOP_LEVEL_MODELS
        or not isinstance(model.get("config"), dict)
        or not isinstance(model["config"].get("layers"), list)
    ):
        raise _invalid("its model is not a Functional or Sequential Keras model")
    check_keras_config(model)
    return model


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise _invalid(f"{METADATA_FILE} is not a JSON object")
    version = str(metadata.get("keras_version", ""))
    if version.startswith(("1.", "2.")):
        raise _invalid(
            f"it was saved by Keras {version}; save it with Keras 3, or upload a SavedModel"
        )


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise _invalid(f"{path.name} is larger than {MAX_JSON_BYTES} bytes")
    try:
        return json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise _invalid(f"{path.name} is not valid JSON") from exc


def _invalid(why: str) -> UploadRejected:
    return UploadRejected(
        422,
        "invalid_keras_file",
        f"the .keras file is not a valid Keras 3 model file: {why}; save it with "
        "model.save('model.keras')",
    )
