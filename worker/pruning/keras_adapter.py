"""A Keras 3 `.keras` file, fine-tuned as a Keras model in training mode."""

from __future__ import annotations

import tempfile
from typing import Any

import keras
import tensorflow as tf

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import keras_layer_weights
from worker.pruning.contract.signatures import Signature, TensorInfo, unknown_signature
from worker.pruning.prunable_model import CandidateWeight, PrunableModel
from worker.pruning.saved_model_export import save_once

SERVING_SIGNATURE = "serving_default"
EXPORT_ENDPOINT = "serve"


def _tensor_info(name: str, tensor: Any) -> TensorInfo:
    shape = tuple(None if d is None else int(d) for d in tensor.shape)
    return TensorInfo(name=name, shape=shape, dtype=str(tf.as_dtype(tensor.dtype).name))


class KerasPrunableModel(PrunableModel):
    format = "keras"

    def __init__(self, path: str, signature_name: str | None = SERVING_SIGNATURE) -> None:
        try:
            self.model = keras.models.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:
            raise PruningError("invalid_model", f"could not load the .keras file: {exc}") from exc
        if not getattr(self.model, "inputs", None):
            raise PruningError(
                "unsupported_model",
                "the .keras model has no defined inputs (a subclassed model?); save a "
                "functional or Sequential model, or upload a SavedModel from model.export()",
            )
        available = [EXPORT_ENDPOINT, SERVING_SIGNATURE]
        if signature_name not in (None, *available):
            raise unknown_signature(signature_name, available)
        self.signature_name = signature_name or SERVING_SIGNATURE
        self._input_names = [t.name for t in self.model.inputs]

    def signatures(self) -> dict[str, Signature]:
        # What model.export() writes: the endpoint "serve" also as serving_default, inputs
        # named after the Input layers, outputs output_0, output_1, ...
        inputs = tuple(_tensor_info(t.name, t) for t in self.model.inputs)
        outputs = tuple(_tensor_info(f"output_{i}", t) for i, t in enumerate(self.model.outputs))
        signature = Signature(inputs=inputs, outputs=outputs)
        return {EXPORT_ENDPOINT: signature, SERVING_SIGNATURE: signature}

    def candidate_weights(self) -> list[CandidateWeight]:
        found: list[CandidateWeight] = []
        seen: set[int] = set()
        for layer in self.model._flatten_layers(include_self=False, recursive=True):
            kinds = keras_layer_weights(cls.__name__ for cls in type(layer).__mro__)
            for attribute, kind in kinds.items():
                variable = getattr(layer, attribute, None)
                if variable is None or id(variable) in seen or not variable.trainable:
                    continue
                seen.add(id(variable))
                found.append(CandidateWeight(variable.path, layer.name, kind, variable))
        return found

    def trainable_variables(self) -> list[Any]:
        return list(self.model.trainable_variables)

    def all_variables(self) -> list[Any]:
        return [w for w in self.model.weights if keras.backend.is_float_dtype(w.dtype)]

    def forward(self, inputs: dict[str, Any], training: bool) -> Any:
        if len(self._input_names) == 1:
            return self.model(inputs[self._input_names[0]], training=training)
        # A dict keyed by Input names fits list- and dict-structured functional models alike.
        return self.model({name: inputs[name] for name in self._input_names}, training=training)

    def extra_losses(self) -> list[Any]:
        return list(self.model.losses)

    def export(self, saved_model_dir: str) -> None:
        # Keras writes each variable twice; its export, loaded and saved again, holds them once.
        with tempfile.TemporaryDirectory(prefix="shears-keras-export-") as scratch:
            self.model.export(scratch, format="tf_saved_model", verbose=False)
            save_once(tf.saved_model.load(scratch), saved_model_dir)

    def save_keras(self, path: str) -> bool:
        self.model.save(path)
        return True
