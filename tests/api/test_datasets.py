"""/v1/datasets: .npz uploads described without pickles; list, get, download, delete."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, upload
from tests.api.files import N_FEATURES, make_dataset


def test_dataset_upload_is_described(client: TestClient, dataset_file: Path) -> None:
    response = upload(client, "datasets", dataset_file)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "digits"
    assert (body["n_train"], body["n_val"]) == (64, 16)
    assert body["arrays"]["x_train"]["shape"] == [64, N_FEATURES]
    assert body["arrays"]["x_train"]["dtype"] == "float32"
    assert body["arrays"]["y_val"]["shape"] == [16]
    assert 0 <= body["arrays"]["y_train"]["min"] <= body["arrays"]["y_train"]["max"] <= 3
    assert body["sha256"] == hashlib.sha256(dataset_file.read_bytes()).hexdigest()


def test_without_validation_arrays_n_val_is_zero(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "train_only.npz"
    np.savez(path, x_train=np.zeros((10, N_FEATURES), "float32"), y_train=np.zeros(10, "int64"))
    body = upload(client, "datasets", path, name="train only").json()
    assert (body["name"], body["n_train"], body["n_val"]) == ("train only", 10, 0)


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("arrays", "code"),
    [
        (
            {"x_train": np.array([{"a": 1}, None], dtype=object), "y_train": np.zeros(2)},
            "object_array",
        ),
        ({"y_train": np.zeros(4)}, "missing_array"),
        ({"x_train": np.zeros((4, 2)), "y_train": np.zeros(3)}, "length_mismatch"),
    ],
    ids=["object-array-pickle", "missing-x_train", "length-mismatch"],
)
def test_bad_datasets_are_422_and_not_stored(
    client: TestClient, tmp_path: Path, arrays: dict[str, np.ndarray], code: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    error = assert_error(upload(client, "datasets", path), 422, code)
    assert "x_train" in error["message"]
    assert client.get("/v1/datasets").json()["count"] == 0


@pytest.mark.usefixtures("nothing_kept")
def test_a_dataset_that_is_not_an_npz_is_415(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_text("x,y\n1,2\n")
    error = assert_error(upload(client, "datasets", path), 415, "unsupported_file_type")
    assert "a dataset must be an .npz file" in error["message"]


def test_list_get_download_delete(client: TestClient, tmp_path: Path) -> None:
    first = upload(client, "datasets", make_dataset(tmp_path / "a.npz")).json()
    second = upload(client, "datasets", make_dataset(tmp_path / "b.npz", n_train=32)).json()
    listed = client.get("/v1/datasets").json()
    assert listed["count"] == 2
    assert [d["id"] for d in listed["data"]] == [second["id"], first["id"]]
    assert client.get(f"/v1/datasets/{first['id']}").json() == first

    download = client.get(f"/v1/datasets/{second['id']}/download")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == second["sha256"]
    assert download.headers["content-disposition"] == 'attachment; filename="b.npz"'

    assert client.delete(f"/v1/datasets/{first['id']}").status_code == 204
    assert_error(client.get(f"/v1/datasets/{first['id']}"), 404, "dataset_not_found")
    assert client.get("/v1/datasets").json()["count"] == 1


def test_another_tenants_dataset_is_not_found(
    client: TestClient, other_client: TestClient, dataset_id: str
) -> None:
    for method, path in [
        ("GET", f"/v1/datasets/{dataset_id}"),
        ("GET", f"/v1/datasets/{dataset_id}/download"),
        ("DELETE", f"/v1/datasets/{dataset_id}"),
    ]:
        assert_error(other_client.request(method, path), 404, "dataset_not_found")
    assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
