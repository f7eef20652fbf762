"""Refuse a SavedModel whose graph or function library uses an op off the allow-list.

Checkpoint ops (SaveV2, RestoreV2, ...) are tolerated only in code that no serving signature and
no restored tf.function can run: TensorFlow writes them into every SavedModel's own save and
restore functions. What can run is found by walking from the signatures' tensors through the
main graph's inputs, then through every function that a node calls (`f`, `then_branch`, `body`,
`branches`, ... or a node whose op is a library function), recursively.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.inspection.errors import UploadRejected
from app.inspection.op_allowlist import ALLOWED_OPS, CHECKPOINT_ONLY_OPS, refusal_reason

MAIN_GRAPH = "the main graph"
MAX_REPORTED = 20


@dataclass(frozen=True)
class ForbiddenOp:
    op: str
    function: str
    node: str

    def describe(self) -> str:
        return f"op {self.op!r} in {self.function} (node {self.node!r}) {refusal_reason(self.op)}"


def check_ops(meta_graph: Any) -> None:
    forbidden = list(find_forbidden_ops(meta_graph))
    if not forbidden:
        return
    first = forbidden[0]
    raise UploadRejected(
        422,
        "forbidden_op",
        f"the model uses {first.describe()}; models may only contain ordinary math, "
        "neural-network, variable and control-flow ops",
        {"forbidden_ops": [vars(f) for f in forbidden[:MAX_REPORTED]]},
    )


def find_forbidden_ops(meta_graph: Any) -> Iterator[ForbiddenOp]:
    graph = meta_graph.graph_def
    library = {f.signature.name: f for f in graph.library.function}
    reachable_nodes = _reachable_main_nodes(meta_graph)
    exposed = _close_over_calls(
        library,
        graph.library.gradient,
        roots=[
            *(c for n in graph.node if n.name in reachable_nodes for c in _calls(n, library)),
            *meta_graph.object_graph_def.concrete_functions.keys(),
        ],
    )
    for node in graph.node:
        yield from _check_node(node, library, MAIN_GRAPH, node.name in reachable_nodes)
    for name, function in library.items():
        for node in function.node_def:
            yield from _check_node(node, library, f"function {name!r}", name in exposed)


def _check_node(
    node: Any, library: dict[str, Any], where: str, runnable: bool
) -> Iterator[ForbiddenOp]:
    ops = [] if node.op in library else [node.op]
    ops += [name for name in attr_functions(node.attr) if name not in library]
    for op in ops:
        if op in ALLOWED_OPS or (op in CHECKPOINT_ONLY_OPS and not runnable):
            continue
        yield ForbiddenOp(op or "<empty>", where, node.name)


def _reachable_main_nodes(meta_graph: Any) -> set[str]:
    nodes = {n.name: n for n in meta_graph.graph_def.node}
    pending = [name for name in _root_node_names(meta_graph) if name in nodes]
    seen = set(pending)
    while pending:
        for source in nodes[pending.pop()].input:
            name = source.lstrip("^").split(":")[0]
            if name in nodes and name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def _root_node_names(meta_graph: Any) -> Iterator[str]:
    for signature in meta_graph.signature_def.values():
        for info in (*signature.inputs.values(), *signature.outputs.values()):
            for tensor in _tensor_names(info):
                yield tensor.lstrip("^").split(":")[0]
    for collection in meta_graph.collection_def.values():
        for name in collection.node_list.value:
            yield name.lstrip("^").split(":")[0]


def _tensor_names(info: Any) -> Iterator[str]:
    encoding = info.WhichOneof("encoding")
    if encoding == "name":
        yield info.name
    elif encoding == "coo_sparse":
        sparse = info.coo_sparse
        yield from (
            sparse.values_tensor_name,
            sparse.indices_tensor_name,
            sparse.dense_shape_tensor_name,
        )
    elif encoding == "composite_tensor":
        for component in info.composite_tensor.components:
            yield from _tensor_names(component)


def _close_over_calls(
    library: dict[str, Any], gradients: Iterable[Any], roots: Iterable[str]
) -> set[str]:
    gradient_of = {g.function_name: g.gradient_func for g in gradients}
    pending = [name for name in roots if name in library]
    seen = set(pending)
    while pending:
        name = pending.pop()
        callees = [c for node in library[name].node_def for c in _calls(node, library)]
        if name in gradient_of:
            callees.append(gradient_of[name])
        for callee in callees:
            if callee in library and callee not in seen:
                seen.add(callee)
                pending.append(callee)
    return seen


def _calls(node: Any, library: dict[str, Any]) -> Iterator[str]:
    if node.op in library:
        yield node.op
    yield from attr_functions(node.attr)


def attr_functions(attrs: Any) -> Iterator[str]:
    """Function names in a node's attrs (func and list(func) values), nested ones included."""
    for value in attrs.values():
        kind = value.WhichOneof("value")
        funcs = [value.func] if kind == "func" else list(value.list.func) if kind == "list" else []
        for func in funcs:
            yield func.name
            yield from attr_functions(func.attr)
