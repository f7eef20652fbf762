"""Refuse a .keras config that names anything but built-in Keras objects.

Keras rebuilds a model by importing the module and class each config entry names, so one
entry naming `os`, a custom function or a Lambda is enough to run code. The config is checked
as data, without Keras: every object it names must be on the allow-list.
"""

from __future__ import annotations

from typing import Any

from app.inspection.errors import UploadRejected
from app.inspection.keras_allowlist import (
    ACTIVATIONS,
    ALLOWED_BY_MODULE,
    BUILTIN_FUNCTIONS,
    CAMEL_CASE,
    MODEL_CLASSES,
    REFUSED_LAYERS,
    STRUCTURAL_CLASSES,
)

ACTIVATION_KEYS = ("activation", "recurrent_activation")
FUNCTION_MODULES = ("builtins", "keras.activations", "keras.losses", "keras.metrics")
MAX_DEPTH = 200
FIX = (
    "only built-in Keras layers, activations, initializers, losses and metrics are accepted: "
    "rebuild the model without custom objects or Lambda layers and save it again"
)


def check_keras_config(config: Any) -> None:
    _walk(config, None, 0)


def _walk(value: Any, layer: str | None, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise UploadRejected(422, "invalid_keras_file", "the model's config is nested too deep")
    if isinstance(value, list):
        for item in value:
            _walk(item, layer, depth + 1)
        return
    if not isinstance(value, dict):
        return
    if "class_name" in value:
        config = value.get("config")
        class_name = value["class_name"]
        is_model = isinstance(class_name, str) and class_name in MODEL_CLASSES
        is_layer = value.get("module") == "keras.layers" or is_model
        if is_layer and isinstance(config, dict) and isinstance(config.get("name"), str):
            layer = config["name"]
        _check_object(value, layer)
    for key, item in value.items():
        if key in ACTIVATION_KEYS and isinstance(item, str) and item not in ACTIVATIONS:
            raise _refuse("custom_object", f"the activation {item!r}", layer, "is not built in")
        _walk(item, layer, depth + 1)


def _check_object(obj: dict[str, Any], layer: str | None) -> None:
    class_name = obj["class_name"]
    module = obj.get("module")
    registered = obj.get("registered_name")
    if not isinstance(class_name, str):
        raise _refuse("custom_object", "an object without a class name", layer, "is malformed")
    if class_name == "__lambda__":
        raise _refuse("forbidden_layer", "a Python lambda", layer, "runs arbitrary code")
    if class_name in STRUCTURAL_CLASSES and module is None:
        return
    if class_name == "function":
        _check_function(obj, module, layer)
        return
    what = f"{class_name!r} from module {module!r}"
    if class_name in REFUSED_LAYERS:
        raise _refuse("forbidden_layer", f"a {class_name} layer", layer, REFUSED_LAYERS[class_name])
    if not isinstance(module, str) or module not in ALLOWED_BY_MODULE:
        raise _refuse("custom_object", what, layer, "is not part of Keras")
    allowed = ALLOWED_BY_MODULE[module]
    known = CAMEL_CASE.match(class_name) if allowed is None else class_name in allowed
    if not known:
        raise _refuse("custom_object", what, layer, "is not a built-in Keras object")
    if registered is not None and registered != class_name:
        raise _refuse(
            "custom_object", f"the registered object {registered!r}", layer, "is a custom object"
        )


def _check_function(obj: dict[str, Any], module: Any, layer: str | None) -> None:
    name = obj.get("config")
    if module not in FUNCTION_MODULES or not isinstance(name, str) or name not in BUILTIN_FUNCTIONS:
        raise _refuse(
            "custom_object",
            f"the function {name!r} from module {module!r}",
            layer,
            "is not a built-in Keras function",
        )


def _refuse(code: str, what: str, layer: str | None, why: str) -> UploadRejected:
    where = f" (layer {layer!r})" if layer else ""
    return UploadRejected(
        422,
        code,
        f"the model's config refers to {what}{where}, which {why}; {FIX}",
        {"object": what, "layer": layer},
    )
