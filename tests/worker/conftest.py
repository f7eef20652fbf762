"""Jobs made directly in Postgres (no API) and run by the job runner with a fake trainer."""

from __future__ import annotations

import io
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from app.core.db.models import Dataset, Job, JobArtifact, JobEvent, Model, Tenant
from app.core.db.session import session_scope
from app.core.settings import Settings
from app.core.storage import BlobStore

FAKE_TRAINER = Path(__file__).with_name("fake_trainer.py")
FAKE_TRAINER_COMMAND = f"{sys.executable} {FAKE_TRAINER}"


@pytest.fixture
def worker_settings(postgres_url: str, redis_url: str) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        defaults: dict[str, object] = {
            "progress_db_interval_seconds": 0.0,
            "cancel_poll_seconds": 0.2,
            "max_attempts": 3,
            "fake_trainer_command": FAKE_TRAINER_COMMAND,
        }
        return Settings(**{**defaults, **overrides})  # type: ignore[arg-type]

    return make


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def make_job(postgres_url: str) -> Callable[[str], str]:
    """A queued job whose fake trainer does `behaviour`; returns the job id."""

    def make(behaviour: str) -> str:
        with session_scope() as session:
            tenant = Tenant(name=f"tenant-{secrets.token_hex(4)}")
            session.add(tenant)
            session.flush()
            store = BlobStore(session, 1024)
            model_blob = store.put_stream(io.BytesIO(behaviour.encode()), tenant.id)
            data_blob = store.put_stream(io.BytesIO(b"npz"), tenant.id)
            model = Model(
                tenant_id=tenant.id,
                name="m",
                format="keras",
                container="keras",
                blob_id=model_blob.id,
                size_bytes=model_blob.size_bytes,
                sha256=model_blob.sha256,
                description={},
            )
            dataset = Dataset(
                tenant_id=tenant.id,
                name="d",
                blob_id=data_blob.id,
                size_bytes=data_blob.size_bytes,
                sha256=data_blob.sha256,
                description={},
            )
            session.add_all([model, dataset])
            session.flush()
            job = Job(
                tenant_id=tenant.id,
                model_id=model.id,
                dataset_id=dataset.id,
                hparams={"target_sparsity": 0.8},
                training={"steps": 4},
                warnings=[],
            )
            session.add(job)
            session.flush()
            return job.id

    return make


def load_job(job_id: str) -> Job:
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        session.expunge(job)
        return job


def job_events(job_id: str) -> list[tuple[int, str, dict]]:
    with session_scope() as session:
        rows = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.seq)
        )
        return [(row.seq, row.type, row.data) for row in rows]


def artifact_blobs(job_id: str) -> dict[str, str]:
    with session_scope() as session:
        rows = session.scalars(select(JobArtifact).where(JobArtifact.job_id == job_id))
        return {row.kind: row.blob_id for row in rows}
