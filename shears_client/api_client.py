"""A thin httpx wrapper over the REST API (API.md): JSON in and out, files streamed, every
4xx/5xx raised as ShearsApiError with the API's own code and message."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import httpx

from shears_client.archive import extract_saved_model, model_upload_file, require_empty_dir
from shears_client.config import ClientConfig, load_config
from shears_client.errors import ShearsApiError, ShearsError
from shears_client.sse import ResumingEventStream, SseEvent

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
DOWNLOAD_CHUNK_BYTES = 1024 * 1024


def is_terminal_event(event: SseEvent) -> bool:
    if event.event != "status":
        return False
    data = event.json()
    return isinstance(data, dict) and data.get("status") in TERMINAL_STATUSES


def etag_sha256(etag: str | None) -> str | None:
    return etag.removeprefix("W/").strip('"').lower() if etag else None


class ShearsClient:
    # Seconds between reconnects of an event stream (unless the server sent `retry:`).
    stream_retry_seconds = 1.0

    def __init__(self, config: ClientConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._http = httpx.Client(
            base_url=config.url,
            headers={"Authorization": f"Bearer {config.api_key}"},
            timeout=httpx.Timeout(config.timeout, connect=10.0),
            transport=transport,
        )

    @classmethod
    def from_env(cls, url: str | None = None, api_key: str | None = None) -> ShearsClient:
        return cls(load_config(url, api_key))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShearsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Models and datasets.
    def upload_model(self, path: Path, name: str | None = None) -> dict[str, Any]:
        with model_upload_file(Path(path)) as upload:
            return self._upload("/v1/models", upload, name)

    def upload_dataset(self, path: Path, name: str | None = None) -> dict[str, Any]:
        path = Path(path)
        if not path.is_file():
            raise ShearsError("file_not_found", f"{path} is not a file")
        if path.suffix.lower() != ".npz":
            raise ShearsError("unsupported_file", f"{path.name}: a dataset is an .npz file")
        return self._upload("/v1/datasets", path, name)

    def list_models(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return self._json("GET", "/v1/models", params={"limit": limit, "offset": offset})

    def get_model(self, model_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/models/{model_id}")

    def delete_model(self, model_id: str) -> None:
        self._request("DELETE", f"/v1/models/{model_id}")

    def list_datasets(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return self._json("GET", "/v1/datasets", params={"limit": limit, "offset": offset})

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/datasets/{dataset_id}")

    def delete_dataset(self, dataset_id: str) -> None:
        self._request("DELETE", f"/v1/datasets/{dataset_id}")

    # Jobs.
    def submit_job(
        self,
        model_id: str,
        dataset_id: str,
        hparams: str | dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
        exports: list[str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model_id": model_id, "dataset_id": dataset_id}
        body |= {"hparams": hparams or {}, "training": training or {}}
        if exports:
            body["exports"] = exports
        if name:
            body["name"] = name
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._json("POST", "/v1/jobs", json=body, headers=headers)

    def list_jobs(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return self._json("GET", "/v1/jobs", params=params)

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job_id}")

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/v1/jobs/{job_id}/cancel")

    def job_metrics(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job_id}/metrics")

    # Sweeps and sensitivity.
    def submit_sweep(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/sweeps", json=body)

    def list_sweeps(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return self._json("GET", "/v1/sweeps", params={"limit": limit, "offset": offset})

    def get_sweep(self, sweep_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/sweeps/{sweep_id}")

    def cancel_sweep(self, sweep_id: str) -> dict[str, Any]:
        return self._json("POST", f"/v1/sweeps/{sweep_id}/cancel")

    def submit_sensitivity(self, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"/v1/models/{model_id}/sensitivity", json=body)

    def job_events(self, job_id: str, last_event_id: str | None = None) -> Iterator[SseEvent]:
        """The job's events until its terminal status, across dropped connections."""
        stream = ResumingEventStream(
            lambda last: self._event_lines(job_id, last),
            is_terminal_event,
            retry_seconds=self.stream_retry_seconds,
        )
        stream.parser.last_event_id = last_event_id
        return iter(stream)

    def download_job_model(self, job_id: str, dest: Path, fmt: str = "tar.gz") -> str:
        """Stream the pruned model to `dest`, check it against the ETag, return its sha256."""
        params = {"format": fmt}
        digest = hashlib.sha256()
        with self._stream("GET", f"/v1/jobs/{job_id}/model", params=params) as response:
            expected = etag_sha256(response.headers.get("ETag"))
            with Path(dest).open("wb") as out:
                for chunk in response.iter_bytes(DOWNLOAD_CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
        actual = digest.hexdigest()
        if expected is None:
            raise ShearsError("unverified_download", "the server sent no ETag to verify against")
        if actual != expected:
            Path(dest).unlink(missing_ok=True)
            raise ShearsError(
                "corrupt_download", f"the download's sha256 {actual} is not the ETag's {expected}"
            )
        return actual

    def download_saved_model(self, job_id: str, dest_dir: Path) -> Path:
        """Download the pruned SavedModel, verified, and unpack it: dest_dir/saved_model.pb."""
        dest_dir = Path(dest_dir)
        require_empty_dir(dest_dir)
        with tempfile.TemporaryDirectory(prefix="shears-download-") as tmp:
            archive = Path(tmp) / "model.tar.gz"
            self.download_job_model(job_id, archive, "tar.gz")
            return extract_saved_model(archive, dest_dir)

    # Plumbing.
    def _upload(self, path: str, file: Path, name: str | None) -> dict[str, Any]:
        data = {"name": name} if name else {}
        with file.open("rb") as stream:
            files: dict[str, tuple[str, BinaryIO, str]] = {
                "file": (file.name, stream, "application/octet-stream")
            }
            return self._json("POST", path, files=files, data=data)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_error:
            raise ShearsApiError.from_response(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        return response.json() if response.content else None

    @contextmanager
    def _stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        try:
            with self._http.stream(method, path, **kwargs) as response:
                if response.is_error:
                    response.read()
                    raise ShearsApiError.from_response(response)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    @contextmanager
    def _event_lines(self, job_id: str, last_event_id: str | None) -> Iterator[Iterable[str]]:
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        # The server sends a keep-alive every 15 s, so a minute of silence means a dead connection.
        timeout = httpx.Timeout(10.0, read=60.0)
        with self._http.stream(
            "GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=timeout
        ) as response:
            if response.is_error:
                response.read()
                raise ShearsApiError.from_response(response)
            yield response.iter_lines()

    def _unreachable(self, exc: httpx.TransportError) -> ShearsError:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            return ShearsError(
                "unreachable",
                f"cannot reach the Shears API at {self.config.url} ({detail}); is it running "
                "(`make run`), and is SHEARS_URL right?",
            )
        return ShearsError("connection_error", f"talking to {self.config.url}: {detail}")
