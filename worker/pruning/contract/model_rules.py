"""The one rule book for models and data (PRUNING.md sections 4 and 7), shared by the API's
upload checks and the engine. Plain Python: no TensorFlow, no NumPy.

The API applies it to what it reads from an upload's protobufs, config and .npy headers; the
engine to the loaded model and the arrays themselves. Both raise the same PruningError, so a
model or dataset that the API accepts is never refused later for a reason it could have seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.signatures import Shape, Signature, TensorInfo

# --- Which weights are prunable (section 4) -------------------------------------------------

FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
DEPTHWISE_KIND = "depthwise"  # pruned only when named in weight_sparsity_map
PRUNABLE_VARIABLE_KIND = "variable"  # a prunable variable of a model that is not Keras
# Refusal code: a SavedModel whose trainable variables are read inside a while loop.
RECURRENT_SAVED_MODEL = "recurrent_saved_model"
# Last name components that mark a variable as a bias or normalization parameter.
NEVER_PRUNED_NAMES = frozenset({"bias", "gamma", "beta", "moving_mean", "moving_variance"})

_CONV = "Conv1D Conv2D Conv3D Convolution1D Convolution2D Convolution3D".split()
_TRANSPOSE = (
    "Conv1DTranspose Conv2DTranspose Conv3DTranspose Convolution1DTranspose "
    "Convolution2DTranspose Convolution3DTranspose Deconvolution2D Deconvolution3D"
).split()
_SEPARABLE = "SeparableConv1D SeparableConv2D SeparableConvolution1D SeparableConvolution2D"
_DEPTHWISE = "DepthwiseConv1D DepthwiseConv2D"
# A recurrent layer -> the cell class it builds for itself (its config names no cell); a generic
# RNN layer's cells are in its config. Keras stores a cell's weights under the layer's name.
RNN_LAYER_CELLS = {"LSTM": "LSTMCell", "GRU": "GRUCell", "SimpleRNN": "SimpleRNNCell"}
# N:M groups of both recurrent matrices run along axis 0: rows are the inputs (x @ kernel,
# h @ recurrent_kernel); the gates are concatenated along the output axis.
_RNN_CELL = {"kernel": "rnn_kernel", "recurrent_kernel": "rnn_recurrent_kernel"}
# Keras layer class name -> {attribute holding a weight: the weight's kind}.
KERAS_WEIGHT_KINDS: dict[str, dict[str, str]] = {
    "Dense": {"kernel": "dense"},
    "Embedding": {"embeddings": "embedding"},
    **{name: {"kernel": "conv"} for name in _CONV},
    **{name: {"kernel": "conv_transpose"} for name in _TRANSPOSE},
    **{
        name: {"pointwise_kernel": "separable_pointwise", "depthwise_kernel": DEPTHWISE_KIND}
        for name in _SEPARABLE.split()
    },
    **{name: {"kernel": DEPTHWISE_KIND} for name in _DEPTHWISE.split()},
    **{cell: dict(_RNN_CELL) for cell in RNN_LAYER_CELLS.values()},
}


def keras_layer_weights(class_names: Iterable[str]) -> dict[str, str]:
    """{attribute: kind} of the candidate weights of a Keras layer, by the first of
    `class_names` (its class and bases, most derived first) that the table knows."""
    for name in class_names:
        if name in KERAS_WEIGHT_KINDS:
            return KERAS_WEIGHT_KINDS[name]
    return {}


def recurrent_saved_model_error(names: Sequence[str] = ()) -> PruningError:
    """For a model that is not Keras whose trainable variables are read inside a while loop
    (a recurrent layer in a SavedModel): TensorFlow cannot differentiate the restored loop."""
    listed = f" {len(names)} trainable weights ({', '.join(names[:10])})" if names else " weights"
    return PruningError(
        RECURRENT_SAVED_MODEL,
        f"the SavedModel reads{listed} inside a while loop (a recurrent layer such as LSTM, "
        "GRU or SimpleRNN), and TensorFlow cannot take gradients through a loop restored from "
        "a SavedModel, so it cannot be fine-tuned; upload the Keras model as a .keras file "
        "(model.save('model.keras')) instead",
        {"weights": list(names)},
    )


def saved_variable_kind(name: str, rank: int, feeds_depthwise: bool) -> str | None:
    """The kind of a trainable float variable of a model that is not Keras: prunable when of
    rank >= 2, unless a bias or normalization parameter, or a depthwise filter."""
    if rank < 2 or name.rsplit("/", 1)[-1] in NEVER_PRUNED_NAMES:
        return None
    if feeds_depthwise or "depthwise" in name.lower():
        return DEPTHWISE_KIND
    return PRUNABLE_VARIABLE_KIND


def prunable_by_default(kind: str | None) -> bool:
    return kind is not None and kind != DEPTHWISE_KIND


# --- Which data fits a signature (section 7) ------------------------------------------------


@dataclass(frozen=True)
class ArrayFacts:
    """What the rules need of one .npz array: shape, NumPy dtype name ("float32", "str96"),
    and the smallest and largest value (None when not known, empty, or not numbers)."""

    shape: tuple[int, ...]
    dtype: str
    min: float | None = None
    max: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype, "min": self.min, "max": self.max}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArrayFacts:
        return cls(tuple(data["shape"]), data["dtype"], data.get("min"), data.get("max"))


_SPLIT_KEY = re.compile(r"^(x|y)_(train|val)(?:__(.+))?$")
_INT_DTYPES = frozenset(f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64))
# Kind of the data -> the kinds of input it may feed (ints widen to floats, never the reverse).
_FEEDS = {"bool": "b", "int": "biu", "float": "biuf", "string": "s"}
HOW = "save it with np.savez('data.npz', x_train=..., y_train=..., x_val=..., y_val=...)"


def _kind(dtype: str) -> str:
    if dtype == "bool":
        return "b"
    if dtype.startswith(("str", "bytes")):
        return "s"
    if dtype in _INT_DTYPES:
        return "u" if dtype.startswith("u") else "i"
    return "f" if dtype in FLOAT_DTYPES else "?"


def _input_family(dtype: str) -> str | None:
    if dtype in FLOAT_DTYPES:
        return "float"
    if dtype in _INT_DTYPES:
        return "int"
    return dtype if dtype in ("bool", "string") else None


def _fmt(shape: Sequence[int | None] | None) -> str:
    return "(any)" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def _dims_fit(data: Sequence[int], wanted: Shape) -> bool:
    return wanted is None or (
        len(data) == len(wanted) and all(w in (None, d) for d, w in zip(data, wanted, strict=True))
    )


def split_lengths(arrays: Mapping[str, ArrayFacts]) -> tuple[int, int]:
    """(n_train, n_val) of a dataset's arrays; n_val is 0 when it has no x_val/y_val."""
    return _split_length(arrays, "train", required=True), _split_length(arrays, "val", False)


def _split_length(arrays: Mapping[str, ArrayFacts], split: str, required: bool) -> int:
    roles = {k: m.group(1) for k in arrays if (m := _SPLIT_KEY.match(k)) and m.group(2) == split}
    xs = [k for k, role in roles.items() if role == "x"]
    if not roles and not required:
        return 0
    missing = [
        k for k, found in ((f"x_{split}", xs), (f"y_{split}", f"y_{split}" in roles)) if not found
    ]
    if missing:
        raise PruningError(
            "missing_array",
            f"the dataset lacks {' and '.join(missing)}; {HOW}",
            {"missing": missing},
        )
    if f"x_{split}" in xs and len(xs) > 1:
        raise PruningError(
            "ambiguous_inputs",
            f"use either x_{split} (one input) or x_{split}__<input name> keys (several inputs), "
            "not both",
        )
    lengths = {k: arrays[k].shape[0] if arrays[k].shape else None for k in roles}
    if len(set(lengths.values())) != 1 or None in lengths.values():
        listed = ", ".join(f"{k} has {'no' if n is None else n} rows" for k, n in lengths.items())
        raise PruningError(
            "length_mismatch",
            f"the {split} arrays must have the same number of examples along their first axis: "
            f"{listed}",
            {"lengths": lengths},
        )
    rows = next(iter(lengths.values())) or 0
    if required and rows == 0:
        raise PruningError("empty_dataset", f"x_{split} has no examples; {HOW}")
    return rows


def input_keys(
    keys: Iterable[str], signature: Signature, split: str
) -> list[tuple[str, TensorInfo]]:
    """(array key, input) for each input of the signature: `x_<split>` for a single input,
    else `x_<split>__<input name>` for each."""
    keys, prefix = set(keys), f"x_{split}__"
    inputs = {spec.name: spec for spec in signature.inputs}
    if len(inputs) == 1 and f"x_{split}" in keys:
        return [(f"x_{split}", signature.inputs[0])]
    given = {k.removeprefix(prefix) for k in keys if k.startswith(prefix)}
    missing, unknown = sorted(set(inputs) - given), sorted(given - set(inputs))
    if missing or unknown:
        raise PruningError(
            "inputs_mismatch",
            f"the signature takes inputs {', '.join(sorted(inputs))}, so the dataset needs the "
            f"arrays {', '.join(prefix + n for n in sorted(inputs))}"
            + (f"; missing: {', '.join(prefix + m for m in missing)}" if missing else "")
            + (f"; not an input: {', '.join(prefix + u for u in unknown)}" if unknown else ""),
            {"missing": [prefix + m for m in missing], "unknown": [prefix + u for u in unknown]},
        )
    return [(prefix + spec.name, spec) for spec in signature.inputs]


def check_input(key: str, array: ArrayFacts, spec: TensorInfo) -> None:
    family = _input_family(spec.dtype)
    if family is None or _kind(array.dtype) not in _FEEDS[family]:
        raise PruningError(
            "dtype_mismatch",
            f"{key} is {array.dtype} but input {spec.name!r} takes {spec.dtype}"
            + ("" if family is None else f"; convert it with {key}.astype('{spec.dtype}')"),
            {
                "array": key,
                "input": spec.name,
                "data_dtype": array.dtype,
                "input_dtype": spec.dtype,
            },
        )
    wanted = None if spec.shape is None else spec.shape[1:]
    if not _dims_fit(array.shape[1:], wanted):
        raise PruningError(
            "shape_mismatch",
            f"{key} has examples of shape {_fmt(array.shape[1:])} but input {spec.name!r} "
            f"expects {_fmt(wanted)} per example (batch shape {_fmt(spec.shape)}); reshape {key} "
            f"to {_fmt([array.shape[0], *(wanted or [])])}",
            {
                "array": key,
                "input": spec.name,
                "data_shape": list(array.shape),
                "input_shape": None if spec.shape is None else list(spec.shape),
            },
        )


def check_labels(key: str, labels: ArrayFacts, output: TensorInfo, loss: str) -> None:
    if _kind(labels.dtype) not in "biuf":
        raise PruningError("label_dtype_mismatch", f"{key} must be numeric, not {labels.dtype}")
    example = labels.shape[1:]
    per_output = None if output.shape is None else output.shape[1:]
    if loss == "sparse_categorical_crossentropy":
        classes = per_output[-1] if per_output else None
        if example not in ((), (1,)):
            raise PruningError(
                "label_shape_mismatch",
                f"{key} must hold one class index per example for {loss}, not examples of "
                f"shape {_fmt(example)}",
                {"array": key, "data_shape": list(labels.shape)},
            )
        if classes is not None and labels.min is not None and labels.max is not None:
            if labels.min < 0 or labels.max > classes - 1:
                raise PruningError(
                    "label_out_of_range",
                    f"{key} holds class labels from {labels.min:g} to {labels.max:g} but output "
                    f"{output.name!r} has {classes} classes, so labels must lie in "
                    f"[0, {classes - 1}]; re-encode the labels or use a model with more classes",
                    {"array": key, "min": labels.min, "max": labels.max, "classes": classes},
                )
        return
    if not _dims_fit(example, per_output) and {example, per_output} != {(), (1,)}:
        raise PruningError(
            "label_shape_mismatch",
            f"{key} has labels of shape {_fmt(example)} but output {output.name!r} gives "
            f"{_fmt(per_output)} per example; provide labels that match the output (one-hot "
            "rows for categorical_crossentropy)",
            {"array": key, "output": output.name, "data_shape": list(labels.shape)},
        )


def held_out_rows(n_train: int, validation_split: float) -> int:
    """How many rows validation_split holds out when a dataset has no x_val/y_val."""
    held_out = round(n_train * validation_split)
    if n_train < 2 or held_out in (0, n_train):
        raise PruningError(
            "validation_split_impossible",
            f"cannot hold out validation_split={validation_split} of {n_train} examples; add "
            "x_val/y_val to the dataset, more training data, or change training.validation_split",
            {"n_train": n_train, "validation_split": validation_split},
        )
    return held_out


def check_data_fits(
    signature: Signature, arrays: Mapping[str, ArrayFacts], loss: str, validation_split: float
) -> int:
    """Raise unless every split's arrays fit the signature; return the rows trained on."""
    n_train, n_val = split_lengths(arrays)
    for split in ("train", "val") if n_val else ("train",):
        for key, spec in input_keys(arrays, signature, split):
            check_input(key, arrays[key], spec)
        check_labels(f"y_{split}", arrays[f"y_{split}"], signature.outputs[0], loss)
    return n_train if n_val else n_train - held_out_rows(n_train, validation_split)
