"""The arrays of an .npz file memory-mapped, never read whole into memory.

`np.load(..., mmap_mode="r")` ignores mmap_mode for an .npz (a zip), so each member stored
uncompressed (np.savez) is mapped where its .npy data lies inside the zip; a compressed member
(np.savez_compressed), or one in a .npy format version NumPy has no public header reader for,
is written out once to a scratch .npy file and that is mapped. Small members are just read.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np

# Below this a member is read into memory: mapping it would save nothing worth a file handle.
MAP_FROM_BYTES = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _key(member: str) -> str:
    return member.removesuffix(".npy")


def _data_offset(file, info: zipfile.ZipInfo) -> int:
    """Where a member's bytes start: after its local header, whose lengths may differ from
    the central directory's."""
    file.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(file.read(_LOCAL_HEADER.size))
    if signature != _LOCAL_SIGNATURE:
        raise ValueError(f"member {info.filename} has no valid local header")
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def _check_header(dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise ValueError("an array holds Python objects, which would need pickle")


def _mapped_in_place(path: Path, file, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The member mapped inside the zip, or None when it cannot be (then it is extracted)."""
    start = _data_offset(file, info)
    file.seek(start)
    reader = _HEADER_READERS.get(np.lib.format.read_magic(file))
    if reader is None:
        return None
    shape, fortran_order, dtype = reader(file)
    _check_header(dtype)
    header_end = file.tell()
    if header_end - start + int(np.prod(shape)) * dtype.itemsize > info.file_size:
        raise ValueError(f"member {info.filename} is shorter than its header says")
    order = "F" if fortran_order else "C"
    return np.memmap(path, dtype=dtype, mode="r", offset=header_end, shape=shape, order=order)


def _mapped_from_scratch(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path):
    with archive.open(info) as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink, length=1 << 22)
    array = np.load(target, mmap_mode="r", allow_pickle=False)
    _check_header(array.dtype)
    return array


def open_npz(path: str | Path, scratch_dir: str | Path) -> dict[str, np.ndarray]:
    """{key: read-only array} of the .npz at `path`; scratch_dir holds extracted members and
    must outlive the arrays' use. Raises ValueError, OSError or BadZipFile on a bad file."""
    path, scratch = Path(path), Path(scratch_dir)
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as file:
        for number, info in enumerate(archive.infolist()):
            if not info.filename.endswith(".npy"):
                continue
            key = _key(info.filename)
            if info.file_size < MAP_FROM_BYTES:
                with archive.open(info) as member:
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            mapped = None
            if info.compress_type == zipfile.ZIP_STORED:
                mapped = _mapped_in_place(path, file, info)
            if mapped is None:
                target = scratch / f"npz-member-{number}.npy"
                mapped = _mapped_from_scratch(archive, info, target)
            arrays[key] = mapped
    return arrays
