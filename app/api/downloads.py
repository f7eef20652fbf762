"""Blobs streamed back to clients, one chunk at a time, with an ETag of their sha256."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from fastapi import Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.core.db.models import Blob
from app.core.db.session import get_sessionmaker
from app.core.prefetch import prefetched
from app.core.storage import BlobIntegrityError, stream_blob

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    ".zip": "application/zip",
    ".tar.gz": "application/gzip",
    ".keras": "application/zip",
    ".json": "application/json",
    ".png": "image/png",
}


def safe_filename(stem: str, suffix: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "download"
    return f"{cleaned[:100]}{suffix}"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def _chunks(blob_id: str) -> Iterator[bytes]:
    # A session per chunk: a pooled connection is held only while a chunk is fetched, never
    # while a slow client takes it. The next chunk is fetched and checked while this one is sent.
    try:
        yield from prefetched(stream_blob(get_sessionmaker(), blob_id))
    except BlobIntegrityError:
        # Raised before the bad chunk is sent: the response ends short of its Content-Length,
        # which every HTTP client reports as an error.
        log.exception("download of blob %s stopped", blob_id)
        raise


def blob_response(
    session: Session, blob_id: str, filename: str, if_none_match: str | None
) -> Response:
    blob = session.get(Blob, blob_id)
    if blob is None:
        raise KeyError(blob_id)
    etag = f'"{blob.sha256}"'
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    suffix = next((s for s in MEDIA_TYPES if filename.endswith(s)), "")
    return StreamingResponse(
        _chunks(blob.id),
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        headers={
            "Content-Length": str(blob.size_bytes),
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": etag,
        },
    )


def binary_response(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries of a download answering with one of `media_types`."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        200: {
            "description": "The file, streamed, with Content-Length and an ETag of its sha256.",
            "content": {media_type: binary for media_type in media_types},
            "headers": {
                "ETag": {"schema": {"type": "string"}, "description": "The file's sha256."},
                "Content-Disposition": {"schema": {"type": "string"}},
            },
        },
        304: {"description": "Not modified: If-None-Match named this file's ETag."},
    }
