"""The layers of a (checked) .keras config, and the signatures Keras' model.export() gives the
model (the engine exports a .keras model that way, and takes either name as
training.signature): inputs named after its InputLayers, outputs `output_0`, `output_1`, ...
(or the keys of a dict of outputs)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.inspection.keras_allowlist import LAYER_CLASSES, MODEL_CLASSES
from app.inspection.tensor_specs import Shape, tensor_spec

# model.export() writes one endpoint under both names.
EXPORT_SIGNATURES = ("serve", "serving_default")
# Keras names the InputLayer it creates for a Sequential model built without one.
DEFAULT_INPUT_NAME = "input_layer"
_SHAPE_PRESERVING = frozenset(
    """Activation ActivityRegularization AlphaDropout BatchNormalization Dropout ELU
    GaussianDropout GaussianNoise GroupNormalization Identity LayerNormalization LeakyReLU PReLU
    RMSNormalization ReLU Softmax UnitNormalization""".split()
)


@dataclass(frozen=True)
class KerasLayer:
    path: tuple[str, ...]  # the names of the enclosing models/wrappers, then this layer's name
    class_name: str
    trainable: bool
    config: dict[str, Any]
    entry: dict[str, Any]  # the whole serialized entry (build_config, inbound_nodes, ...)


def keras_layers(model: dict[str, Any]) -> list[KerasLayer]:
    found: list[KerasLayer] = []

    def visit(value: Any, path: tuple[str, ...], trainable: bool) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item, path, trainable)
            return
        if not isinstance(value, dict):
            return
        config = value.get("config")
        if _is_layer(value) and isinstance(config, dict):
            path = (*path, config["name"])
            trainable = trainable and config.get("trainable", True) is not False
            found.append(KerasLayer(path, value["class_name"], trainable, config, value))
            value = config
        for item in value.values():
            visit(item, path, trainable)

    visit(model, (), True)
    return found


def export_signatures(model: dict[str, Any]) -> dict[str, Any]:
    signature = _export_signature(model)
    return {name: copy.deepcopy(signature) for name in EXPORT_SIGNATURES}


def _export_signature(model: dict[str, Any]) -> dict[str, Any]:
    config = model["config"]
    layers = {layer.path[-1]: layer for layer in keras_layers(model) if len(layer.path) == 2}
    if model.get("class_name") == "Sequential":
        top_level = [entry for entry in config.get("layers", []) if _is_layer(entry)]
        inputs = _sequential_inputs(config, top_level)
        last = top_level[-1]["config"]["name"] if top_level else None
        outputs = {"output_0": _output_spec(layers.get(last) if last else None)}
    else:
        inputs = {
            key: _input_spec(layers.get(name))
            for key, name in _references(config.get("input_layers"), "")
        }
        outputs = {
            key: _output_spec(layers.get(name))
            for key, name in _references(config.get("output_layers"), "output_")
        }
    return {"inputs": inputs, "outputs": outputs}


def _is_layer(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        return False
    config = value.get("config")
    return (
        value["class_name"] in LAYER_CLASSES | MODEL_CLASSES
        and isinstance(config, dict)
        and isinstance(config.get("name"), str)
    )


def _references(refs: Any, prefix: str) -> list[tuple[str, str]]:
    """(signature key, layer name) pairs from input_layers/output_layers: one [name, 0, 0], a
    list of those, or a dict of them. Keys: the dict's, else the layer name after an empty
    prefix (inputs) or `output_<i>` (outputs)."""
    if isinstance(refs, dict):
        pairs = list(refs.items())
    elif isinstance(refs, list):
        pairs = [(None, r) for r in ([refs] if refs and isinstance(refs[0], str) else refs)]
    else:
        pairs = []
    named = [(k, r[0]) for k, r in pairs if isinstance(r, list) and r and isinstance(r[0], str)]
    return [
        (key if key is not None else (f"{prefix}{i}" if prefix else name), name)
        for i, (key, name) in enumerate(named)
    ]


def _sequential_inputs(config: dict[str, Any], top_level: list[dict[str, Any]]) -> dict:
    first = top_level[0] if top_level else {}
    if first.get("class_name") == "InputLayer":
        name = first["config"]["name"]
        return {name: _input_spec_from_config(first["config"])}
    shape = config.get("build_input_shape")
    return {DEFAULT_INPUT_NAME: tensor_spec(_clean_shape(shape), "float32")}


def _input_spec(layer: KerasLayer | None) -> dict[str, Any]:
    return _input_spec_from_config(layer.config if layer else {})


def _input_spec_from_config(config: dict[str, Any]) -> dict[str, Any]:
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    return tensor_spec(_clean_shape(shape), _dtype(config.get("dtype")))


def _output_spec(layer: KerasLayer | None) -> dict[str, Any]:
    if layer is None:
        return tensor_spec(None, "float32")
    return tensor_spec(_output_shape(layer), _dtype(layer.config.get("dtype")))


def _output_shape(layer: KerasLayer) -> Shape:
    incoming = _input_shapes(layer)
    if layer.class_name == "Concatenate":
        return _concatenated(incoming, layer.config.get("axis", -1))
    if len(incoming) != 1 or incoming[0] is None:
        return None
    shape = incoming[0]
    if layer.class_name in _SHAPE_PRESERVING:
        return shape
    units = layer.config.get("units")
    if layer.class_name == "Dense" and isinstance(units, int) and shape:
        return [*shape[:-1], units]
    return None


def _concatenated(shapes: list[Shape], axis: Any) -> Shape:
    known = [shape for shape in shapes if shape]
    if not known or len(known) != len(shapes) or axis not in (-1, len(known[0]) - 1):
        return None
    last = [shape[-1] for shape in known]
    return [*known[0][:-1], None if None in last else sum(d for d in last if d is not None)]


def _input_shapes(layer: KerasLayer) -> list[Shape]:
    build = layer.entry.get("build_config")
    if isinstance(build, dict) and "input_shape" in build:
        shape = build["input_shape"]
        if isinstance(shape, list) and shape and isinstance(shape[0], list):
            return [_clean_shape(s) for s in shape]
        return [_clean_shape(shape)]
    return [_clean_shape(tensor.get("shape")) for tensor in _inbound_tensors(layer.entry)]


def _inbound_tensors(entry: dict[str, Any]) -> Iterator[dict[str, Any]]:
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list) or not nodes or not isinstance(nodes[0], dict):
        return
    args = nodes[0].get("args")
    if not isinstance(args, list):
        return
    flat = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    for arg in flat:
        if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
            if isinstance(arg.get("config"), dict):
                yield arg["config"]


def _clean_shape(shape: Any) -> Shape:
    if not isinstance(shape, list):
        return None
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in shape):
        return None
    return [d if d is None or d >= 0 else None for d in shape]


def _dtype(policy: Any) -> str:
    if isinstance(policy, dict):
        config = policy.get("config")
        policy = config.get("name") if isinstance(config, dict) else None
    if not isinstance(policy, str):
        return "float32"
    return policy.removeprefix("mixed_")
