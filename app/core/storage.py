"""Blobs in Postgres: a row with the sha256 and size, the bytes in ordered chunks.

Written inside the caller's transaction (so the metadata row that points at a blob commits with
it), read back one chunk at a time: never a whole model in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.db.models import Blob, BlobChunk


class BlobIntegrityError(Exception):
    """The bytes read back do not hash to the blob's recorded sha256."""


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
            row = BlobChunk(blob_id=blob.id, seq=seq, data=chunk)
            self.session.add(row)
            # Flush and forget each chunk so the session never holds more than one in memory.
            self.session.flush()
            self.session.expunge(row)
            seq += 1
        blob.sha256, blob.size_bytes = digest.hexdigest(), size
        self.session.flush()
        return blob

    def iter_chunks(self, blob_id: str, verify: bool = True) -> Iterator[bytes]:
        """The blob's bytes in order, fetching one chunk per query."""
        blob = self.session.get(Blob, blob_id)
        if blob is None:
            raise KeyError(blob_id)
        count = self.session.scalar(
            select(func.count()).select_from(BlobChunk).where(BlobChunk.blob_id == blob_id)
        )
        digest = hashlib.sha256()
        for seq in range(count or 0):
            data = self.session.scalar(
                select(BlobChunk.data).where(BlobChunk.blob_id == blob_id, BlobChunk.seq == seq)
            )
            if data is None:
                raise BlobIntegrityError(f"blob {blob_id} is missing chunk {seq}")
            digest.update(data)
            yield bytes(data)
        if verify and digest.hexdigest() != blob.sha256:
            raise BlobIntegrityError(f"blob {blob_id} does not match its sha256")

    def write_to_file(self, blob_id: str, dest: Path) -> Path:
        with dest.open("wb") as out:
            for chunk in self.iter_chunks(blob_id):
                out.write(chunk)
        return dest

    def delete(self, blob_id: str) -> None:
        self.session.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
        self.session.execute(delete(Blob).where(Blob.id == blob_id))
