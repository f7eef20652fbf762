"""Deleting a model, dataset or job removes its blobs: no blob or chunk row is left that nothing
points at, while a finished job keeps its results after its inputs are gone."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, union

from app.core.db.models import Blob, BlobChunk, Dataset, JobArtifact, Model
from app.core.db.session import session_scope
from tests.api.conftest import submit, tenant_id_of
from tests.api.files import ModelFiles
from tests.api.job_states import mark_succeeded


def orphan_blobs() -> list[str]:
    """Blobs that no model, dataset or job artifact points at, anywhere in the database."""
    referenced = union(select(Model.blob_id), select(Dataset.blob_id), select(JobArtifact.blob_id))
    with session_scope() as session:
        return list(session.scalars(select(Blob.id).where(Blob.id.not_in(referenced))))


def chunks_of(blob_ids: list[str]) -> int:
    with session_scope() as session:
        count = select(func.count()).select_from(BlobChunk)
        return session.scalar(count.where(BlobChunk.blob_id.in_(blob_ids))) or 0


def tenant_blobs(client: TestClient) -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(Blob.id).where(Blob.tenant_id == tenant_id_of(client)))
        return list(rows)


def input_blobs(model_id: str, dataset_id: str) -> tuple[str, str]:
    with session_scope() as session:
        model, dataset = session.get_one(Model, model_id), session.get_one(Dataset, dataset_id)
        return model.blob_id, dataset.blob_id


def artifact_blobs(job_id: str) -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(JobArtifact.blob_id).where(JobArtifact.job_id == job_id))
        return list(rows)


def test_deletes_leave_no_orphan_blob_or_chunk(
    client: TestClient, model_id: str, dataset_id: str, model_files: ModelFiles, tmp_path: Path
) -> None:
    job_id = submit(client, model_id, dataset_id).json()["id"]
    (tmp_path / "metrics.json").write_text("{}")
    results = {"saved_model.zip": model_files.zip, "metrics.json": tmp_path / "metrics.json"}
    mark_succeeded(job_id, results, {})
    model_blob, dataset_blob = input_blobs(model_id, dataset_id)
    job_blobs = artifact_blobs(job_id)
    assert len(job_blobs) == 2 and chunks_of([model_blob, dataset_blob, *job_blobs]) >= 4

    # Inputs go with their blobs; the finished job keeps its results.
    assert client.delete(f"/v1/models/{model_id}").status_code == 204
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    assert sorted(tenant_blobs(client)) == sorted(job_blobs)
    assert chunks_of([model_blob, dataset_blob]) == 0
    assert client.get(f"/v1/jobs/{job_id}/model").content == model_files.zip.read_bytes()

    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert tenant_blobs(client) == [] and chunks_of(job_blobs) == 0
    assert orphan_blobs() == []
