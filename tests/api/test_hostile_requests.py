"""Requests carrying what Postgres cannot store or JSON should not hold: NUL characters, unpaired
surrogates, NaN and Infinity, numbers past a bigint. Each is a 4xx that names the field (never a
database error, which was a 500), and nothing is stored."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error, job_body, upload
from tests.api.files import make_dataset

MiB = 1024**2
# (member, its value as raw JSON text, what the message names): json.dumps would escape what
# these spell out.
UNSTORABLE_FIELDS = {
    "nul-in-name": ("name", '"a\\u0000b"', "name"),
    "nul-in-an-hparams-value": ("hparams", '{"name": "a\\u0000b"}', "hparams.name"),
    "nul-in-an-hparams-key": ("hparams", '{"a\\u0000b": 1}', "hparams (a key)"),
    "nul-in-a-list": ("hparams", '{"do_not_prune": ["x", "\\u0000"]}', "do_not_prune[1]"),
    "nul-in-contrib-string": ("hparams", '"name=a\\u0000b"', "hparams"),
    "nul-in-training": ("training", '{"signature": "\\u0000"}', "training.signature"),
    "lone-surrogate": ("hparams", '{"do_not_prune": ["\\ud800"]}', "do_not_prune[0]"),
    "nul-in-model-id": ("model_id", '"mdl\\u0000"', "model_id"),
}
NON_FINITE = {
    "infinite-exponent": ("hparams", '{"sparsity_function_exponent": Infinity}', "exponent"),
    "infinite-exponent-string": ("hparams", '"sparsity_function_exponent=inf"', "exponent"),
    "nan-sparsity": ("hparams", '{"target_sparsity": NaN}', "target_sparsity"),
    "nan-learning-rate": ("training", '{"learning_rate": NaN}', "learning_rate"),
    "huge-float-step": ("hparams", '{"begin_pruning_step": 1e400}', "begin_pruning_step"),
}


def post_raw_job(client: TestClient, model_id: str, dataset_id: str, member: str, raw: str) -> Any:
    """A job request whose `member` is the raw JSON text `raw`."""
    members = {key: json.dumps(value) for key, value in job_body(model_id, dataset_id).items()}
    members[member] = raw
    text = "{" + ", ".join(f'"{key}": {value}' for key, value in members.items()) + "}"
    return client.post("/v1/jobs", content=text, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("case", UNSTORABLE_FIELDS)
def test_text_postgres_cannot_store_is_422_naming_the_field(
    client: TestClient, model_id: str, dataset_id: str, case: str
) -> None:
    member, raw, named = UNSTORABLE_FIELDS[case]
    error = assert_error(post_raw_job(client, model_id, dataset_id, member, raw), 422)
    assert named in error["message"]
    assert "NUL character or invalid Unicode" in error["message"]
    assert client.get("/v1/jobs").json()["count"] == 0


@pytest.mark.parametrize("case", NON_FINITE)
def test_non_finite_numbers_are_422(
    client: TestClient, model_id: str, dataset_id: str, case: str
) -> None:
    member, raw, named = NON_FINITE[case]
    error = assert_error(post_raw_job(client, model_id, dataset_id, member, raw), 422)
    assert named in error["message"]
    assert client.get("/v1/jobs").json()["count"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/%00",
        "/v1/models/%00/download",
        "/v1/datasets/%00",
        "/v1/jobs/mdl%00x",
        "/v1/jobs/%00/events",
        "/v1/jobs/%00/report.png",
    ],
)
def test_an_id_with_a_nul_is_404(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404)


@pytest.mark.parametrize("kind", ["models", "datasets", "jobs"])
def test_an_offset_past_a_bigint_is_422(client: TestClient, kind: str) -> None:
    error = assert_error(client.get(f"/v1/{kind}", params={"offset": 2**63}), 422)
    assert "offset" in error["message"]


@pytest.mark.usefixtures("nothing_kept")
def test_a_nul_in_the_name_field_is_400(client: TestClient, tmp_path: Path) -> None:
    response = upload(client, "datasets", make_dataset(tmp_path / "d.npz"), name="a\x00b")
    error = assert_error(response, 400, "bad_field")
    assert "'name'" in error["message"] and "NUL" in error["message"]


@pytest.mark.usefixtures("nothing_kept")
def test_an_overlong_multipart_boundary_is_400(client: TestClient) -> None:
    boundary = "b" * 300
    body = f"--{boundary}\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    response = client.post("/v1/models", content=body, headers={"Content-Type": content_type})
    error = assert_error(response, 400, "malformed_multipart")
    assert "Boundary length 300" in error["message"]


def test_a_nul_in_the_filename_is_left_out_of_the_name(client: TestClient, tmp_path: Path) -> None:
    path = make_dataset(tmp_path / "d.npz")
    boundary = b"b0und"
    body = b"".join(
        [
            b"--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="da\x00ta.npz"\r\n\r\n',
            path.read_bytes(),
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )
    response = client.post(
        "/v1/datasets",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "data"


def chunked_upload_until_answered(
    live_url: str, authorization: str, path: str, filename: str, total_bytes: int
) -> tuple[bytes, int]:
    """Streams a multipart upload in HTTP chunks (no Content-Length) until the server answers;
    returns the response head and how many bytes of the file were sent by then."""
    host, port = live_url.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n"
        "Content-Type: multipart/form-data; boundary=xx\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    preamble = f'--xx\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'
    chunk = b"\0" * 65536
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head.encode() + http_chunk(preamble.encode()))
        while sent < total_bytes and not select.select([conn], [], [], 0)[0]:
            try:
                conn.sendall(http_chunk(chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        return conn.recv(4096), sent


def http_chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(("kind", "filename"), [("models", "big.zip"), ("datasets", "big.npz")])
def test_a_chunked_upload_over_the_cap_is_refused_before_it_ends(
    client: TestClient,
    live_url: str,
    settings_update: Callable[[dict[str, Any]], None],
    kind: str,
    filename: str,
) -> None:
    settings_update({"max_upload_bytes": 64 * 1024})
    total = 256 * MiB
    head, sent = chunked_upload_until_answered(
        live_url, client.headers["Authorization"], f"/v1/{kind}", filename, total
    )
    assert head.startswith(b"HTTP/1.1 413"), head
    assert sent < total // 4
