"""Any SavedModel, fine-tuned through the restored function behind one of its signatures.

Covers Keras 3 `model.export()`, `tf.saved_model.save()` of a `tf.Module` and tf-keras
`model.save()`: all restore as plain trackable objects whose signature functions capture
the variables, and gradients flow through those functions.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import tensorflow as tf

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import saved_variable_kind
from worker.pruning.contract.signatures import Signature, TensorInfo, unknown_signature
from worker.pruning.contract.weight_names import unique_weight_names
from worker.pruning.prunable_model import CandidateWeight, PrunableModel
from worker.pruning.saved_model_export import save_once

DEFAULT_SIGNATURE = "serving_default"
DEPTHWISE_OPS = frozenset({"DepthwiseConv2dNative"})
# Ops that hand on the variable (or its value) they get as their first input.
_PASS_THROUGH_OPS = frozenset({"ReadVariableOp", "Identity", "Cast", "Snapshot"})
# Call ops whose first input (a branch's predicate or index) is not passed to the function.
_FIRST_INPUT_NOT_PASSED = frozenset({"If", "StatelessIf", "Case", "StatelessCase"})


def _carried_source(source: str, producers: dict[str, Any], carried: dict[str, Any]) -> Any:
    """The variable a node input stands for, following pass-through ops; None if none."""
    for _ in range(len(producers) + 1):
        name = source.lstrip("^").split(":")[0]
        if name in carried:
            return carried[name]
        node = producers.get(name)
        if node is None or node.op not in _PASS_THROUGH_OPS or not node.input:
            return None
        source = node.input[0]
    return None


def _called_functions(node: Any, library: dict[str, Any]) -> list[str]:
    """Library functions `node` runs: its op itself, or those in its attrs (f, body, ...)."""
    names = [node.op] if node.op in library else []
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        elif value.HasField("list"):
            names.extend(f.name for f in value.list.func)
    return [name for name in names if name in library]


def depthwise_filter_variables(function: Any) -> set[Any]:
    """Refs of the variables `function` uses as a DepthwiseConv2dNative filter, traced from its
    captures into every function it calls, however deeply nested."""
    graph_def = function.graph.as_graph_def()
    library = {f.signature.name: f for f in graph_def.library.function}
    by_handle = {id(v.handle): v.ref() for v in function.variables}
    captured = {
        inner.op.name: by_handle[id(outer)]
        for outer, inner in function.graph.captures
        if id(outer) in by_handle
    }
    found: set[Any] = set()
    visited: set[tuple[str, frozenset[tuple[str, Any]]]] = set()
    pending: list[tuple[Any, dict[str, Any]]] = [(graph_def.node, captured)]
    while pending:
        nodes, carried = pending.pop()
        producers = {node.name: node for node in nodes}
        for node in nodes:
            if node.op in DEPTHWISE_OPS and len(node.input) > 1:
                found.add(_carried_source(node.input[1], producers, carried))
            inputs = [i for i in node.input if not i.startswith("^")]
            if node.op in _FIRST_INPUT_NOT_PASSED:
                inputs = inputs[1:]
            for callee in _called_functions(node, library):
                params = [arg.name for arg in library[callee].signature.input_arg]
                passed = {
                    param: ref
                    for param, source in zip(params, inputs, strict=False)
                    if (ref := _carried_source(source, producers, carried)) is not None
                }
                key = (callee, frozenset(passed.items()))
                if passed and key not in visited:
                    visited.add(key)
                    pending.append((library[callee].node_def, passed))
    found.discard(None)
    return found


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


def _signature_variables(root: Any) -> list[tf.Variable]:
    """Every variable some signature captures, once; signatures taken by name."""
    found: dict[Any, tf.Variable] = {}
    for name in sorted(root.signatures.keys()):
        for variable in root.signatures[name].variables:
            found.setdefault(variable.ref(), variable)
    return list(found.values())


def _weight_names(root: Any) -> dict[Any, str]:
    """Names that do not depend on the signature a job trains (the API shows them at upload)."""
    variables = _signature_variables(root)

    def paths() -> list[str | None]:
        by_ref = _object_paths(root)
        return [by_ref.get(v.ref()) for v in variables]

    names = unique_weight_names([v.name.split(":")[0] for v in variables], paths)
    return {v.ref(): name for v, name in zip(variables, names, strict=True)}


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
            raise unknown_signature(signature_name, available)
        self.signature_name = signature_name
        self._function = self.root.signatures[signature_name]
        self._variables = list({v.ref(): v for v in self._function.variables}.values())
        self._names = _weight_names(self.root)
        self._depthwise = depthwise_filter_variables(self._function)

    def signatures(self) -> dict[str, Signature]:
        return {name: _signature(fn) for name, fn in self.root.signatures.items()}

    def name_of(self, variable: tf.Variable) -> str:
        return self._names[variable.ref()]

    def candidate_weights(self) -> list[CandidateWeight]:
        found = []
        for v in self._variables:
            if not (v.trainable and v.dtype.is_floating):
                continue
            name = self._names[v.ref()]
            kind = saved_variable_kind(name, v.shape.rank or 0, v.ref() in self._depthwise)
            if kind is not None:
                found.append(CandidateWeight(name, name.rpartition("/")[0] or name, kind, v))
        return found

    def trainable_variables(self) -> list[Any]:
        return [v for v in self._variables if v.trainable]

    def all_variables(self) -> list[Any]:
        # Weights only: an integer step counter is no parameter (the API counts alike).
        return [v for v in self._variables if v.dtype.is_floating]

    def forward(self, inputs: dict[str, Any], training: bool) -> Any:
        # A signature function is traced once, in inference mode: `training` cannot change it.
        (output,) = self._function(**inputs).values()
        return output

    def export(self, saved_model_dir: str) -> None:
        save_once(self.root, saved_model_dir)
