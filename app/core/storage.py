"""Blobs in Postgres: a row with the sha256 and size, the bytes in ordered chunks.

Written inside the caller's transaction (so the metadata row that points at a blob commits with
it), read back one chunk at a time: never a whole model in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.db.models import Blob, BlobChunk


class BlobIntegrityError(Exception):
    """The bytes read back do not hash to the blob's recorded sha256."""


def stream_blob(
    open_session: Callable[[], AbstractContextManager[Session]], blob_id: str
) -> Iterator[bytes]:
    """The blob's bytes in order, one chunk per query, each checked against its own sha256
    before it is yielded: corrupted bytes never leave. `open_session` is used once per query, so
    a caller may hold a connection only while a chunk is fetched (downloads)."""
    with open_session() as session:
        blob = session.get(Blob, blob_id)
        if blob is None:
            raise KeyError(blob_id)
        expected = blob.sha256
        count = session.scalar(
            select(func.count()).select_from(BlobChunk).where(BlobChunk.blob_id == blob_id)
        )
    digest = hashlib.sha256()
    for seq in range(count or 0):
        with open_session() as session:
            row = session.execute(
                select(BlobChunk.data, BlobChunk.sha256).where(
                    BlobChunk.blob_id == blob_id, BlobChunk.seq == seq
                )
            ).one_or_none()
        if row is None:
            raise BlobIntegrityError(f"blob {blob_id} is missing chunk {seq}")
        data = bytes(row.data)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise BlobIntegrityError(f"chunk {seq} of blob {blob_id} does not match its sha256")
        digest.update(data)
        yield data
    if digest.hexdigest() != expected:
        raise BlobIntegrityError(f"blob {blob_id} does not match its sha256")


class BlobStore:
    def __init__(self, session: Session, chunk_bytes: int) -> None:
        self.session = session
        self.chunk_bytes = chunk_bytes

    def put_file(self, path: Path, tenant_id: str) -> Blob:
        with path.open("rb") as stream:
            return self.put_stream(stream, tenant_id)

    def put_stream(self, stream: BinaryIO, tenant_id: str) -> Blob:
        blob = Blob(tenant_id=tenant_id, sha256="", size_bytes=0)
        self.session.add(blob)
        self.session.flush()
        digest, size, seq = hashlib.sha256(), 0, 0
        while chunk := stream.read(self.chunk_bytes):
            digest.update(chunk)
            size += len(chunk)
            chunk_sha = hashlib.sha256(chunk).hexdigest()
            row = BlobChunk(blob_id=blob.id, seq=seq, data=chunk, sha256=chunk_sha)
            self.session.add(row)
            # Flush and forget each chunk so the session never holds more than one in memory.
            self.session.flush()
            self.session.expunge(row)
            seq += 1
        blob.sha256, blob.size_bytes = digest.hexdigest(), size
        self.session.flush()
        return blob

    def iter_chunks(self, blob_id: str) -> Iterator[bytes]:
        """The blob's bytes in order, fetching one chunk per query."""
        return stream_blob(lambda: nullcontext(self.session), blob_id)

    def write_to_file(self, blob_id: str, dest: Path) -> Path:
        with dest.open("wb") as out:
            for chunk in self.iter_chunks(blob_id):
                out.write(chunk)
        return dest

    def delete(self, blob_id: str) -> None:
        self.session.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
        self.session.execute(delete(Blob).where(Blob.id == blob_id))
