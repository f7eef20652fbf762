"""Any SavedModel, fine-tuned through the restored function behind one of its signatures.

Covers Keras 3 `model.export()`, `tf.saved_model.save()` of a `tf.Module` and tf-keras
`model.save()`: all restore as plain trackable objects whose signature functions capture
the variables, and gradients flow through those functions.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

import tensorflow as tf

from worker.pruning.errors import PruningError
from worker.pruning.prunable_model import (
    DEPTHWISE_KIND,
    CandidateWeight,
    PrunableModel,
    Signature,
    TensorInfo,
)

DEFAULT_SIGNATURE = "serving_default"


def _tensor_info(name: str, spec: tf.TensorSpec) -> TensorInfo:
    shape = None if spec.shape.rank is None else tuple(spec.shape.as_list())
    return TensorInfo(name=name, shape=shape, dtype=spec.dtype.name)


def _signature(function: Any) -> Signature:
    _, input_specs = function.structured_input_signature
    outputs = function.structured_outputs
    return Signature(
        inputs=tuple(_tensor_info(n, input_specs[n]) for n in sorted(input_specs)),
        outputs=tuple(_tensor_info(n, outputs[n]) for n in sorted(outputs)),
    )


def _object_paths(root: Any) -> dict[Any, str]:
    """Shortest attribute path from the root to each variable, e.g. "encoder/w1"."""
    paths: dict[Any, str] = {}
    seen = {id(root)}
    queue: deque[tuple[Any, str]] = deque([(root, "")])
    while queue:
        obj, prefix = queue.popleft()
        for child_name, child in obj._trackable_children().items():
            if id(child) in seen:
                continue
            seen.add(id(child))
            path = f"{prefix}/{child_name}" if prefix else child_name
            if isinstance(child, tf.Variable):
                paths[child.ref()] = path
            else:
                queue.append((child, path))
    return paths


def _unique_names(root: Any, variables: list[tf.Variable]) -> dict[Any, str]:
    """The variable's own name where unique (Keras: "dense/kernel"), else its object path."""
    own = {v.ref(): v.name.split(":")[0] for v in variables}
    counts = Counter(own.values())
    paths = _object_paths(root) if any(c > 1 for c in counts.values()) else {}
    names: dict[Any, str] = {}
    taken: set[str] = set()
    for v in variables:
        name = own[v.ref()] if counts[own[v.ref()]] == 1 else paths.get(v.ref(), own[v.ref()])
        unique, suffix = name, 1
        while unique in taken:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        taken.add(unique)
        names[v.ref()] = unique
    return names


class SavedModelPrunableModel(PrunableModel):
    format = "saved_model"

    def __init__(self, path: str, signature_name: str | None = DEFAULT_SIGNATURE) -> None:
        """`signature_name` None: serving_default if there is one, else the first by name."""
        try:
            self.root = tf.saved_model.load(path)
        except Exception as exc:
            raise PruningError("invalid_model", f"could not load the SavedModel: {exc}") from exc
        available = sorted(self.root.signatures.keys())
        if signature_name is None and available:
            signature_name = DEFAULT_SIGNATURE if DEFAULT_SIGNATURE in available else available[0]
        if signature_name is None or signature_name not in available:
            raise PruningError(
                "signature_not_found",
                f"signature {signature_name!r} not found; the SavedModel has "
                + (", ".join(repr(n) for n in available) if available else "no signatures"),
                {"available": available},
            )
        self.signature_name = signature_name
        self._function = self.root.signatures[signature_name]
        self._variables = list({v.ref(): v for v in self._function.variables}.values())
        self._names = _unique_names(self.root, self._variables)

    def signatures(self) -> dict[str, Signature]:
        return {name: _signature(fn) for name, fn in self.root.signatures.items()}

    def name_of(self, variable: tf.Variable) -> str:
        return self._names[variable.ref()]

    def candidate_weights(self) -> list[CandidateWeight]:
        found = []
        for v in self._variables:
            if not (v.trainable and v.dtype.is_floating and v.shape.rank >= 2):
                continue
            name = self._names[v.ref()]
            kind = DEPTHWISE_KIND if "depthwise" in name else "variable"
            found.append(CandidateWeight(name, name.rpartition("/")[0] or name, kind, v))
        return found

    def trainable_variables(self) -> list[Any]:
        return [v for v in self._variables if v.trainable]

    def all_variables(self) -> list[Any]:
        return list(self._variables)

    def forward(self, inputs: dict[str, Any], training: bool) -> Any:
        # A signature function is traced once, in inference mode: `training` cannot change it.
        (output,) = self._function(**inputs).values()
        return output

    def export(self, saved_model_dir: str) -> None:
        tf.saved_model.save(self.root, saved_model_dir, signatures=dict(self.root.signatures))
