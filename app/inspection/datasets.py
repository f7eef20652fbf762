"""Describe an uploaded .npz dataset (PRUNING.md section 7) from its .npy headers and a chunked
scan of its values; no pickle is ever loaded. check_dataset_fits lives in dataset_fit."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

from app.inspection.containers import ZIP, sniff_container, zip_entry_count
from app.inspection.dataset_fit import check_dataset_fits
from app.inspection.descriptions import DatasetDescription
from app.inspection.errors import UploadRejected
from app.inspection.npy_arrays import ArrayInfo, read_header, scan_values

__all__ = ["DatasetDescription", "check_dataset_fits", "describe_dataset"]

MAX_ARRAYS = 1000
MAX_DATA_BYTES = 16 * 1024**3
_SPLIT_KEY = re.compile(r"^(x|y)_(train|val)(?:__(.+))?$")
HOW = "save it with np.savez('data.npz', x_train=..., y_train=..., x_val=..., y_val=...)"


def describe_dataset(path: Path, max_data_bytes: int = MAX_DATA_BYTES) -> DatasetDescription:
    if not _is_zip(path):
        raise UploadRejected(415, "unsupported_file_type", f"a dataset must be an .npz file; {HOW}")
    try:
        if zip_entry_count(path) > MAX_ARRAYS:
            raise UploadRejected(413, "too_many_arrays", f"the .npz holds over {MAX_ARRAYS} arrays")
        with zipfile.ZipFile(path) as zf:
            arrays = _read_arrays(zf, max_data_bytes)
    except (
        zipfile.BadZipFile,
        EOFError,
        NotImplementedError,
        RuntimeError,
        UnicodeDecodeError,
    ) as exc:
        raise UploadRejected(
            422, "invalid_npz", f"the .npz archive is damaged: {exc}; {HOW}"
        ) from exc
    n_train = _split_length(arrays, "train", required=True)
    n_val = _split_length(arrays, "val", required=False)
    if n_train == 0:
        raise UploadRejected(422, "empty_dataset", f"x_train has no examples; {HOW}")
    return DatasetDescription(
        arrays={key: info.to_dict() for key, info in arrays.items()}, n_train=n_train, n_val=n_val
    )


def _is_zip(path: Path) -> bool:
    try:
        return sniff_container(path) == ZIP
    except UploadRejected:  # its reason speaks of models
        return False


def _read_arrays(zf: zipfile.ZipFile, max_data_bytes: int) -> dict[str, ArrayInfo]:
    infos = zf.infolist()
    arrays: dict[str, ArrayInfo] = {}
    declared = 0
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise UploadRejected(
                422, "invalid_npz", f"{info.filename!r} is not an .npy array; {HOW}"
            )
        key = info.filename.removesuffix(".npy")
        with zf.open(info) as stream:
            shape, dtype = read_header(stream, key)
            declared += math.prod(shape) * dtype.itemsize
            if declared > max_data_bytes:
                raise UploadRejected(
                    413, "dataset_too_large", f"the arrays hold more than {max_data_bytes} bytes"
                )
            arrays[key] = scan_values(stream, key, shape, dtype)
    return arrays


def _split_length(arrays: dict[str, ArrayInfo], split: str, required: bool) -> int:
    """The shared length of x_<split> (or every x_<split>__<input>) and y_<split>."""
    xs = {k: a for k, a in arrays.items() if _matches(k, "x", split)}
    ys = {k: a for k, a in arrays.items() if _matches(k, "y", split)}
    if not xs and not ys and not required:
        return 0
    if not xs or f"y_{split}" not in ys:
        missing = [name for name, found in ((f"x_{split}", xs), (f"y_{split}", ys)) if not found]
        raise UploadRejected(
            422,
            "missing_array",
            f"the dataset lacks {' and '.join(missing)}; {HOW}",
            {"missing": missing},
        )
    if f"x_{split}" in xs and len(xs) > 1:
        raise UploadRejected(
            422,
            "ambiguous_inputs",
            f"use either x_{split} (one input) or x_{split}__<input name> "
            "keys (several inputs), not both",
        )
    lengths = {key: (a.shape[0] if a.shape else None) for key, a in {**xs, **ys}.items()}
    if len(set(lengths.values())) != 1 or None in lengths.values():
        listed = ", ".join(
            f"{k} has {n if n is not None else 'no'} rows" for k, n in lengths.items()
        )
        raise UploadRejected(
            422,
            "length_mismatch",
            f"the {split} arrays must have the same number of examples "
            f"along their first axis: {listed}",
            {"lengths": lengths},
        )
    return next(iter(lengths.values())) or 0


def _matches(key: str, role: str, split: str) -> bool:
    match = _SPLIT_KEY.match(key)
    return bool(match) and match.group(1) == role and match.group(2) == split  # type: ignore[union-attr]
