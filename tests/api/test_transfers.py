"""Downloads and uploads as slow or unlucky clients see them: every chunk checked before it is
sent, and no pooled database connection held while bytes travel."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.core.db.models import BlobChunk, Dataset
from app.core.db.session import session_scope
from tests.api.conftest import upload

CHUNK = 1024


def test_a_corrupted_chunk_never_reaches_the_client_as_good(
    live_url: str,
    client: TestClient,
    dataset_file: Path,
    settings_update: Callable[[dict[str, Any]], None],
) -> None:
    settings_update({"blob_chunk_bytes": CHUNK})
    dataset = upload(client, "datasets", dataset_file).json()
    assert dataset_file.stat().st_size > 4 * CHUNK
    with session_scope() as session:
        blob_id = session.scalar(select(Dataset.blob_id).where(Dataset.id == dataset["id"]))
        session.execute(  # bit rot in chunk 2, its recorded digest unchanged
            update(BlobChunk)
            .where(BlobChunk.blob_id == blob_id, BlobChunk.seq == 2)
            .values(data=b"\x00" * CHUNK)
        )
    received = bytearray()
    with httpx.Client(base_url=live_url, headers=client.headers, timeout=30) as http:
        with pytest.raises(httpx.TransportError):
            with http.stream("GET", f"/v1/datasets/{dataset['id']}/download") as response:
                assert response.status_code == 200
                for part in response.iter_bytes():
                    received.extend(part)
    assert bytes(received) == dataset_file.read_bytes()[: 2 * CHUNK]
    assert hashlib.sha256(received).hexdigest() != dataset["sha256"]
