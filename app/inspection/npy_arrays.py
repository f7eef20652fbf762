"""Read one .npy member of an .npz: its header (never a pickle) and a bounded, chunked scan of
its values for NaN/inf and for the range a label check needs. No array is loaded whole."""

from __future__ import annotations

import math
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from app.inspection.errors import UploadRejected
from worker.pruning.contract.model_rules import ArrayFacts

SCAN_CHUNK_BYTES = 4 * 1024**2
NUMERIC_KINDS = "biuf"  # bool, signed and unsigned int, float
TEXT_KINDS = "SU"  # bytes and str: they feed a model's string inputs


def read_header(stream: IO[bytes], key: str) -> tuple[list[int], np.dtype]:
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = npy_format.read_array_header_1_0(stream)
        else:
            shape, _fortran, dtype = npy_format.read_array_header_2_0(stream)
    except (ValueError, SyntaxError, EOFError) as exc:
        raise _invalid(key, f"its .npy header does not parse ({exc})") from exc
    if dtype.hasobject:
        raise UploadRejected(
            422,
            "object_array",
            f"array {key!r} has dtype object: pickled/object arrays are not accepted; "
            "save numeric arrays (np.savez with float or int arrays)",
            {"array": key},
        )
    plain = dtype.fields is None and dtype.subdtype is None
    if not plain or dtype.kind not in NUMERIC_KINDS + TEXT_KINDS:
        raise _invalid(key, f"its dtype {dtype} is not plain numbers (bool, int, float) or text")
    if any(d < 0 for d in shape):
        raise _invalid(key, f"its header declares a negative dimension {shape}")
    return [int(d) for d in shape], dtype


def scan_values(stream: IO[bytes], key: str, shape: list[int], dtype: np.dtype) -> ArrayFacts:
    """Reads exactly the array's bytes in chunks: no NaN/inf; min and max of numbers."""
    remaining = math.prod(shape) * dtype.itemsize
    chunk_bytes = max(dtype.itemsize, SCAN_CHUNK_BYTES - SCAN_CHUNK_BYTES % dtype.itemsize)
    low: Any = None
    high: Any = None
    offset = 0
    while remaining:
        chunk = stream.read(min(chunk_bytes, remaining))
        if not chunk:
            raise _invalid(key, "its data is shorter than its header says (truncated file?)")
        if len(chunk) % dtype.itemsize:  # a short read inside one element: read the rest
            chunk += stream.read(dtype.itemsize - len(chunk) % dtype.itemsize)
        values = np.frombuffer(chunk, dtype=dtype)
        if values.size == 0 or len(chunk) % dtype.itemsize:
            raise _invalid(key, "its data is shorter than its header says (truncated file?)")
        if dtype.kind == "f" and not np.isfinite(values).all():
            bad = offset + int(np.flatnonzero(~np.isfinite(values))[0])
            raise UploadRejected(
                422,
                "non_finite_values",
                f"array {key!r} holds NaN or infinite values (first at flat index {bad}); "
                "drop or impute them before uploading",
                {"array": key, "flat_index": bad},
            )
        if dtype.kind in NUMERIC_KINDS:
            chunk_low, chunk_high = values.min().item(), values.max().item()
            low = chunk_low if low is None else min(low, chunk_low)
            high = chunk_high if high is None else max(high, chunk_high)
        offset += values.size
        remaining -= len(chunk)
    if dtype.kind == "b" and low is not None:
        low, high = int(low), int(high)
    return ArrayFacts(tuple(shape), dtype.name, low, high)


def _invalid(key: str, why: str) -> UploadRejected:
    return UploadRejected(
        422,
        "invalid_npz",
        f"array {key!r} cannot be read: {why}; save the data with np.savez",
        {"array": key},
    )
