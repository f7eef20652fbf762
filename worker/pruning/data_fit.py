"""Does a dataset fit a signature? Pure NumPy on shapes and dtype names; the trainer's own
check, run before anything is trained (the API checks the upload's description earlier).

Keys: `x_train`/`x_val` for a single-input model, `x_train__<input>`/`x_val__<input>` for
each input of a multi-input model (the single-input model accepts the suffixed form too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from worker.pruning.errors import PruningError
from worker.pruning.prunable_model import TensorInfo

Shape = tuple[int, ...]


def mismatch(message: str, **details: object) -> PruningError:
    return PruningError("data_mismatch", message, details or None)


def input_key(prefix: str, input_name: str, n_inputs: int, keys: Sequence[str]) -> str:
    """The .npz key holding `input_name` for `prefix` ("x_train" or "x_val")."""
    suffixed = f"{prefix}__{input_name}"
    if n_inputs == 1 and suffixed not in keys:
        return prefix
    return suffixed


def _dtype_fits(data_dtype: np.dtype, spec_dtype: str) -> bool:
    if spec_dtype == "string":
        return data_dtype.kind in "SU"
    try:
        spec_kind = "f" if spec_dtype == "bfloat16" else np.dtype(spec_dtype).kind
    except TypeError:
        return True  # a dtype NumPy has no name for: let TensorFlow judge the cast
    if spec_kind == "f":
        return data_dtype.kind in "fiub"
    if spec_kind in "iu":
        return data_dtype.kind in "iub"
    return data_dtype.kind == spec_kind


def check_input(key: str, shape: Shape, dtype: np.dtype, spec: TensorInfo) -> None:
    """Raise data_mismatch when array `key` cannot feed signature input `spec`."""
    if not _dtype_fits(np.dtype(dtype), spec.dtype):
        raise mismatch(
            f"{key} has dtype {np.dtype(dtype).name}, which cannot feed input {spec.name!r} "
            f"of dtype {spec.dtype}",
            input=spec.name,
            data_dtype=np.dtype(dtype).name,
            expected_dtype=spec.dtype,
        )
    if spec.shape is None:
        return
    if spec.shape and spec.shape[0] is not None:
        raise mismatch(
            f"input {spec.name!r} has a fixed batch size of {spec.shape[0]}; Shears feeds batches "
            "of training.batch_size examples (the last one smaller), so export the model with "
            "a None batch dimension",
            input=spec.name,
            expected_shape=list(spec.shape),
        )
    expected = spec.shape[1:]
    actual = tuple(shape[1:])
    fits = len(actual) == len(expected) and all(
        e is None or e == a for e, a in zip(expected, actual, strict=True)
    )
    if not fits:
        readable = ["None" if e is None else str(e) for e in spec.shape]
        raise mismatch(
            f"{key} has examples of shape {list(actual)} (array shape {list(shape)}), but input "
            f"{spec.name!r} expects shape [{', '.join(readable)}]",
            input=spec.name,
            data_shape=list(shape),
            expected_shape=list(spec.shape),
        )


def check_labels(key: str, labels: np.ndarray, loss: str, output: TensorInfo) -> None:
    """Raise data_mismatch when labels cannot be compared with the model's output."""
    out_shape = output.shape
    if loss == "sparse_categorical_crossentropy":
        if labels.dtype.kind not in "iuf" or tuple(labels.shape[1:]) not in ((), (1,)):
            raise mismatch(
                f"{key} must hold one integer class per example for "
                f"sparse_categorical_crossentropy, got shape {list(labels.shape)} dtype "
                f"{labels.dtype.name}",
                data_shape=list(labels.shape),
            )
        classes = None if not out_shape else out_shape[-1]
        if labels.size and classes is not None and (labels.min() < 0 or labels.max() >= classes):
            raise mismatch(
                f"{key} holds classes {int(labels.min())}..{int(labels.max())}, but output "
                f"{output.name!r} has {classes} classes",
                classes=classes,
            )
        return
    if labels.dtype.kind not in "iufb":
        raise mismatch(f"{key} must be numeric, got dtype {labels.dtype.name}")
    if out_shape is None:
        return
    expected, actual = out_shape[1:], tuple(labels.shape[1:])
    if expected == (1,) and actual == ():
        return
    fits = len(actual) == len(expected) and all(
        e is None or e == a for e, a in zip(expected, actual, strict=True)
    )
    if not fits:
        raise mismatch(
            f"{key} has labels of shape {list(actual)}, but output {output.name!r} has shape "
            f"{list(out_shape)}",
            data_shape=list(labels.shape),
            expected_shape=list(out_shape),
        )


def check_lengths(lengths: Mapping[str, int]) -> int:
    """Every array of one split must have the same number of examples; return it."""
    counts = set(lengths.values())
    if len(counts) != 1:
        listed = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise mismatch(f"arrays of one split must have the same length; got {listed}")
    return counts.pop()
