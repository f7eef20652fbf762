"""Build archives for the tests, hostile ones included, without committed binaries."""

from __future__ import annotations

import io
import json
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MiB = 1024**2

SAVED_MODEL_FILES = {
    "saved_model.pb": b"placeholder graph",
    "variables/variables.index": b"index",
    "variables/variables.data-00000-of-00001": b"data",
    "fingerprint.pb": b"fp",
}


def zip_files(path: Path, files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def zip_directory(path: Path, source: Path, top_folder: str | None = None) -> Path:
    """As `zip -r`: every file of `source`, under `top_folder/` when given."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(source.rglob("*")):
            relative = file.relative_to(source).as_posix()
            zf.write(file, f"{top_folder}/{relative}" if top_folder else relative)
    return path


def tar_gz_directory(path: Path, source: Path, top_folder: str | None = ".") -> Path:
    """As `tar czf archive.tar.gz -C parent folder` (or `-C source .` for the root layout)."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(source, arcname=top_folder or ".")
    return path


def zip_with_mode(path: Path, name: str, data: bytes, mode: int) -> Path:
    """A zip member carrying Unix file-type bits (symlink, device, fifo) in external_attr."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("saved_model.pb", b"graph")
        zf.writestr(info, data)
    return path


def zip_symlink(path: Path, name: str, target: str) -> Path:
    return zip_with_mode(path, name, target.encode(), stat.S_IFLNK | 0o777)


def tar_gz_members(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            payload = data.get(member.name)
            if payload is not None:
                member.size = len(payload)
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return path


def tar_entry(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def tar_gz_files(path: Path, files: dict[str, bytes]) -> Path:
    return tar_gz_members(path, [tar_entry(name) for name in files], files)


def zip_of_zeros(path: Path, size: int) -> Path:
    """A SavedModel-looking zip whose variables member is `size` zero bytes (a zip bomb)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("saved_model.pb", b"g")
        with zf.open("variables/variables.data-00000-of-00001", "w") as member:
            for _ in range(size // MiB):
                member.write(bytes(MiB))
    return path


def tar_gz_of_zeros(path: Path, size: int) -> Path:
    """A tar.gz whose one member is `size` zero bytes (a tar bomb), built without the memory."""
    with tarfile.open(path, "w:gz") as tar:
        member = tar_entry("variables/variables.data-00000-of-00001")
        member.size = size
        tar.addfile(member, _Zeros(size))
    return path


class _Zeros:
    """A file object of `size` zero bytes."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def rewritten_keras(source: Path, dest: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a .keras file whose config.json went through `change`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(dest, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            copy.writestr(info.filename, data)
    return dest


def zip_with_undecodable_name(path: Path, files: dict[str, bytes], name: str) -> Path:
    """`files` zipped, with the bytes of member `name` replaced by ones that are not UTF-8 although
    the member is flagged as UTF-8 (zipfile cannot write such an archive itself)."""
    data = bytearray(zip_files(path, files, zipfile.ZIP_STORED).read_bytes())
    undecodable = b"\xff" * len(name.encode())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start >= 0:
            flags = int.from_bytes(data[start + flag_offset : start + flag_offset + 2], "little")
            data[start + flag_offset : start + flag_offset + 2] = (flags | 0x800).to_bytes(
                2, "little"
            )
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data).replace(name.encode(), undecodable))
    return path
