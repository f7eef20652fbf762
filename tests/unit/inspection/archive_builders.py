"""Build archives for the tests, hostile ones included, without committed binaries."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

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
