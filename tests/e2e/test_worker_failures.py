"""Failures while a real job runs: the worker killed, Redis restarted. Nothing is lost."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.core.db.models import JobArtifact
from app.core.db.session import session_scope
from app.devserver.embedded import EmbeddedPostgres, EmbeddedRedis
from app.devserver.embedded._process import free_port
from app.devserver.embedded.children import Child, api_process, worker_process
from tests.e2e import builders
from tests.e2e.conftest import (
    READY_TIMEOUT_SECONDS,
    new_api_key,
    service_env,
    wait_for_ready,
)
from tests.e2e.jobs_api import SseEvent, events, submit, upload
from tests.processes import processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
HPARAMS = {"target_sparsity": 0.5, "sparsity_function_end_step": 100, "pruning_frequency": 10}
ARTIFACT_KINDS = {
    "saved_model.zip",
    "saved_model.tar.gz",
    "model.keras",
    "metrics.json",
    "tensorboard.tar.gz",
    "report.png",
}


class Stack:
    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env, self.data_dir = env, data_dir
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.api = api_process(env, "127.0.0.1", port, data_dir / "failures-api.log")
        self.workers: list[Child] = []
        self.workers.append(self.start_worker())
        wait_for_ready(self.base_url, [self.api, *self.workers], READY_TIMEOUT_SECONDS)
        self.key = new_api_key("failures")

    def start_worker(self) -> Child:
        log = self.data_dir / f"failures-worker-{len(self.workers)}.log"
        return worker_process(self.env, log)

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def stop(self) -> None:
        self.api.stop(10)
        for worker in self.workers:
            worker.stop(15)


@pytest.fixture(scope="module")
def stack(postgres_url: str, redis_url: str, data_dir: Path) -> Iterator[Stack]:
    # A dead worker's job is noticed after 3 s without a heartbeat (120 s by default).
    env = service_env(
        postgres_url, redis_url, data_dir, HEARTBEAT_TIMEOUT_SECONDS="3", REQUEUE_AFTER_SECONDS="3"
    )
    running = Stack(env, data_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def inputs(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("failures")
    with stack.client() as client:
        model = upload(client, "models", builders.keras_file(folder / "model.keras"))
        dataset = upload(client, "datasets", builders.digits_npz(folder / "digits.npz"))
    return model["id"], dataset["id"]


def wait_for_status(client: httpx.Client, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")


def training_job(
    client: httpx.Client, inputs: tuple[str, str], steps: int
) -> tuple[dict, list[SseEvent]]:
    """A submitted job once its trainer has reported progress, and the events seen until then."""
    model_id, dataset_id = inputs
    job = submit(
        client,
        {
            "model_id": model_id,
            "dataset_id": dataset_id,
            "hparams": HPARAMS,
            "training": {"steps": steps, "batch_size": 32},
        },
    )
    seen = []
    for event in events(client, job["id"]):
        seen.append(event)
        if event.type == "progress":
            break
    return job, seen


def test_killed_worker_loses_no_job(stack: Stack, inputs: tuple[str, str]) -> None:
    with stack.client() as client:
        job, _ = training_job(client, inputs, steps=400)
        assert processes_mentioning(job["id"])
        os.kill(stack.workers[0].proc.pid, signal.SIGKILL)
        stack.workers[0].proc.wait(10)
        deadline = time.monotonic() + 10
        while processes_mentioning(job["id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_mentioning(job["id"]), "the trainer outlived its worker"

        stack.workers.append(stack.start_worker())
        final = wait_for_status(client, job["id"], timeout=120)
        assert (final["status"], final["attempts"]) == ("succeeded", 2)
        assert client.get(f"/v1/jobs/{job['id']}/model").status_code == 200
    with session_scope() as session:
        kinds = session.scalars(select(JobArtifact.kind).where(JobArtifact.job_id == job["id"]))
        assert sorted(kinds) == sorted(ARTIFACT_KINDS)


def test_redis_restart_during_a_job(
    stack: Stack, inputs: tuple[str, str], embedded_redis: EmbeddedRedis
) -> None:
    with stack.client() as client:
        job, seen = training_job(client, inputs, steps=1500)
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"
        embedded_redis.restart()
        seen.extend(events(client, job["id"], last_event_id=seen[-1].id))
        assert seen[-1].data == {"status": "succeeded"}
        kept = [e.id for e in events(client, job["id"])]
        ids = [e.id for e in seen]
        # The live client saw every kept event (and progress events the history thinned out),
        # in order, none twice.
        assert set(kept) <= set(ids)
        assert [int(i) for i in ids] == sorted({int(i) for i in ids})
        assert client.get(f"/v1/jobs/{job['id']}").json()["attempts"] == 1


def test_postgres_outage_during_a_job(
    stack: Stack, inputs: tuple[str, str], embedded_postgres: EmbeddedPostgres
) -> None:
    with stack.client() as client:
        job, _ = training_job(client, inputs, steps=1500)
        embedded_postgres.stop()
        try:
            assert client.get("/readyz").status_code == 503
            outage = client.get(f"/v1/jobs/{job['id']}")
            assert outage.status_code == 503 and outage.headers["retry-after"]
            assert outage.json()["error"]["code"] == "database_unavailable"
            time.sleep(2)
        finally:
            embedded_postgres.start()
        final = wait_for_status(client, job["id"], timeout=120)
        assert final["status"] == "succeeded", final
