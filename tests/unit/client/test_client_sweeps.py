"""`shears sweeps ...` and `shears models sensitivity` against a fake API."""

from __future__ import annotations

import json
from typing import Any

import httpx
from typer.testing import CliRunner

from shears_client.cli import app
from tests.unit.client.client_fakes import cli_state, sse_message, sse_response

runner = CliRunner()


def row(sparsity: float, job: str, status: str, accuracy: float | None) -> dict[str, Any]:
    return {
        "target_sparsity": sparsity,
        "job_id": job,
        "status": status,
        "achieved_sparsity": sparsity if accuracy is not None else None,
        "accuracy": accuracy,
        "loss": 0.2 if accuracy is not None else None,
        "params_nonzero": 1000 if accuracy is not None else None,
        "pruned_gzip_bytes": 20480 if accuracy is not None else None,
        "exports": None,
        "error": {"code": "out_of_memory", "message": "too big"} if status == "failed" else None,
    }


def sweep(status: str, rows: list[dict[str, Any]], recommended: str | None) -> dict[str, Any]:
    counts = {s: sum(r["status"] == s for r in rows) for s in ("queued", "running", "succeeded")}
    counts |= {s: sum(r["status"] == s for r in rows) for s in ("failed", "cancelled")}
    return {
        "id": "swp_1",
        "name": "digits",
        "status": status,
        "counts": counts,
        "jobs": [r["job_id"] for r in rows],
        "baseline": {"loss": 0.1, "accuracy": 0.97},
        "table": rows,
        "recommended": recommended,
        "max_accuracy_drop": 1.0,
    }


RUNNING = sweep(
    "running", [row(0.5, "job_a", "succeeded", 0.968), row(0.9, "job_b", "running", None)], "job_a"
)
DONE = sweep(
    "succeeded",
    [
        row(0.5, "job_a", "succeeded", 0.968),
        row(0.75, "job_c", "succeeded", 0.962),
        row(0.9, "job_b", "failed", None),
    ],
    "job_c",
)


def invoke(handler, *args: str):
    return runner.invoke(app, list(args), obj=cli_state(handler), env={"COLUMNS": "160"})


def test_submit_sends_the_sparsities_and_shared_settings_and_quiet_prints_the_id() -> None:
    sent: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/sweeps")
        sent.update(json.loads(request.read()))
        return httpx.Response(202, json=sweep("queued", [row(0.5, "job_a", "queued", None)], None))

    result = invoke(
        handler,
        *("sweeps", "submit", "--model", "mdl_1", "--dataset", "ds_1"),
        *("--sparsities", "0.5, 0.9", "--hparams", "pruning_frequency=5"),
        *("--training", '{"steps": 40}', "--export", "tflite", "--max-accuracy-drop", "2", "-q"),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "swp_1\n"
    assert sent == {
        "model_id": "mdl_1",
        "dataset_id": "ds_1",
        "sparsities": [0.5, 0.9],
        "hparams": "pruning_frequency=5",
        "training": {"steps": 40},
        "exports": ["tflite"],
        "max_accuracy_drop": 2.0,
    }


def test_bad_sparsities_are_refused_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = invoke(
        handler, "sweeps", "submit", "--model", "m", "--dataset", "d", "--sparsities", "half"
    )
    assert result.exit_code == 1
    assert "bad_sparsities" in result.stderr


def test_show_marks_the_recommended_job_and_a_failed_row_with_its_error() -> None:
    result = invoke(lambda request: httpx.Response(200, json=DONE), "sweeps", "show", "swp_1")
    assert result.exit_code == 0, result.output
    starred = [line for line in result.stdout.splitlines() if "★" in line and "│" in line]
    assert len(starred) == 1 and "job_c" in starred[0] and "75.0%" in starred[0]
    assert "failed: out_of_memory" in result.stdout
    assert "unpruned" in result.stdout and "97.0%" in result.stdout
    assert "recommended: job job_c, 75.0% sparsity, accuracy 96.2%" in result.stdout


def test_watch_redraws_until_every_job_has_ended() -> None:
    answers = iter([RUNNING, RUNNING, DONE])
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=next(answers))

    result = invoke(handler, "sweeps", "watch", "swp_1", "--interval", "0.2")
    assert result.exit_code == 0, result.output
    assert calls == ["/v1/sweeps/swp_1"] * 3
    assert "recommended: job job_c" in result.stdout


def test_watch_exits_1_when_the_sweep_failed() -> None:
    failed = sweep("failed", [row(0.5, "job_a", "failed", None)], None)
    result = invoke(lambda request: httpx.Response(200, json=failed), "sweeps", "watch", "swp_1")
    assert result.exit_code == 1
    assert "sweep swp_1 failed" in result.stderr


def test_models_sensitivity_waits_and_prints_the_drops_and_the_suggestion() -> None:
    metrics = {
        "baseline": {"loss": 0.1, "accuracy": 0.97},
        "sparsities": [0.5, 0.9],
        "layers": [
            {"name": "wide/kernel", "params": 16384, "results": [
                {"sparsity": 0.5, "accuracy": 0.97, "loss": 0.1, "drop": 0.0},
                {"sparsity": 0.9, "accuracy": 0.9, "loss": 0.3, "drop": 7.0}]},
            {"name": "head/kernel", "params": 40, "results": [
                {"sparsity": 0.5, "accuracy": 0.6, "loss": 1.1, "drop": 37.0},
                {"sparsity": 0.9, "accuracy": 0.2, "loss": 2.1, "drop": 77.0}]},
        ],
        "suggested_hparams": {
            "weight_sparsity_map": ["^wide/kernel$:0.5"], "do_not_prune": ["^head/kernel$"]
        },
    }  # fmt: skip
    sent: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/models/mdl_1/sensitivity":
            sent.update(json.loads(request.read()))
            return httpx.Response(202, json={"id": "job_s", "kind": "sensitivity"})
        if path == "/v1/jobs/job_s/events":
            return sse_response([sse_message(1, "status", {"status": "succeeded"})])
        assert path == "/v1/jobs/job_s/metrics"
        return httpx.Response(200, json=metrics)

    result = invoke(
        handler,
        "models",
        "sensitivity",
        "mdl_1",
        "--dataset",
        "ds_1",
        "--sparsities",
        "0.5,0.9",
        "--watch",
    )
    assert result.exit_code == 0, result.output
    assert sent == {"dataset_id": "ds_1", "sparsities": [0.5, 0.9]}
    head = next(
        line for line in result.stdout.splitlines() if "head/kernel" in line and "37" in line
    )
    assert "77" in head
    assert '"^head/kernel$"' in result.stdout and '"^wide/kernel$:0.5"' in result.stdout
