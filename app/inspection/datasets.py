"""Describe an uploaded .npz dataset (PRUNING.md section 7) from its .npy headers and a chunked
scan of its values; no pickle is ever loaded. check_dataset_fits lives in dataset_fit."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

from app.inspection.containers import ZIP, sniff_container, zip_entry_count
from app.inspection.dataset_fit import check_dataset_fits, refusals_as_422
from app.inspection.descriptions import DatasetDescription
from app.inspection.errors import UploadRejected
from app.inspection.npy_arrays import read_header, scan_values
from worker.pruning.contract.model_rules import HOW, ArrayFacts, split_lengths

__all__ = ["DatasetDescription", "check_dataset_fits", "describe_dataset"]

MAX_ARRAYS = 1000
MAX_DATA_BYTES = 16 * 1024**3


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
    with refusals_as_422():
        n_train, n_val = split_lengths(arrays)
    return DatasetDescription(
        arrays={key: facts.to_json() for key, facts in arrays.items()}, n_train=n_train, n_val=n_val
    )


def _is_zip(path: Path) -> bool:
    try:
        return sniff_container(path) == ZIP
    except UploadRejected:  # its reason speaks of models
        return False


def _read_arrays(zf: zipfile.ZipFile, max_data_bytes: int) -> dict[str, ArrayFacts]:
    infos = zf.infolist()
    arrays: dict[str, ArrayFacts] = {}
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
