"""Downloads and uploads as slow or unlucky clients see them: every chunk checked before it is
sent, and no pooled database connection held while bytes travel."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.core.db import session as db_session
from app.core.db.models import BlobChunk, Dataset
from app.core.db.session import session_scope
from tests.api.conftest import submit, upload

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


@pytest.fixture
def two_connection_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The API's pool cut to 2 connections (no overflow), so a few slow clients could take it."""

    def fresh_engine() -> None:
        if db_session.get_engine.cache_info().currsize:
            db_session.get_engine().dispose()
        db_session.get_engine.cache_clear()
        db_session.get_sessionmaker.cache_clear()

    monkeypatch.setattr(db_session, "POOL_SIZE", 2)
    monkeypatch.setattr(db_session, "POOL_OVERFLOW", 0)
    fresh_engine()
    yield
    monkeypatch.undo()
    fresh_engine()


def slow_multipart(path: Path, boundary: str, pieces: int, pause: float) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    data = path.read_bytes()
    step = -(-len(data) // pieces)
    for start in range(0, len(data), step):
        time.sleep(pause)
        yield data[start : start + step]
    yield f"\r\n--{boundary}--\r\n".encode()


def test_slow_uploads_do_not_starve_the_pool(
    live_url: str,
    client: TestClient,
    model_id: str,
    dataset_id: str,
    dataset_file: Path,
    two_connection_pool: None,
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    uploads = 4  # twice the pool
    statuses: list[int] = []

    def slow_upload() -> None:
        boundary = uuid.uuid4().hex
        with httpx.Client(base_url=live_url, headers=client.headers, timeout=60) as http:
            response = http.post(
                "/v1/datasets",
                content=slow_multipart(dataset_file, boundary, pieces=8, pause=0.5),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=slow_upload) for _ in range(uploads)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every upload is sending its body now
    with httpx.Client(base_url=live_url, headers=client.headers, timeout=10) as http:
        for _ in range(3):
            assert http.get(f"/v1/jobs/{job_id}").status_code == 200
            time.sleep(0.3)
    assert any(thread.is_alive() for thread in threads)  # answered while the uploads went on
    for thread in threads:
        thread.join(60)
    assert statuses == [201] * uploads
