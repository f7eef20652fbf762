"""Which Keras layers channel pruning can trace, and how (PRUNING.md section 9). No TensorFlow:
the API checks a .keras config with these rules at submission, and the engine traces the live
model by the same rules, so both refuse the same layer for the same reason.

A removed channel must carry exact zeros to every consumer, so that dropping it from the
consumer's input dimension changes nothing: a layer either creates channels (PRODUCERS), passes
them on one to one (COUPLED, PASSTHROUGH), joins them (MERGES, Concatenate, Flatten, Reshape),
or needs all of its input channels (KEEPS_INPUTS).
"""

from __future__ import annotations

import math
from typing import Any

# Layers whose output channels are scored and can be removed.
PRODUCERS = frozenset("Conv1D Conv2D Conv3D Dense SeparableConv1D SeparableConv2D".split())
# Layers whose channel c depends only on input channel c, and which own per-channel weights:
# they follow the channel they are fed (their weights are masked and sliced with it).
COUPLED = frozenset("BatchNormalization DepthwiseConv1D DepthwiseConv2D".split())
# Element-wise joins: their inputs' channel c become one group.
MERGES = frozenset("Add Subtract Multiply Average Maximum Minimum".split())
# Channel c in, channel c out, no per-channel weights.
PASSTHROUGH = frozenset(
    """Activation ReLU LeakyReLU ELU Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D
    Identity ActivityRegularization MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D
    AveragePooling2D AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D ZeroPadding1D
    ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D UpSampling1D UpSampling2D
    UpSampling3D""".split()
)
# Layers that mix all channels of their input (a removed channel would change them).
KEEPS_INPUTS = frozenset("Softmax LayerNormalization UnitNormalization".split())
RESHAPES = frozenset({"Flatten", "Reshape"})
CONCATENATE = "Concatenate"
TRACEABLE = PRODUCERS | COUPLED | MERGES | PASSTHROUGH | KEEPS_INPUTS | RESHAPES | {CONCATENATE}

# f(0) == 0: a removed channel stays exactly zero through these.
ZERO_PRESERVING = frozenset(
    """linear relu relu6 leaky_relu elu selu gelu silu swish tanh softsign mish hard_silu
    hard_swish""".split()
)

CHANNEL_UNIT_CLASHES = ("block_height", "block_width", "block_dims_map", "sparsity_m_by_n")

SAVED_MODEL_REFUSAL = (
    "pruning_unit 'channel' takes Keras models only: this SavedModel is not a Keras model, "
    "and the graph of a restored function cannot be rebuilt safely without the removed "
    "channels; upload the model as a .keras file (model.save('model.keras'))"
)


def channel_unit_clashes(values: dict[str, Any]) -> list[str]:
    """The hparams, among those already validated, that channel pruning cannot honour."""
    clashes = []
    if values.get("block_height", 1) != 1 or values.get("block_width", 1) != 1:
        clashes.append("block_height/block_width")
    if values.get("block_dims_map"):
        clashes.append("block_dims_map")
    if values.get("sparsity_m_by_n") is not None:
        clashes.append("sparsity_m_by_n")
    return clashes


def zero_preserving(config: dict[str, Any]) -> bool:
    if config.get("scale") is False:  # BatchNormalization without gamma cannot zero a channel
        return False
    activation = config.get("activation", "linear")
    if activation is None:
        return True
    if isinstance(activation, dict):  # a serialized function or object
        activation = activation.get("config", activation.get("class_name"))
    return isinstance(activation, str) and activation in ZERO_PRESERVING


def reshape_mapping(input_shape: tuple[Any, ...], output_shape: tuple[Any, ...]) -> str | None:
    """How a Reshape/Flatten carries channels: "same" (last axis kept), "flatten" (last axis
    becomes all of the input, channels-last order), or None (the channel axis is lost)."""
    if len(input_shape) < 2 or len(output_shape) < 2:
        return None
    channels = input_shape[-1]
    if channels is None or output_shape[-1] is None:
        return None
    if output_shape[-1] == channels and len(output_shape) > 1:
        return "same"
    inner = input_shape[1:]
    if len(output_shape) == 2 and None not in inner and output_shape[-1] == math.prod(inner):
        return "flatten"
    return None


def _last_axis(axis: Any, rank: int | None) -> bool:
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int):
        return False
    return axis == -1 or (rank is not None and axis == rank - 1)


def layer_refusal(class_name: str, config: dict[str, Any], rank: int | None = None) -> str | None:
    """Why channel pruning cannot trace this layer, or None. `rank` is its input's rank when
    known (the API may not know it: the engine checks again with real shapes)."""
    if class_name not in TRACEABLE:
        return (
            f"layer type {class_name} is not traced by channel pruning (supported: "
            "Conv1D/2D/3D, Dense, SeparableConv, DepthwiseConv, BatchNormalization, Add, "
            "Multiply, Subtract, Concatenate, pooling, Flatten, Reshape, activations, Dropout)"
        )
    if config.get("data_format", "channels_last") == "channels_first":
        return "data_format 'channels_first' is not supported; channels must be the last axis"
    if config.get("groups", 1) != 1:
        return "grouped convolutions (groups > 1) are not supported"
    if class_name.startswith("Depthwise") and config.get("depth_multiplier", 1) != 1:
        return "a depthwise convolution with depth_multiplier != 1 is not supported"
    if class_name in ("BatchNormalization", CONCATENATE) and not _last_axis(
        config.get("axis", -1), rank
    ):
        return f"{class_name} must work on the last (channel) axis"
    return None
