"""Training data (PRUNING.md section 7): an .npz file checked against the signature, split
into train and validation, cast to the signature's dtypes. NumPy only.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

import numpy as np

from worker.pruning.data_fit import check_input, check_labels, check_lengths, input_key, mismatch
from worker.pruning.errors import PruningError
from worker.pruning.prunable_model import Signature

# The held-out split must not change between jobs on the same data, whatever their seeds.
VALIDATION_SEED = 0


@dataclass(frozen=True)
class Split:
    x: dict[str, np.ndarray]  # keyed by signature input name
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class JobData:
    train: Split
    val: Split
    val_source: str  # "x_val" or "validation_split"


def load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise PruningError(
            "invalid_data", f"could not read the dataset as .npz (no pickled objects): {exc}"
        ) from exc


def _split_arrays(
    arrays: dict[str, np.ndarray], prefix: str, signature: Signature, loss: str
) -> Split:
    names = [spec.name for spec in signature.inputs]
    keys = {
        spec.name: input_key(prefix, spec.name, len(names), list(arrays))
        for spec in signature.inputs
    }
    label_key = prefix.replace("x_", "y_")
    missing = [k for k in [*keys.values(), label_key] if k not in arrays]
    if missing:
        raise mismatch(
            f"the dataset lacks {', '.join(missing)}; a model with inputs "
            f"{', '.join(repr(n) for n in names)} needs "
            f"{', '.join([*keys.values(), label_key])} (found: {', '.join(sorted(arrays))})",
            missing=missing,
        )
    for spec in signature.inputs:
        array = arrays[keys[spec.name]]
        check_input(keys[spec.name], array.shape, array.dtype, spec)
    labels = arrays[label_key]
    check_labels(label_key, labels, loss, signature.outputs[0])
    check_lengths({**{k: len(arrays[k]) for k in keys.values()}, label_key: len(labels)})
    x = {spec.name: _cast(arrays[keys[spec.name]], spec.dtype) for spec in signature.inputs}
    return Split(x=x, y=_labels(labels, loss))


def _cast(array: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "string":
        return array
    return array.astype(np.float32 if dtype == "bfloat16" else dtype, copy=False)


def _labels(labels: np.ndarray, loss: str) -> np.ndarray:
    if loss == "sparse_categorical_crossentropy":
        return labels.astype(np.int64, copy=False)
    return labels.astype(np.float32, copy=False)


def _take(split: Split, index: np.ndarray) -> Split:
    return Split(x={k: v[index] for k, v in split.x.items()}, y=split.y[index])


def prepare_data(
    arrays: dict[str, np.ndarray], signature: Signature, loss: str, validation_split: float
) -> JobData:
    """Check every array against `signature` (data_mismatch naming the input) and split."""
    train = _split_arrays(arrays, "x_train", signature, loss)
    has_val = [k for k in arrays if k.startswith(("x_val", "y_val"))]
    if has_val:
        return JobData(train, _split_arrays(arrays, "x_val", signature, loss), "x_val")
    n_val = round(len(train) * validation_split)
    if len(train) < 2 or n_val == 0 or n_val == len(train):
        raise mismatch(
            f"cannot hold out validation_split={validation_split} of {len(train)} examples; "
            "add x_val/y_val or more training data"
        )
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(train))
    return JobData(_take(train, order[n_val:]), _take(train, order[:n_val]), "validation_split")
