"""python-multipart callbacks for an upload: the `file` part goes to disk, capped and hashed as
its bytes arrive; the few text fields go to small buffers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_multipart.multipart import parse_options_header

from app.api.errors import ApiError
from app.api.storable_text import PROBLEM, is_storable

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
MAX_PARTS = 4
MAX_FIELD_BYTES = 1024


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "upload_too_large",
        f"the upload is larger than the limit of {limit} bytes",
        {"limit": limit},
    )


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: bytearray = field(default_factory=bytearray)


class UploadSink:
    """Receives one request's parts; `path` holds the file once the parser has finished."""

    def __init__(self, workdir: Path, max_bytes: int, text_fields: frozenset[str]) -> None:
        self.path = workdir / "upload.bin"
        self.max_bytes = max_bytes
        self.text_fields = text_fields
        self.digest = hashlib.sha256()
        self.size = 0
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self.parts = 0
        self.finished = False
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._out: BinaryIO | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ApiError(400, "too_many_parts", f"send at most {MAX_PARTS} multipart parts")
        self._part = _Part()

    def _header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self._part.headers[name] = self._header_value.decode("latin-1").strip()
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get("content-disposition", ""))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        self._part.filename = (
            None if raw_filename is None else raw_filename.decode("utf-8", "replace")
        )
        if self._part.name == FILE_FIELD:
            if self._out is not None or self.filename is not None:
                raise ApiError(400, "duplicate_file", "send exactly one `file` part")
            self.filename = self._part.filename or ""
            self._out = self.path.open("wb")
        elif self._part.name not in self.text_fields:
            expected = ", ".join([FILE_FIELD, *sorted(self.text_fields)])
            raise ApiError(
                400,
                "unexpected_field",
                f"unexpected form field {self._part.name!r}; send {expected}",
            )

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == FILE_FIELD and self._out is not None:
            self.size += end - start
            if self.size > self.max_bytes:
                raise too_large(self.max_bytes)
            chunk = data[start:end]
            self.digest.update(chunk)
            self._out.write(chunk)
            return
        self._part.text.extend(data[start:end])
        if len(self._part.text) > MAX_FIELD_BYTES:
            raise ApiError(400, "field_too_large", f"form field {self._part.name!r} is too long")

    def _part_end(self) -> None:
        if self._part.name == FILE_FIELD:
            self.close()
            return
        try:
            text = self._part.text.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(
                400, "bad_field", f"form field {self._part.name!r} is not UTF-8"
            ) from None
        if not is_storable(text):
            raise ApiError(400, "bad_field", f"form field {self._part.name!r} {PROBLEM}")
        self.fields[self._part.name] = text

    def _end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
