"""POST /v1/models/{id}/sensitivity: checked like a job, queued as a job of kind "sensitivity"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, tenant_id_of
from tests.api.test_sweeps import stored_counts


def test_a_sensitivity_job_is_queued_with_the_default_sparsities(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    response = client.post(
        f"/v1/models/{model_id}/sensitivity",
        json={"dataset_id": dataset_id, "training": {"batch_size": 64}},
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "sensitivity" and job["status"] == "queued"
    assert job["hparams"] == {"sparsities": [0.5, 0.75, 0.9, 0.95]}
    assert job["training"]["batch_size"] == 64
    assert client.get(f"/v1/jobs/{job['id']}").json()["kind"] == "sensitivity"
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"sparsities": [0.0, 0.5]}, None),
        ({"sparsities": [0.5, 0.5]}, None),
        ({"training": {"epochs": 3}}, None),
        ({"training": {"loss": "mse"}}, "sensitivity_needs_accuracy"),
    ],
)
def test_a_bad_sensitivity_request_queues_nothing(
    client: TestClient, model_id: str, dataset_id: str, body: dict[str, Any], code: str | None
) -> None:
    response = client.post(
        f"/v1/models/{model_id}/sensitivity", json={"dataset_id": dataset_id, **body}
    )
    assert_error(response, 422, code)
    assert stored_counts(tenant_id_of(client)) == (0, 0)


def test_another_tenants_model_has_no_sensitivity(
    client: TestClient, other_client: TestClient, model_id: str, dataset_id: str
) -> None:
    response = other_client.post(
        f"/v1/models/{model_id}/sensitivity", json={"dataset_id": dataset_id}
    )
    assert_error(response, 404, "model_not_found")
