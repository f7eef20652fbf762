"""Safe extraction of one archive member at a time: names that stay inside the destination, and a
budget of members, bytes and compression ratio counted on the bytes actually written."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from app.inspection.errors import UploadRejected

GiB = 1024**3
MiB = 1024**2
CHUNK_BYTES = MiB
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ExtractLimits:
    max_members: int = 10_000
    max_total_bytes: int = 8 * GiB
    max_ratio: float = 200.0
    # Below this many expanded bytes a high ratio is harmless (a small file of zeros, say).
    ratio_floor_bytes: int = 16 * MiB

    @classmethod
    def from_settings(cls, settings: ArchiveSettings) -> ExtractLimits:
        return cls(
            max_members=settings.max_archive_members,
            max_total_bytes=settings.max_extracted_bytes,
            max_ratio=settings.max_compression_ratio,
        )


class ArchiveSettings(Protocol):
    """The settings that bound an extraction (app.core.settings.Settings has them)."""

    max_archive_members: int
    max_extracted_bytes: int
    max_compression_ratio: float


def member_path(name: str) -> PurePosixPath | None:
    """The member's path relative to the destination; None for the archive's root entry."""
    if "\x00" in name:
        raise _unsafe(name, "contains a NUL byte")
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or _DRIVE.match(normalized):
        raise _unsafe(name, "is an absolute path")
    parts = [part for part in normalized.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _unsafe(name, "climbs out of the archive with '..'")
    return PurePosixPath(*parts) if parts else None


def refuse_special_member(name: str, what: str) -> UploadRejected:
    return _unsafe(name, f"is a {what}; only regular files and directories are accepted")


def shown_name(name: str) -> str:
    """A member name fit for a message: tar hands undecodable bytes over as lone surrogates."""
    return name[:200].encode("utf-8", "backslashreplace").decode("utf-8")


def _unsafe(name: str, why: str) -> UploadRejected:
    return UploadRejected(
        422,
        "unsafe_archive_member",
        f"archive member {shown_name(name)!r} {why}; re-create the archive from the model "
        "directory with `zip -r` or `tar czf`",
        {"member": shown_name(name)},
    )


class ExtractionBudget:
    """Counts members and written bytes against the limits; raises 413 the moment one is passed."""

    def __init__(self, limits: ExtractLimits) -> None:
        self.limits = limits
        self.members = 0
        self.total_bytes = 0

    def add_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise UploadRejected(
                413,
                "too_many_members",
                f"the archive has more than {self.limits.max_members} members",
                {"max_members": self.limits.max_members},
            )

    def add_bytes(self, count: int) -> None:
        self.total_bytes += count
        if self.total_bytes > self.limits.max_total_bytes:
            raise UploadRejected(
                413,
                "archive_too_large",
                f"the archive expands to more than {self.limits.max_total_bytes} bytes",
                {"max_total_bytes": self.limits.max_total_bytes},
            )

    def check_ratio(self, expanded: int, compressed: int) -> None:
        if expanded <= self.limits.ratio_floor_bytes:
            return
        if expanded > self.limits.max_ratio * max(compressed, 1):
            raise UploadRejected(
                413,
                "compression_ratio_exceeded",
                f"the archive expands more than {self.limits.max_ratio:g} times its compressed "
                "size (a zip bomb?); upload the model without padding or filler data",
                {"max_ratio": self.limits.max_ratio},
            )


def make_directory(dest: Path, relative: PurePosixPath) -> None:
    try:
        dest.joinpath(relative).mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise _conflict(str(relative)) from exc


def write_member(
    source: IO[bytes],
    dest: Path,
    relative: PurePosixPath,
    budget: ExtractionBudget,
    check_ratio: Callable[[int], None],
    keep: bool = True,
) -> None:
    """Streams `source` to dest/relative, charging every chunk to the budget before writing it;
    `check_ratio(expanded bytes of this member)` raises when the archive is a bomb. A member not
    kept is still read to its end (so its CRC, size and ratio are checked) and left as an empty
    file, so duplicate names and file/directory clashes are refused as for a full unpack."""
    target = dest.joinpath(relative)
    make_directory(dest, relative.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        raise _conflict(str(relative)) from exc
    expanded = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            expanded += len(chunk)
            budget.add_bytes(len(chunk))
            check_ratio(expanded)
            if keep:
                out.write(chunk)


def _conflict(name: str) -> UploadRejected:
    return UploadRejected(
        422,
        "duplicate_archive_member",
        f"archive member {shown_name(name)!r} appears twice or clashes with a directory of the "
        "same name",
        {"member": shown_name(name)},
    )
