"""Multipart uploads streamed to a private temp file: capped and hashed as the bytes arrive.

The whole upload is never in memory, and its path never comes from the client's filename.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.api.errors import ApiError
from app.api.multipart_sink import FILE_FIELD, UploadSink, too_large
from app.core.settings import Settings

# Room for the boundaries, part headers and small text fields around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass
class ReceivedUpload:
    workdir: Path  # private to this request, removed when the upload is done with
    path: Path
    filename: str  # as the client named it: only its extension is ever used
    size_bytes: int
    sha256: str
    fields: dict[str, str]


def multipart_openapi(file_description: str) -> dict[str, Any]:
    """The request body for /docs, since the route reads the stream itself."""
    schema = {
        "type": "object",
        "additionalProperties": False,  # any other field is a 400 unexpected_field
        "required": [FILE_FIELD],
        "properties": {
            FILE_FIELD: {"type": "string", "format": "binary", "description": file_description},
            "name": {
                "type": "string",
                "maxLength": 200,
                "description": "Defaults to the filename.",
            },
        },
    }
    form = {"schema": schema, "encoding": {FILE_FIELD: {"contentType": "application/octet-stream"}}}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": form}}}


async def _read_body(request: Request, sink: UploadSink, boundary: bytes) -> None:
    try:
        parser = MultipartParser(boundary, sink.callbacks())  # refuses an overlong boundary
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise ApiError(
            400, "malformed_multipart", f"the multipart body is malformed: {exc}"
        ) from None
    except ClientDisconnect:
        raise ApiError(400, "upload_incomplete", "the client disconnected mid-upload") from None
    finally:
        sink.close()
    if not sink.finished:
        raise ApiError(
            400, "malformed_multipart", "the multipart body ends before its last boundary"
        )


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send the file as multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, "malformed_multipart", "the multipart Content-Type has no boundary")
    return boundary


def _check_declared_length(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise ApiError(400, "bad_content_length", "Content-Length must be a number")
    if int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise too_large(max_bytes)


def remove_stale_uploads(uploads_dir: Path, max_age_seconds: float = 24 * 3600) -> None:
    """Temp dirs left by a process that died mid-upload (another process's are never that old)."""
    cutoff = time.time() - max_age_seconds
    for path in uploads_dir.glob("upload-*"):
        if path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def receive_upload(
    request: Request, settings: Settings, text_fields: frozenset[str] = frozenset({"name"})
) -> AsyncIterator[ReceivedUpload]:
    """Stream the request's `file` part to disk; the temp files are removed when the block ends."""
    max_bytes = settings.max_upload_bytes
    _check_declared_length(request, max_bytes)
    boundary = _boundary(request)
    uploads_dir = settings.data_dir / "uploads"
    uploads_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="upload-", dir=uploads_dir))
    try:
        sink = UploadSink(workdir, max_bytes, text_fields)
        await _read_body(request, sink, boundary)
        if sink.filename is None:
            raise ApiError(
                422,
                "missing_file",
                "the form has no `file` part",
                [{"field": FILE_FIELD, "message": "required"}],
            )
        if sink.size == 0:
            raise ApiError(422, "empty_file", "the uploaded file is empty")
        yield ReceivedUpload(
            workdir=workdir,
            path=sink.path,
            filename=sink.filename,
            size_bytes=sink.size,
            sha256=sink.digest.hexdigest(),
            fields=sink.fields,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
