"""The job's model and dataset, fetched from Postgres into the attempt's scratch directory."""

from __future__ import annotations

from pathlib import Path

from app.core.db.session import session_scope
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.inspection.archive_members import ExtractLimits
from app.inspection.archives import safe_extract
from app.inspection.errors import UploadRejected
from worker.job_state import ClaimedJob


class InputError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fetch_inputs(job: ClaimedJob, scratch: Path, settings: Settings) -> tuple[Path, Path]:
    """(model path, dataset path): a SavedModel directory or a .keras file, and the .npz."""
    with session_scope() as session:
        store = BlobStore(session, settings.blob_chunk_bytes)
        data = store.write_to_file(job.dataset_blob_id, scratch / "data.npz")
        if job.model_container == "keras":
            return store.write_to_file(job.model_blob_id, scratch / "model.keras"), data
        archive = store.write_to_file(job.model_blob_id, scratch / f"upload.{job.model_container}")
    try:
        # Checked at upload, unpacked as carefully again: the archive is still untrusted.
        return safe_extract(archive, scratch / "model", ExtractLimits.from_settings(settings)), data
    except UploadRejected as exc:
        raise InputError("model_invalid", f"the stored model cannot be unpacked: {exc}") from exc
    finally:
        archive.unlink(missing_ok=True)
