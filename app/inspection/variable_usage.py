"""Find the variables a SavedModel's signatures use as depthwise-convolution filters, and those
they read inside a while loop (a recurrent layer).

Without Keras metadata a variable's role is not written down, but the graph shows it: follow
each captured variable from the signature's function into the functions it calls, and mark
the ones that reach the filter input of a DepthwiseConv2dNative op, or enter a While op (a
loop's body can only read a variable passed in as one of its loop inputs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.inspection.op_check import attr_functions

DEPTHWISE_OPS = frozenset({"DepthwiseConv2dNative"})
LOOP_OPS = frozenset({"While", "StatelessWhile"})
_PASS_THROUGH = frozenset({"ReadVariableOp", "Identity", "Cast", "Snapshot"})
DT_RESOURCE = 20  # tensorflow.DataType: a variable's handle
# Ops whose called function takes the node's inputs from this offset on (input 0 is the branch
# condition or index).
_ARG_OFFSET = {"If": 1, "StatelessIf": 1, "Case": 1, "StatelessCase": 1}
MAX_TRACE = 32


@dataclass
class VariableUsage:
    """Object-graph node ids of the captured variables used each way."""

    depthwise: set[int] = field(default_factory=set)
    in_loops: set[int] = field(default_factory=set)


def variable_usage(meta_graph: Any, signature_functions: Iterable[str]) -> VariableUsage:
    library = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    concrete = meta_graph.object_graph_def.concrete_functions
    usage = VariableUsage()
    seen: set[tuple[str, frozenset[tuple[str, int]]]] = set()
    pending = []
    for name in signature_functions:
        if name in library and name in concrete:
            args = [a.name for a in library[name].signature.input_arg]
            bound = list(concrete[name].bound_inputs)
            captured = args[len(args) - len(bound) :] if bound else []
            pending.append((name, dict(zip(captured, bound, strict=True))))
    while pending:
        name, carried = pending.pop()
        key = (name, frozenset(carried.items()))
        if key in seen or not carried:
            continue
        seen.add(key)
        function = library[name]
        producers = {node.name: node for node in function.node_def}
        for node in function.node_def:
            if node.op in DEPTHWISE_OPS and len(node.input) > 1:
                arg = _trace_to_arg(node.input[1], producers, carried)
                if arg is not None:
                    usage.depthwise.add(carried[arg])
            if node.op in LOOP_OPS:
                # Only a handle among the loop's inputs is read by the body; a value read before
                # the loop (as tf-keras' LSTM passes its kernels) is differentiable as usual.
                types = node.attr["T"].list.type
                for source, dtype in zip(node.input, types, strict=False):
                    arg = _trace_to_arg(source, producers, carried)
                    if arg is not None and dtype == DT_RESOURCE:
                        usage.in_loops.add(carried[arg])
            for callee in _callees(node, library):
                offset = _ARG_OFFSET.get(node.op, 0)
                params = [a.name for a in library[callee].signature.input_arg]
                inputs = [i for i in node.input if not i.startswith("^")][offset:]
                passed = {}
                for param, source in zip(params, inputs, strict=False):
                    arg = _trace_to_arg(source, producers, carried)
                    if arg is not None:
                        passed[param] = carried[arg]
                pending.append((callee, passed))
    return usage


def _callees(node: Any, library: dict[str, Any]) -> list[str]:
    names = [node.op] if node.op in library else []
    return names + [name for name in attr_functions(node.attr) if name in library]


def _trace_to_arg(source: str, producers: dict[str, Any], args: dict[str, int]) -> str | None:
    for _ in range(MAX_TRACE):
        name = source.lstrip("^").split(":")[0]
        if name in args:
            return name
        node = producers.get(name)
        if node is None or node.op not in _PASS_THROUGH or not node.input:
            return None
        source = node.input[0]
    return None
