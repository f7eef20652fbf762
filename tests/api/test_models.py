"""/v1/models: uploads as users pack them, the description, streamed download, delete."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db.models import Blob, BlobChunk, Model
from app.core.db.session import session_scope
from tests.api.conftest import assert_error, upload
from tests.api.files import N_CLASSES, N_FEATURES, ModelFiles


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("packing", ["zip", "nested_zip", "tar_gz"])
def test_saved_model_upload_is_described(
    client: TestClient, model_files: ModelFiles, packing: str
) -> None:
    path = getattr(model_files, packing)
    response = upload(client, "models", path, name="tiny classifier")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "tiny classifier"
    assert body["format"] == "saved_model"
    assert body["container"] == ("tar.gz" if packing == "tar_gz" else "zip")
    assert body["size_bytes"] == path.stat().st_size
    assert body["sha256"] == sha256_of(path)
    assert body["created_at"].endswith("Z")
    serving = body["signatures"]["serving_default"]
    assert serving["inputs"]["features"] == {"shape": [None, N_FEATURES], "dtype": "float32"}
    [output] = serving["outputs"].values()
    assert output == {"shape": [None, N_CLASSES], "dtype": "float32"}
    shapes = sorted(tuple(w["shape"]) for w in body["prunable"])
    assert shapes == [(N_FEATURES, 16), (16, N_CLASSES)]
    assert body["params_prunable"] == N_FEATURES * 16 + 16 * N_CLASSES
    assert body["params_total"] == body["params_prunable"] + 16 + N_CLASSES


def test_keras_upload_is_described(client: TestClient, model_files: ModelFiles) -> None:
    response = upload(client, "models", model_files.keras)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["format"], body["container"], body["name"]) == ("keras", "keras", "tiny")
    assert body["params_prunable"] == N_FEATURES * 16 + 16 * N_CLASSES


def test_get_list_and_pages(client: TestClient, model_files: ModelFiles) -> None:
    ids = [upload(client, "models", model_files.zip, name=f"m{i}").json()["id"] for i in range(3)]
    listed = client.get("/v1/models").json()
    assert listed["count"] == 3
    assert [m["id"] for m in listed["data"]] == ids[::-1]  # newest first
    page = client.get("/v1/models", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [m["id"] for m in page["data"]] == [ids[1]]
    past_the_end = client.get("/v1/models", params={"offset": 3})
    assert past_the_end.status_code == 200 and past_the_end.json() == {"data": [], "count": 3}
    one = client.get(f"/v1/models/{ids[0]}").json()
    assert one["name"] == "m0" and one["signatures"]
    assert_error(client.get("/v1/models", params={"limit": 0}), 422, "invalid_request")


def test_download_streams_the_stored_bytes(client: TestClient, model_files: ModelFiles) -> None:
    model = upload(client, "models", model_files.tar_gz, name="my model").json()
    with client.stream("GET", f"/v1/models/{model['id']}/download") as response:
        assert response.status_code == 200
        digest = hashlib.sha256()
        for chunk in response.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == model["sha256"] == sha256_of(model_files.tar_gz)
    assert response.headers["content-length"] == str(model["size_bytes"])
    assert response.headers["etag"] == f'"{model["sha256"]}"'
    assert response.headers["content-disposition"] == 'attachment; filename="my_model.tar.gz"'
    again = client.get(
        f"/v1/models/{model['id']}/download", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_delete_removes_the_model_and_its_blob(client: TestClient, model_files: ModelFiles) -> None:
    model = upload(client, "models", model_files.zip).json()
    with session_scope() as session:
        blob_id = session.get(Model, model["id"]).blob_id
    response = client.delete(f"/v1/models/{model['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(f"/v1/models/{model['id']}"), 404, "model_not_found")
    assert_error(client.delete(f"/v1/models/{model['id']}"), 404, "model_not_found")
    with session_scope() as session:
        assert session.get(Blob, blob_id) is None
        chunks = session.scalar(
            select(func.count()).select_from(BlobChunk).where(BlobChunk.blob_id == blob_id)
        )
        assert chunks == 0


def test_another_tenants_model_is_not_found(
    client: TestClient, other_client: TestClient, model_files: ModelFiles
) -> None:
    model_id = upload(client, "models", model_files.zip).json()["id"]
    for method, path in [
        ("GET", f"/v1/models/{model_id}"),
        ("GET", f"/v1/models/{model_id}/download"),
        ("DELETE", f"/v1/models/{model_id}"),
    ]:
        error = assert_error(other_client.request(method, path), 404, "model_not_found")
        assert model_id in error["message"]
    assert other_client.get("/v1/models").json() == {"data": [], "count": 0}
    assert client.get(f"/v1/models/{model_id}").status_code == 200
