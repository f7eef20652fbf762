"""Training data (PRUNING.md section 7): an .npz file checked against the signature, split
into train and validation, cast to the signature's dtypes. NumPy only.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

import numpy as np

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import (
    ArrayFacts,
    check_data_fits,
    held_out_rows,
    input_keys,
)
from worker.pruning.contract.signatures import Signature

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


def array_facts(arrays: dict[str, np.ndarray]) -> dict[str, ArrayFacts]:
    """What the rule book needs of each array; the range only of labels (y_*)."""
    facts = {}
    for key, array in arrays.items():
        ranged = key.startswith("y_") and array.size and array.dtype.kind in "biuf"
        facts[key] = ArrayFacts(
            tuple(array.shape),
            array.dtype.name,
            array.min().item() if ranged else None,
            array.max().item() if ranged else None,
        )
    return facts


def _split(arrays: dict[str, np.ndarray], split: str, signature: Signature, loss: str) -> Split:
    x = {
        spec.name: _cast(arrays[key], spec.dtype)
        for key, spec in input_keys(arrays, signature, split)
    }
    return Split(x=x, y=_labels(arrays[f"y_{split}"], loss))


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
    """Check every array against `signature` by the rule book, then split."""
    check_data_fits(signature, array_facts(arrays), loss, validation_split)
    train = _split(arrays, "train", signature, loss)
    if "y_val" in arrays:
        return JobData(train, _split(arrays, "val", signature, loss), "x_val")
    n_val = held_out_rows(len(train), validation_split)
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(train))
    return JobData(_take(train, order[n_val:]), _take(train, order[:n_val]), "validation_split")
