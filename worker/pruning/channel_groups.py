"""Trace a Keras model's channels into groups decided together (PRUNING.md section 9).

Every channel of every tensor gets a node; producers create nodes, one-to-one layers pass them
on, element-wise merges unite them, Concatenate/Flatten rearrange them. A group is a set of
united nodes; it is fixed (never removed) when it reaches a model input or output, a layer
that needs all its input channels, or an activation with f(0) != 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import keras

from worker.pruning.contract import channel_rules as rules
from worker.pruning.contract.errors import PruningError


class _Nodes:
    """Union-find over channel nodes, with a fixed flag per root."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.fixed: set[int] = set()

    def new(self, count: int, fixed: bool = False) -> list[int]:
        start = len(self.parent)
        self.parent.extend(range(start, start + count))
        if fixed:
            self.fixed.update(range(start, start + count))
        return list(range(start, start + count))

    def find(self, node: int) -> int:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def fix(self, nodes: list[int]) -> None:
        self.fixed.update(nodes)


@dataclass
class ChannelGraph:
    """The traced model: per layer, the group of each input and output channel."""

    # layer name -> group id of each channel of its (first) input, and of its output
    inputs: dict[str, list[int]] = field(default_factory=dict)
    outputs: dict[str, list[int]] = field(default_factory=dict)
    producers: list[str] = field(default_factory=list)  # producer layers, in model order
    coupled: list[str] = field(default_factory=list)  # BN / depthwise layers
    fixed_groups: set[int] = field(default_factory=set)

    def members(self) -> dict[int, list[tuple[str, int]]]:
        """group -> [(producer layer, output channel)] for every group a producer makes."""
        found: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for layer in self.producers:
            for channel, group in enumerate(self.outputs[layer]):
                found[group].append((layer, channel))
        return found


def _refuse(layer: keras.layers.Layer, reason: str) -> PruningError:
    return PruningError(
        "channel_untraceable",
        f"channel pruning cannot trace layer {layer.name!r} ({type(layer).__name__}): {reason}",
        {"layer": layer.name},
    )


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _layer_outputs(layer, ins: list[list[int]], nodes: _Nodes, in_shape, out_shape) -> list[int]:
    name = type(layer).__name__
    config = layer.get_config()
    first = ins[0]
    if name in rules.PRODUCERS:
        return nodes.new(out_shape[-1], fixed=not rules.zero_preserving(config))
    if name in rules.COUPLED or name in rules.PASSTHROUGH:
        if not rules.zero_preserving(config):
            nodes.fix(first)
        return first
    if name in rules.KEEPS_INPUTS:
        for channels in ins:
            nodes.fix(channels)
        return nodes.new(out_shape[-1], fixed=True)
    if name in rules.MERGES:
        if any(len(channels) != len(first) for channels in ins):
            raise _refuse(layer, "its inputs differ in channel count (broadcasting)")
        for channels in ins[1:]:
            for a, b in zip(first, channels, strict=True):
                nodes.union(a, b)
        return first
    if name == rules.CONCATENATE:
        return [node for channels in ins for node in channels]
    mapping = rules.reshape_mapping(in_shape, out_shape)
    if mapping == "same":
        return first
    if mapping == "flatten":
        return first * (out_shape[-1] // len(first))
    raise _refuse(layer, f"the channel axis of {in_shape} is not recognisable in {out_shape}")


def trace_channels(model: keras.Model) -> ChannelGraph:
    """The channel groups of a built Sequential or Functional model, or a 422 naming a layer."""
    nodes = _Nodes()
    of_tensor: dict[int, list[int]] = {}
    for tensor in model.inputs:
        of_tensor[id(tensor)] = nodes.new(_shape(tensor)[-1], fixed=True)
    graph = ChannelGraph()
    raw_inputs: dict[str, list[int]] = {}
    raw_outputs: dict[str, list[int]] = {}
    # Keras's own keys for the nodes of this model's graph (a Sequential keeps it inside).
    node_keys = getattr(model, "_functional", None) or model
    node_keys = node_keys._nodes
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            raise _refuse(layer, "a nested model; save the model flat")
        # A loaded Sequential model keeps stale nodes from earlier builds: take this graph's.
        in_graph = [
            node
            for index, node in enumerate(layer._inbound_nodes)
            if f"{id(layer)}_ib-{index}" in node_keys
        ]
        if len(in_graph) != 1:
            raise _refuse(layer, "a layer called more than once (shared weights)")
        node = in_graph[0]
        ins, outs = list(node.input_tensors), list(node.output_tensors)
        in_shape = _shape(ins[0])
        reason = rules.layer_refusal(type(layer).__name__, layer.get_config(), len(in_shape))
        if reason is None and len(outs) != 1:
            reason = "a layer with several outputs"
        if reason is not None:
            raise _refuse(layer, reason)
        in_nodes = [of_tensor[id(t)] for t in ins]
        out_nodes = _layer_outputs(layer, in_nodes, nodes, in_shape, _shape(outs[0]))
        of_tensor[id(outs[0])] = out_nodes
        raw_inputs[layer.name], raw_outputs[layer.name] = in_nodes[0], out_nodes
        kind = type(layer).__name__
        if kind in rules.PRODUCERS:
            graph.producers.append(layer.name)
        elif kind in rules.COUPLED:
            graph.coupled.append(layer.name)
    for tensor in model.outputs:
        nodes.fix(of_tensor[id(tensor)])
    graph.inputs = {k: [nodes.find(n) for n in v] for k, v in raw_inputs.items()}
    graph.outputs = {k: [nodes.find(n) for n in v] for k, v in raw_outputs.items()}
    graph.fixed_groups = {nodes.find(n) for n in nodes.fixed}
    return graph
