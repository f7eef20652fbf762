"""The `shears` commands against a fake API: what they send, print, and exit with."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import httpx
from typer.testing import CliRunner

from shears_client.cli import app
from tests.unit.client.client_fakes import cli_state, error_response, sse_message, sse_response

runner = CliRunner()
JOB = {
    "id": "job_1",
    "name": None,
    "status": "queued",
    "created_at": "2025-01-01T00:00:00Z",
    "warnings": ["the sparsity ramp ends at step 500, but ..."],
    "progress": None,
}


def invoke(handler, *args: str):
    return runner.invoke(app, list(args), obj=cli_state(handler))


def test_an_api_error_prints_its_message_on_one_line_and_exits_1() -> None:
    message = "unknown hparams foo; valid names are: begin_pruning_step, end_pruning_step"
    result = invoke(
        lambda request: error_response(422, "invalid_hparams", message),
        "jobs",
        "submit",
        "--model",
        "m",
        "--dataset",
        "d",
        "--hparams",
        "foo=1",
    )
    assert result.exit_code == 1
    assert result.stderr == f"error: invalid_hparams: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_an_error_that_is_not_the_envelope_still_reads_well() -> None:
    result = invoke(
        lambda request: httpx.Response(502, text="<html>Bad gateway</html>"), "models", "list"
    )
    assert result.exit_code == 1
    assert result.stderr == "error: http_502: HTTP 502 Bad Gateway: <html>Bad gateway</html>\n"


def test_an_unreachable_service_is_one_line_with_a_hint() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    result = invoke(refuse, "jobs", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: unreachable: cannot reach the Shears API at http://shears.test"
    )
    assert "make run" in result.stderr and result.stderr.count("\n") == 1


def test_uploading_a_saved_model_directory_sends_a_tar_gz_and_quiet_prints_the_id(tmp_path) -> None:
    model = tmp_path / "digits"
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"graph")
    received: dict[str, bytes] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/models")
        received["body"] = request.read()
        return httpx.Response(201, json={"id": "mdl_42", "name": "digits", "format": "saved_model"})

    result = invoke(handler, "models", "upload", str(model), "--name", "digits", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout == "mdl_42\n"
    assert b'filename="digits.tar.gz"' in received["body"]
    assert b'name="name"\r\n\r\ndigits' in received["body"]
    assert b"\x1f\x8b" in received["body"]  # gzip magic: the archive itself was sent


def test_submit_sends_the_contrib_string_and_the_training_file(tmp_path) -> None:
    (tmp_path / "training.json").write_text('{"epochs": 3}')
    sent: dict = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent["body"] = json.loads(request.read())
        sent["key"] = request.headers.get("idempotency-key")
        return httpx.Response(202, json=JOB)

    result = invoke(
        handler,
        "jobs",
        "submit",
        "--model",
        "mdl_1",
        "--dataset",
        "ds_1",
        "--hparams",
        "target_sparsity=0.9,do_not_prune=[conv1]",
        "--training",
        f"@{tmp_path / 'training.json'}",
        "--idempotency-key",
        "k1",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "job_1\n"
    assert "warning: the sparsity ramp ends at step 500" in result.stderr
    assert sent["body"] == {
        "model_id": "mdl_1",
        "dataset_id": "ds_1",
        "hparams": "target_sparsity=0.9,do_not_prune=[conv1]",
        "training": {"epochs": 3},
    }
    assert sent["key"] == "k1"


def test_a_bad_training_option_fails_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = invoke(
        handler, "jobs", "submit", "--model", "m", "--dataset", "d", "--training", "{epochs: 3}"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: bad_option: --training is not valid JSON")


def _events(*messages: bytes):
    return lambda request: sse_response(list(messages))


def test_watch_follows_progress_and_exits_1_with_the_error_when_the_job_fails() -> None:
    handler = _events(
        sse_message(1, "status", {"status": "running"}),
        sse_message(
            2,
            "progress",
            {
                "step": 5,
                "total_steps": 10,
                "loss": 0.3,
                "target_sparsity": 0.4,
                "achieved_sparsity": 0.35,
            },
        ),
        sse_message(
            3, "error", {"code": "trainer_crashed", "message": "the trainer ran out of memory"}
        ),
        sse_message(4, "status", {"status": "failed"}),
    )
    result = invoke(handler, "jobs", "watch", "job_1")
    assert result.exit_code == 1
    assert (
        "error: job job_1 failed: trainer_crashed: the trainer ran out of memory" in result.stderr
    )


def test_watch_exits_0_when_the_job_succeeds() -> None:
    handler = _events(
        sse_message(1, "progress", {"step": 10, "total_steps": 10, "loss": 0.2}),
        sse_message(2, "status", {"status": "succeeded"}),
    )
    result = invoke(handler, "jobs", "watch", "job_1")
    assert result.exit_code == 0, result.output
    assert "job job_1 succeeded" in result.stderr


def test_a_cancelled_job_exits_1_and_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return sse_response([sse_message(9, "status", {"status": "cancelled"})])
        return httpx.Response(200, json={**JOB, "status": "cancelled", "error": None})

    result = invoke(handler, "jobs", "watch", "job_1")
    assert result.exit_code == 1
    assert "error: job job_1 cancelled" in result.stderr


def test_show_prints_the_metrics_tables() -> None:
    metrics = {
        "baseline": {"loss": 0.2, "accuracy": 0.95},
        "pruned": {"loss": 0.25, "accuracy": 0.94},
        "sparsity": {"target": 0.8, "achieved": 0.8, "layers": []},
        "training": {"steps": 100},
    }
    job = {
        **JOB,
        "status": "succeeded",
        "metrics": metrics,
        "warnings": [],
        "progress": {"step": 100, "total_steps": 100},
    }
    result = invoke(lambda request: httpx.Response(200, json=job), "jobs", "show", "job_1")
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout and "100/100" in result.stdout
    assert "95.0%" in result.stdout and "94.0%" in result.stdout and "-1.0 pts" in result.stdout


def test_list_filters_by_status_and_quiet_prints_ids() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["status"] == "running"
        return httpx.Response(200, json={"data": [{"id": "job_1"}, {"id": "job_2"}], "count": 2})

    result = invoke(handler, "jobs", "list", "--status", "running", "-q")
    assert (result.exit_code, result.stdout) == (0, "job_1\njob_2\n")


def _saved_model_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in {"saved_model.pb": b"graph", "variables/variables.index": b"i"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _download_handler(body: bytes, etag: str):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/jobs/job_1/model"
        assert request.url.params["format"] == "tar.gz"
        return httpx.Response(200, content=body, headers={"ETag": etag})

    return handler


def test_download_verifies_the_etag_and_unpacks_the_saved_model(tmp_path: Path) -> None:
    body = _saved_model_tar()
    handler = _download_handler(body, f'"{hashlib.sha256(body).hexdigest()}"')
    result = invoke(handler, "jobs", "download", "job_1", "-o", str(tmp_path / "pruned"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pruned" / "saved_model.pb").read_bytes() == b"graph"
    assert (tmp_path / "pruned" / "variables" / "variables.index").is_file()


def test_a_download_that_does_not_match_its_etag_is_refused(tmp_path: Path) -> None:
    handler = _download_handler(_saved_model_tar(), '"' + "0" * 64 + '"')
    result = invoke(handler, "jobs", "download", "job_1", "-o", str(tmp_path / "pruned"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: corrupt_download: the download's sha256")
    assert list((tmp_path / "pruned").iterdir()) == []


def test_cancelling_a_finished_job_prints_the_conflict() -> None:
    result = invoke(
        lambda request: error_response(409, "job_finished", "job 'job_1' already succeeded"),
        "jobs",
        "cancel",
        "job_1",
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "error: job_finished: job 'job_1' already succeeded\n",
    )


def test_the_outcome_is_reported_even_if_the_job_cannot_be_read_afterwards() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return sse_response([sse_message(9, "status", {"status": "cancelled"})])
        return error_response(500, "internal_error", "an unexpected error occurred")

    result = invoke(handler, "jobs", "watch", "job_1")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (1, "error: job job_1 cancelled")


def test_the_job_list_shows_each_jobs_step() -> None:
    page = {
        "data": [{**JOB, "status": "running", "progress": {"step": 5, "total_steps": 10}}],
        "count": 1,
    }
    result = invoke(lambda request: httpx.Response(200, json=page), "jobs", "list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "job_1" in line)
    assert "running" in line and "5/10" in line and "2025-01-01 00:00:00Z" in line
