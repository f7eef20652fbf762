"""Unpack an untrusted .zip or .tar.gz member by member, and find the SavedModel inside it.

Used by the API before anything is stored and by the worker to unpack the stored archive.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from app.inspection.archive_members import (
    ExtractionBudget,
    ExtractLimits,
    make_directory,
    member_path,
    refuse_special_member,
    write_member,
)
from app.inspection.containers import ZIP, sniff_container, zip_entry_count
from app.inspection.errors import UploadRejected

__all__ = ["ExtractLimits", "extract_archive", "find_saved_model_root", "safe_extract"]

SAVED_MODEL_FILE = "saved_model.pb"
# tarfile reads these headers whole into memory; a real one is a few hundred bytes.
_IN_MEMORY_TAR_HEADERS = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
_MAX_TAR_HEADER_BYTES = 1024 * 1024

# Which members' bytes an unpack writes out (by path in the archive); the others are still read.
KeepMember = Callable[[PurePosixPath], bool]


def keep_all(_relative: PurePosixPath) -> bool:
    return True


def safe_extract(archive: Path, dest: Path, limits: ExtractLimits | None = None) -> Path:
    """Unpacks `archive` into `dest` and returns the SavedModel directory inside it."""
    extract_archive(archive, dest, limits or ExtractLimits())
    return find_saved_model_root(dest)


def extract_archive(
    archive: Path,
    dest: Path,
    limits: ExtractLimits,
    filename: str | None = None,
    keep: KeepMember = keep_all,
) -> str:
    """Unpacks a zip or tar.gz (told by content) into `dest`; returns which one it was. Every
    member is read and checked; only those `keep` names get their bytes written."""
    kind = sniff_container(archive, filename)
    dest.mkdir(parents=True, exist_ok=True)
    budget = ExtractionBudget(limits)
    try:
        if kind == ZIP:
            _extract_zip(archive, dest, budget, keep)
        else:
            _extract_tar_gz(archive, dest, budget, keep)
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        EOFError,
        zlib.error,
        NotImplementedError,
        UnicodeDecodeError,  # a zip member name flagged UTF-8 that is not
    ) as exc:
        raise UploadRejected(
            422, "corrupt_archive", f"the {kind} archive is damaged or truncated: {exc}"
        ) from exc
    return kind


def find_saved_model_root(tree: Path) -> Path:
    found = sorted(p for p in tree.rglob(SAVED_MODEL_FILE) if p.is_file())
    if not found:
        nested = [p.name for p in tree.rglob("*") if p.name.endswith((".zip", ".tar.gz", ".tgz"))]
        hint = " (archives inside the archive are not unpacked)" if nested else ""
        raise UploadRejected(
            422,
            "no_saved_model",
            f"the archive holds no {SAVED_MODEL_FILE}{hint}; archive the "
            "directory written by model.export() or tf.saved_model.save()",
        )
    where = [str(p.relative_to(tree)) for p in found]
    if len(found) > 1:
        raise UploadRejected(
            422,
            "multiple_saved_models",
            f"the archive holds {len(found)} SavedModels ({', '.join(where[:5])}); upload one "
            "model per archive",
            {"saved_models": where[:20]},
        )
    root = found[0].parent
    if len(root.relative_to(tree).parts) > 1:
        raise UploadRejected(
            422,
            "saved_model_too_deep",
            f"{where[0]} is nested too deep: put the SavedModel's files at the archive's root or "
            "inside one top-level folder, as `zip -r model.zip model_dir` makes them",
        )
    return root


def _extract_zip(archive: Path, dest: Path, budget: ExtractionBudget, keep: KeepMember) -> None:
    for _ in range(min(zip_entry_count(archive), budget.limits.max_members + 1)):
        budget.add_member()  # the central directory is known up front: refuse before writing
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) != budget.members:
            raise zipfile.BadZipFile("the central directory disagrees with its end record")
        for info in infos:
            _extract_zip_member(zf, info, dest, budget, keep)


def _extract_zip_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    dest: Path,
    budget: ExtractionBudget,
    keep: KeepMember,
) -> None:
    relative = member_path(info.filename)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise refuse_special_member(info.filename, "symbolic link")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise refuse_special_member(info.filename, "device file, fifo or socket")
    if info.flag_bits & 0x1:
        raise UploadRejected(422, "encrypted_archive", "encrypted zip archives are not accepted")
    if relative is None:
        return
    if info.is_dir():
        make_directory(dest, relative)
        return
    with zf.open(info) as source:
        write_member(
            source,
            dest,
            relative,
            budget,
            lambda n: budget.check_ratio(n, info.compress_size),
            keep(relative),
        )


class _CountingReader:
    """A file wrapper that knows how many compressed bytes the decompressor has consumed."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data


class _BoundedTarInfo(tarfile.TarInfo):
    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in _IN_MEMORY_TAR_HEADERS and self.size > _MAX_TAR_HEADER_BYTES:
            raise UploadRejected(
                413,
                "archive_header_too_large",
                f"a tar extended header claims {self.size} bytes; re-create the archive with tar",
            )
        return super()._proc_member(tarfile_)  # type: ignore[misc]


def _extract_tar_gz(archive: Path, dest: Path, budget: ExtractionBudget, keep: KeepMember) -> None:
    with archive.open("rb") as raw:
        counted = _CountingReader(raw)
        with tarfile.open(fileobj=counted, mode="r|gz", tarinfo=_BoundedTarInfo) as tar:  # type: ignore[call-overload]
            for member in tar:
                budget.add_member()
                _extract_tar_member(tar, member, dest, budget, counted, keep)


def _extract_tar_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    dest: Path,
    budget: ExtractionBudget,
    counted: _CountingReader,
    keep: KeepMember,
) -> None:
    relative = member_path(member.name)
    if member.issym():
        raise refuse_special_member(member.name, "symbolic link")
    if member.islnk():
        raise refuse_special_member(member.name, "hard link")
    if member.ischr() or member.isblk() or member.isfifo():
        raise refuse_special_member(member.name, "device file or fifo")
    if not (member.isreg() or member.isdir()):
        raise refuse_special_member(member.name, f"tar entry of type {member.type!r}")
    if relative is None:
        return
    if member.isdir():
        make_directory(dest, relative)
        return
    source = tar.extractfile(member)
    assert source is not None  # a regular member always has a file object
    with source:
        write_member(
            source,
            dest,
            relative,
            budget,
            lambda _n: budget.check_ratio(budget.total_bytes, counted.consumed),
            keep(relative),
        )
