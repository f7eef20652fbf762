"""Training data (PRUNING.md section 7): an .npz file checked against the signature, split
into train and validation (row indices into the file's arrays, not copies), read and cast to
the signature's dtypes a batch at a time. NumPy only.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import (
    ArrayFacts,
    check_data_fits,
    held_out_rows,
    input_keys,
)
from worker.pruning.contract.signatures import Signature
from worker.pruning.npz_arrays import open_npz

# The held-out split must not change between jobs on the same data, whatever their seeds.
VALIDATION_SEED = 0


Batch = tuple[dict[str, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Split:
    """Some rows of the dataset's arrays, read and cast a batch at a time: the arrays are the
    file's own (memory-mapped when large), never copied whole."""

    x: dict[str, np.ndarray]  # keyed by signature input name; every row of the file's array
    y: np.ndarray
    rows: np.ndarray | None = None  # this split's rows of x and y, in its order; None: all
    casts: dict[str, np.dtype] = field(default_factory=dict)  # input name or "y": read as

    def __len__(self) -> int:
        return len(self.y) if self.rows is None else len(self.rows)

    def dtype(self, name: str) -> np.dtype:
        """What `take` gives for an input name, or for "y"."""
        return self.casts.get(name, (self.y if name == "y" else self.x[name]).dtype)

    def row_shape(self, name: str) -> tuple[int, ...]:
        return tuple((self.y if name == "y" else self.x[name]).shape[1:])

    def with_rows(self, rows: np.ndarray) -> Split:
        return replace(self, rows=rows)

    def take(self, positions: slice | np.ndarray) -> Batch:
        """The rows at `positions` of this split (not of the file), as fresh arrays."""
        index = positions if self.rows is None else self.rows[positions]
        x = {name: self._read(name, array, index) for name, array in self.x.items()}
        return x, self._read("y", self.y, index)

    def _read(self, name: str, array: np.ndarray, index: slice | np.ndarray) -> np.ndarray:
        return np.array(array[index], dtype=self.dtype(name), copy=True)

    def batches(self, batch_size: int, seed: int | None = None) -> Iterator[Batch]:
        """In order, once; or, given a seed, endlessly in a new seeded order every epoch with
        every batch full (an epoch's last rows share a batch with the next epoch's first)."""
        if seed is None:
            for start in range(0, len(self), batch_size):
                yield self.take(slice(start, start + batch_size))
            return
        rng = np.random.default_rng(seed)
        pending = np.empty(0, dtype=np.int64)
        while len(self):
            while len(pending) < batch_size:
                pending = np.concatenate([pending, rng.permutation(len(self))])
            yield self.take(pending[:batch_size])
            pending = pending[batch_size:]


@dataclass(frozen=True)
class JobData:
    train: Split
    val: Split
    val_source: str  # "x_val" or "validation_split"


def load_npz(path: str, scratch_dir: str) -> dict[str, np.ndarray]:
    """The file's arrays, memory-mapped (scratch_dir holds compressed ones unpacked)."""
    try:
        return open_npz(path, scratch_dir)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
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
    x, casts = {}, {}
    for key, spec in input_keys(arrays, signature, split):
        x[spec.name] = arrays[key]
        if spec.dtype != "string":
            casts[spec.name] = np.dtype(np.float32 if spec.dtype == "bfloat16" else spec.dtype)
    casts["y"] = np.dtype(np.int64 if loss == "sparse_categorical_crossentropy" else np.float32)
    return Split(x=x, y=arrays[f"y_{split}"], casts=casts)


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
    val, rest = train.with_rows(order[:n_val]), train.with_rows(order[n_val:])
    return JobData(rest, val, "validation_split")
