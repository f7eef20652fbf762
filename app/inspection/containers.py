"""What kind of container an upload is, told by its first bytes rather than by its name."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from app.inspection.errors import UploadRejected

ZIP = "zip"
TAR_GZ = "tar.gz"

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
TAR_MAGIC_OFFSET = 257
TAR_HEADER_BYTES = 512

# The container each known file name suffix promises.
SUFFIX_CONTAINERS = {".zip": ZIP, ".keras": ZIP, ".npz": ZIP, ".tar.gz": TAR_GZ, ".tgz": TAR_GZ}
ACCEPTED = "a .zip or .tar.gz of a SavedModel directory, or a .keras file"


def sniff_container(path: Path, filename: str | None = None) -> str:
    """ZIP or TAR_GZ; 415 for anything else, or for a name whose suffix promises the other one."""
    head = _read_head(path)
    if not head:
        raise UploadRejected(415, "empty_file", f"the uploaded file is empty; send {ACCEPTED}")
    if head.startswith(ZIP_MAGICS):
        kind = ZIP
    elif head.startswith(GZIP_MAGIC) and _gzip_holds_tar(path):
        kind = TAR_GZ
    elif head.startswith(GZIP_MAGIC):
        raise UploadRejected(
            415,
            "unsupported_file_type",
            f"the file is gzip-compressed but not a tar archive; "
            f"send {ACCEPTED} (made with `tar czf model.tar.gz model_dir`)",
        )
    else:
        raise UploadRejected(
            415, "unsupported_file_type", f"the file is neither zip nor tar.gz; send {ACCEPTED}"
        )
    _check_suffix(filename or path.name, kind)
    return kind


def zip_entry_count(path: Path) -> int:
    """The entry count the zip's end record declares, read before zipfile builds one object per
    entry (millions of tiny entries would exhaust memory first)."""
    with path.open("rb") as fh:
        end_record = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # stdlib, stable
    if end_record is None:
        raise zipfile.BadZipFile("no end of central directory record")
    return int(end_record[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]


def promised_suffix(filename: str) -> str | None:
    lowered = filename.lower()
    return next((s for s in SUFFIX_CONTAINERS if lowered.endswith(s)), None)


def _check_suffix(filename: str, kind: str) -> None:
    suffix = promised_suffix(filename)
    if suffix is not None and SUFFIX_CONTAINERS[suffix] != kind:
        raise UploadRejected(
            415,
            "extension_mismatch",
            f"the file is named {suffix} but its content is a {kind} archive; "
            f"rename it to match its content or send {ACCEPTED}",
            {"filename_suffix": suffix, "content": kind},
        )


def _read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(8)


def _gzip_holds_tar(path: Path) -> bool:
    """Whether the first decompressed block carries the ustar/GNU tar magic."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = b""
    with path.open("rb") as fh:
        while len(out) < TAR_HEADER_BYTES:
            chunk = fh.read(64 * 1024)
            if not chunk:
                break
            try:
                out += decompressor.decompress(chunk, TAR_HEADER_BYTES - len(out))
            except zlib.error:
                return False
            if decompressor.eof:
                break
    return out[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar"
