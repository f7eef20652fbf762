"""Describe an extracted SavedModel directory from its protobufs: signatures, variables,
prunable weights; refuse it when its ops are off the allow-list.

The engine trains every SavedModel (tf-keras ones too) through its signature function, as a
model that is not Keras, so the weights follow that rule of PRUNING.md section 4 and carry the
engine's names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.inspection.dataset_fit import refusals_as_422
from app.inspection.descriptions import ModelDescription, Signatures
from app.inspection.errors import UploadRejected
from app.inspection.op_check import check_ops
from app.inspection.prunable import Weight, summarize
from app.inspection.saved_model_proto import read_saved_model
from app.inspection.tensor_specs import dtype_name, shape_from_proto, tensor_spec
from app.inspection.variable_names import variable_names
from app.inspection.variable_usage import variable_usage
from worker.pruning.contract.model_rules import recurrent_saved_model_error

INIT_OP_SIGNATURE = "__saved_model_init_op"
SERVING_TAG = "serve"


def describe_saved_model(root: Path, container: str) -> ModelDescription:
    proto = read_saved_model(root / "saved_model.pb")
    for meta_graph in proto.meta_graphs:
        check_ops(meta_graph)
    meta_graph = _serving_meta_graph(proto)
    signatures = extract_signatures(meta_graph)
    if not signatures:
        raise UploadRejected(
            422,
            "no_signatures",
            "the SavedModel has no serving signature; export it with "
            "model.export() or pass signatures= to tf.saved_model.save()",
        )
    weights = list(_weights(meta_graph))
    in_loops = [w.name for w in weights if w.trainable and w.in_loop]
    if in_loops:
        with refusals_as_422():
            raise recurrent_saved_model_error(in_loops)
    summary = summarize(weights)
    return ModelDescription(
        format="saved_model",
        signatures=signatures,
        prunable=summary.prunable,
        params_total=summary.params_total,
        params_prunable=summary.params_prunable,
        container=container,
    )


def extract_signatures(meta_graph: Any) -> Signatures:
    def specs(infos: Any) -> dict[str, dict[str, Any]]:
        return {
            name: tensor_spec(shape_from_proto(info.tensor_shape), dtype_name(info.dtype))
            for name, info in sorted(infos.items())
        }

    return {
        name: {"inputs": specs(sig.inputs), "outputs": specs(sig.outputs)}
        for name, sig in sorted(meta_graph.signature_def.items())
        if name != INIT_OP_SIGNATURE
    }


def _serving_meta_graph(proto: Any) -> Any:
    tagged = [m for m in proto.meta_graphs if SERVING_TAG in m.meta_info_def.tags]
    return (tagged or list(proto.meta_graphs))[0]


def _weights(meta_graph: Any) -> Iterator[Weight]:
    object_graph = meta_graph.object_graph_def
    signature_functions = _signature_functions(object_graph)
    usage = variable_usage(meta_graph, signature_functions)
    variable_ids = _model_variable_ids(object_graph, signature_functions)
    names = variable_names(object_graph, variable_ids)
    for node_id in variable_ids:
        variable = object_graph.nodes[node_id].variable
        yield Weight(
            name=names[node_id],
            shape=shape_from_proto(variable.shape),
            dtype=dtype_name(variable.dtype),
            trainable=variable.trainable,
            depthwise=node_id in usage.depthwise,
            in_loop=node_id in usage.in_loops,
        )


def _signature_functions(object_graph: Any) -> list[str]:
    """The concrete functions behind the signatures, as the object graph records them, by
    signature name (the engine's order)."""
    nodes = object_graph.nodes
    children = [
        child
        for node in nodes
        if node.WhichOneof("kind") == "user_object"
        and node.user_object.identifier == "signature_map"
        for child in node.children
    ]
    return [
        nodes[child.node_id].bare_concrete_function.concrete_function_name
        for child in sorted(children, key=lambda child: child.local_name)
    ]


def _model_variable_ids(object_graph: Any, signature_functions: list[str]) -> list[int]:
    """The variables the signatures capture: exactly what serving and training use. Keras 3
    exports list each variable twice in the object graph, so walking all nodes would not do."""
    nodes = object_graph.nodes
    captured: dict[int, None] = {}
    for function in signature_functions:
        if function in object_graph.concrete_functions:
            for bound in object_graph.concrete_functions[function].bound_inputs:
                if nodes[bound].WhichOneof("kind") == "variable":
                    captured[bound] = None
    if captured:
        return list(captured)
    return [i for i, node in enumerate(nodes) if node.WhichOneof("kind") == "variable"]
