"""Bad uploads through the real API: a 4xx in the envelope with the reason, nothing stored, no
file left behind, and the service still ready."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from tests.api.conftest import ESCAPE_MARKER, assert_error, upload
from tests.api.files import N_FEATURES, ModelFiles, tiny_model, zip_bytes, zip_dir


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def tar_gz_with(path: Path, build: callable) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        build(archive)
    return path


def symlink_tar(archive: tarfile.TarFile) -> None:
    link = tarfile.TarInfo(f"model/{ESCAPE_MARKER}_link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive.addfile(link)


@pytest.fixture(scope="session")
def forbidden_op_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SavedModel whose serving function reads a file."""

    class Reader(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, N_FEATURES], tf.float32)])
        def __call__(self, x: tf.Tensor) -> tf.Tensor:
            size = tf.strings.length(tf.io.read_file("/etc/hostname"))
            return x + tf.cast(size, tf.float32)

    root = tmp_path_factory.mktemp("reader")
    module = Reader()
    tf.saved_model.save(module, str(root / "sm"), signatures={"serving_default": module.__call__})
    return zip_dir(root / "sm", root / "reader.zip")


@pytest.fixture(scope="session")
def lambda_keras_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = tiny_model()
    wrapped = keras.Sequential([model.layers[0], keras.layers.Lambda(lambda x: x * 2.0)])
    wrapped.build((None, N_FEATURES))
    path = tmp_path_factory.mktemp("lambda") / "lambda.keras"
    wrapped.save(path)
    return path


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda d, m: write(d / "notes.zip", b"just some text"), 415, "unsupported_file_type"),
        (lambda d, m: write(d / "model.zip", m.tar_gz.read_bytes()), 415, "extension_mismatch"),
        (lambda d, m: write(d / "empty.zip", b""), 422, "empty_file"),
        (
            lambda d, m: write(d / "slip.zip", zip_bytes({f"../../{ESCAPE_MARKER}.txt": b"x"})),
            422,
            "unsafe_archive_member",
        ),
        (
            lambda d, m: write(d / "abs.zip", zip_bytes({f"/tmp/{ESCAPE_MARKER}.txt": b"x"})),
            422,
            "unsafe_archive_member",
        ),
        (
            lambda d, m: tar_gz_with(d / "link.tar.gz", symlink_tar),
            422,
            "unsafe_archive_member",
        ),
        (
            lambda d, m: write(d / "nopb.zip", zip_bytes({"variables/x": b"1"})),
            422,
            "no_saved_model",
        ),
        (
            lambda d, m: write(d / "corrupt.zip", zip_bytes({"saved_model.pb": b"\x08garbage"})),
            422,
            "corrupt_saved_model",
        ),
        (
            lambda d, m: write(d / "trunc.zip", m.zip.read_bytes()[: m.zip.stat().st_size // 2]),
            422,
            "corrupt_archive",
        ),
    ],
    ids=[
        "not-an-archive",
        "extension-lies",
        "empty",
        "zip-slip",
        "absolute-path",
        "symlink",
        "no-saved-model",
        "corrupt-pb",
        "truncated",
    ],
)
def test_bad_model_files_are_refused(
    client: TestClient, model_files: ModelFiles, tmp_path: Path, make, status: int, code: str
) -> None:
    error = assert_error(upload(client, "models", make(tmp_path, model_files)), status, code)
    assert len(error["message"]) > 20


@pytest.mark.usefixtures("nothing_kept")
def test_a_savedmodel_reading_files_is_refused(
    client: TestClient, forbidden_op_model: Path
) -> None:
    error = assert_error(upload(client, "models", forbidden_op_model), 422, "forbidden_op")
    assert "ReadFile" in error["message"]


@pytest.mark.usefixtures("nothing_kept")
def test_a_keras_file_with_a_lambda_layer_is_refused(
    client: TestClient, lambda_keras_model: Path
) -> None:
    error = assert_error(upload(client, "models", lambda_keras_model), 422)
    assert "Lambda" in error["message"]


@pytest.fixture
def small_cap(settings_update: Callable[[dict[str, Any]], None]) -> int:
    cap = 4096
    settings_update({"max_upload_bytes": cap})
    return cap


@pytest.mark.usefixtures("nothing_kept")
def test_an_upload_over_the_cap_is_413(
    client: TestClient, model_files: ModelFiles, small_cap: int
) -> None:
    error = assert_error(upload(client, "models", model_files.zip), 413, "upload_too_large")
    assert str(small_cap) in error["message"]


@pytest.mark.usefixtures("nothing_kept")
def test_a_flood_of_form_fields_is_400(client: TestClient, model_files: ModelFiles) -> None:
    with model_files.zip.open("rb") as stream:
        response = client.post(
            "/v1/models", files={"file": ("m.zip", stream)}, data={"name": ["x"] * 50}
        )
    assert_error(response, 400, "too_many_parts")


def raw_multipart(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": "multipart/form-data; boundary=b"}}


NO_FILE_PART = b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n'
CUT_SHORT = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\n'
    b"PK\x03\x04 and then the body stops"
)


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"file": "x"}}, 415, "unsupported_media_type"),
        (
            {"data": {"name": "n"}, "files": {"other": ("a", io.BytesIO(b"x"))}},
            400,
            "unexpected_field",
        ),
        (raw_multipart(NO_FILE_PART), 422, "missing_file"),
        (raw_multipart(CUT_SHORT), 400, "malformed_multipart"),
    ],
    ids=["json-body", "unexpected-field", "no-file-part", "truncated-multipart"],
)
def test_malformed_upload_requests(
    client: TestClient, kwargs: dict[str, Any], status: int, code: str
) -> None:
    assert_error(client.post("/v1/models", **kwargs), status, code)
