"""Jobs that go wrong on the worker's side, end to end (the API and a Celery worker as
subprocesses, with short limits): a job whose queue message was never sent still runs, a trainer
killed on every attempt fails the job after the attempt cap, and a job past its time limit fails
with its trainer gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.schemas.jobs import JobCreate
from app.api.services import jobs as job_service
from app.core.db.models import Job
from app.core.db.session import session_scope
from app.core.settings import get_settings
from app.devserver.embedded._process import free_port
from app.devserver.embedded.children import api_process, worker_process
from tests.api.conftest import tenant_id_of
from tests.e2e import builders
from tests.e2e.conftest import READY_TIMEOUT_SECONDS, new_api_key, service_env, wait_for_ready
from tests.e2e.jobs_api import events, submit, upload
from tests.processes import processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
MAX_ATTEMPTS = 2
TIME_LIMIT_SECONDS = 10
LONG_TRAINING = {"steps": 100_000, "batch_size": 32}
TERMINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def client(postgres_url: str, redis_url: str, data_dir: Path) -> Iterator[httpx.Client]:
    env = service_env(
        postgres_url,
        redis_url,
        data_dir,
        MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        JOB_TIME_LIMIT_SECONDS=str(TIME_LIMIT_SECONDS),
        REQUEUE_AFTER_SECONDS="2",  # the sweeper sends a lost job again after 2 s
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api = api_process(env, "127.0.0.1", port, data_dir / "limits-api.log")
    worker = worker_process(env, data_dir / "limits-worker.log")
    try:
        wait_for_ready(base_url, [api, worker], READY_TIMEOUT_SECONDS)
        headers = {"Authorization": f"Bearer {new_api_key('limits')}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            yield http
    finally:
        api.stop(10)
        worker.stop(15)


@pytest.fixture(scope="module")
def inputs(client: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("limits")
    model = upload(client, "models", builders.keras_file(folder / "model.keras"))
    dataset = upload(client, "datasets", builders.digits_npz(folder / "digits.npz"))
    return {"model_id": model["id"], "dataset_id": dataset["id"]}


def final_state(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """The job once its event stream has ended (after its terminal status)."""
    last = list(events(client, job_id))[-1]
    assert last.type == "status" and last.data["status"] in TERMINAL, last
    return client.get(f"/v1/jobs/{job_id}").json()


def test_a_job_whose_queue_message_was_lost_still_runs(
    client: httpx.Client, inputs: dict[str, str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API crashing between its commit and the send: the row is there, the message is not.
    monkeypatch.setattr(job_service, "enqueue_job", lambda job_id: False)
    request = JobCreate(**inputs, training=LONG_TRAINING)
    with session_scope() as session:
        created, _ = job_service.create_job(
            session, tenant_id_of(client), request, None, get_settings()
        )
        job_id = created.id
    with session_scope() as session:
        assert session.get_one(Job, job_id).enqueued_at is None  # no message was sent

    for event in events(client, job_id):
        if event.data.get("status") == "running":
            break
    assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 202
    job = final_state(client, job_id)
    assert (job["status"], job["attempts"]) == ("cancelled", 1)


def test_a_trainer_killed_on_every_attempt_fails_the_job_after_the_cap(
    client: httpx.Client, inputs: dict[str, str]
) -> None:
    job_id = submit(client, {**inputs, "training": LONG_TRAINING})["id"]
    killed: set[int] = set()
    deadline = time.monotonic() + 120
    while client.get(f"/v1/jobs/{job_id}").json()["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"job {job_id} never finished"
        for trainer in processes_mentioning(job_id):  # as the kernel's OOM killer would
            trainer.kill()
            killed.add(trainer.pid)
        time.sleep(0.1)
    job = final_state(client, job_id)
    assert (job["status"], job["attempts"], len(killed)) == ("failed", MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert job["error"]["code"] == "attempts_exhausted"
    assert f"failed {MAX_ATTEMPTS} attempts" in job["error"]["message"]
    assert "SIGKILL" in job["error"]["message"]
    time.sleep(3)  # never a third attempt
    assert not processes_mentioning(job_id)
    assert client.get(f"/v1/jobs/{job_id}").json()["attempts"] == MAX_ATTEMPTS


def test_a_job_past_its_time_limit_fails_and_its_trainer_is_gone(
    client: httpx.Client, inputs: dict[str, str]
) -> None:
    job_id = submit(client, {**inputs, "training": LONG_TRAINING})["id"]
    job = final_state(client, job_id)
    assert (job["status"], job["attempts"]) == ("failed", 1)
    assert job["error"]["code"] == "time_limit_exceeded"
    assert f"{TIME_LIMIT_SECONDS}s limit" in job["error"]["message"]
    assert not processes_mentioning(job_id)
