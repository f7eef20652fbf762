"""/openapi.json tells the whole truth: schemathesis' command line, as a user would run it, with
every check and every phase (examples, coverage, fuzzing, and the stateful phase that follows
the document's links), finds nothing.

The run gets real ids (a model, a dataset, a succeeded job with every result file), so the
operations behind them are reached too: downloads answer with the content types the document
lists, and the event stream's events match the document's event schema. The only exclusions
are those of schemathesis.toml at the repository's root, each with its reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import submit, upload
from tests.api.files import ModelFiles
from tests.api.job_states import PROGRESS, mark_running, mark_succeeded

ROOT = Path(__file__).resolve().parents[2]
# Bounded so that the run takes well under a minute on two cores.
MAX_EXAMPLES = 15
METRICS = {"pruned": {"loss": 0.2, "accuracy": 0.9}, "sparsity": {"target": 0.5}}


def succeeded_job(client: TestClient, model: str, dataset: str, folder: Path, files: ModelFiles):
    job = submit(client, model, dataset).json()["id"]
    mark_running(job, PROGRESS)
    (folder / "metrics.json").write_text(json.dumps(METRICS))
    (folder / "report.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with tarfile.open(folder / "tensorboard.tar.gz", "w:gz") as archive:
        archive.add(folder / "metrics.json", arcname="events.out.tfevents.0")
    results = {
        "saved_model.zip": files.zip,
        "saved_model.tar.gz": files.tar_gz,
        "metrics.json": folder / "metrics.json",
        "report.png": folder / "report.png",
        "tensorboard.tar.gz": folder / "tensorboard.tar.gz",
    }
    mark_succeeded(job, results, METRICS)
    return job


def run_config(ids: dict[str, str], sacrificed: dict[str, str]) -> str:
    """schemathesis.toml with the ids to use: deletes get ids of their own, so that the other
    operations keep finding theirs."""
    lines = ["[parameters]", *(f'{name} = "{value}"' for name, value in ids.items()), ""]
    lines.append((ROOT / "schemathesis.toml").read_text())
    for name, value in sacrificed.items():
        kind = name.removesuffix("_id")
        lines += [
            "[[operations]]",
            f'include-operation-id = "delete_{kind}"',
            f'parameters = {{ {name} = "{value}" }}',
            "",
        ]
    return "\n".join(lines)


@pytest.fixture
def config_file(
    client: TestClient, model_files: ModelFiles, dataset_file: Path, tmp_path: Path
) -> Path:
    def new_ids() -> dict[str, str]:
        model = upload(client, "models", model_files.zip).json()["id"]
        dataset = upload(client, "datasets", dataset_file).json()["id"]
        job = succeeded_job(client, model, dataset, tmp_path, model_files)
        return {"model_id": model, "dataset_id": dataset, "job_id": job}

    config = tmp_path / "schemathesis.toml"
    config.write_text(run_config(new_ids(), new_ids()))
    return config


def test_schemathesis_finds_nothing(
    app: FastAPI, live_url: str, client: TestClient, config_file: Path, tmp_path: Path
) -> None:
    key = client.headers["Authorization"]
    command = [
        *(sys.executable, "-m", "schemathesis.cli"),
        *("--config-file", str(config_file)),
        *("run", f"{live_url}/openapi.json", "-H", f"Authorization: {key}"),
        *("--checks", "all", "--mode", "all", "--max-examples", str(MAX_EXAMPLES)),
        *("--phases", "examples,coverage,fuzzing,stateful", "--seed", "1"),
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "HOME": str(tmp_path)}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    report = done.stdout + done.stderr
    operations = sum(len(ops) for ops in app.openapi()["paths"].values())
    assert done.returncode == 0, report[-6000:]
    assert re.search(rf"Tested:\s+{operations}\b", report), report[-3000:]
    assert "failures" not in report.splitlines()[-1], report[-3000:]
    # The run reached the stored results and the event stream, not only 404s.
    answered = answered_with(app, "200")
    for route in ("model", "tensorboard", "report.png", "metrics", "events"):
        assert f"/v1/jobs/{{job_id}}/{route}" in answered, sorted(answered)
    assert {"/v1/models/{model_id}/download", "/v1/datasets/{dataset_id}/download"} <= answered


def answered_with(app: FastAPI, status: str) -> set[str]:
    """The route templates the app's own request counter saw answered with `status`."""
    counter = app.state.metrics_registry.get_sample_value
    paths = app.openapi()["paths"]
    return {
        path
        for path, operations in paths.items()
        for method in operations
        if counter(
            "shears_http_requests_total",
            {"method": method.upper(), "route": path, "status": status},
        )
    }
