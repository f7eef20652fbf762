"""Blobs in Postgres: a row with the sha256 and size, the bytes in ordered chunks.

Written inside the caller's transaction (so the metadata row that points at a blob commits with
it), read back one chunk at a time: never a whole model in memory. Chunks travel in Postgres's
binary format (COPY in, binary results out): the text format would send every byte as two hex
digits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import BinaryIO

import psycopg
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.db.models import Blob, BlobChunk
from app.core.prefetch import prefetched

COPY_CHUNKS = "COPY blob_chunks (blob_id, seq, data, sha256) FROM STDIN (FORMAT BINARY)"
CHUNK_TYPES = ["text", "int4", "bytea", "text"]
SELECT_CHUNK = "SELECT data, sha256 FROM blob_chunks WHERE blob_id = %s AND seq = %s"


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
            cursor = _driver_connection(session).execute(SELECT_CHUNK, (blob_id, seq), binary=True)
            found = cursor.fetchone()
        if found is None:
            raise BlobIntegrityError(f"blob {blob_id} is missing chunk {seq}")
        data, chunk_sha = found
        if hashlib.sha256(data).hexdigest() != chunk_sha:
            raise BlobIntegrityError(f"chunk {seq} of blob {blob_id} does not match its sha256")
        digest.update(data)
        yield data
    if digest.hexdigest() != expected:
        raise BlobIntegrityError(f"blob {blob_id} does not match its sha256")


def _driver_connection(session: Session) -> psycopg.Connection[tuple[object, ...]]:
    """The psycopg connection under the session, in the session's transaction."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    return connection


def _hashed_chunks(stream: BinaryIO, chunk_bytes: int) -> Iterator[tuple[bytes, str]]:
    while chunk := stream.read(chunk_bytes):
        yield chunk, hashlib.sha256(chunk).hexdigest()


class BlobStore:
    def __init__(self, session: Session, chunk_bytes: int) -> None:
        self.session = session
        self.chunk_bytes = chunk_bytes

    def put_file(self, path: Path, tenant_id: str, sha256: str | None = None) -> Blob:
        """`sha256`, when the caller already hashed the file, saves hashing it again."""
        with path.open("rb") as stream:
            return self.put_stream(stream, tenant_id, sha256)

    def put_stream(self, stream: BinaryIO, tenant_id: str, sha256: str | None = None) -> Blob:
        blob = Blob(tenant_id=tenant_id, sha256="", size_bytes=0)
        self.session.add(blob)
        self.session.flush()
        digest = hashlib.sha256() if sha256 is None else None
        size = 0
        with _driver_connection(self.session).cursor() as cursor:
            with cursor.copy(COPY_CHUNKS) as copy:
                copy.set_types(CHUNK_TYPES)
                # The next chunk is read and hashed while this one goes to Postgres.
                chunks = prefetched(_hashed_chunks(stream, self.chunk_bytes))
                for seq, (chunk, chunk_sha) in enumerate(chunks):
                    if digest is not None:
                        digest.update(chunk)
                    size += len(chunk)
                    copy.write_row((blob.id, seq, chunk, chunk_sha))
        blob.sha256 = sha256 if digest is None else digest.hexdigest()
        blob.size_bytes = size
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
