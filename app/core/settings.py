"""One settings class for the API, the worker and migrations/env.py, read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

GiB = 1024**3
MiB = 1024**2


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where embedded servers, scratch space and the dev API key live.
    data_dir: Path = Path(".data")
    # Unset means "start the embedded ones in data_dir" (the launcher fills these in for its
    # children); the API and worker themselves always get a URL.
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # API processes (uvicorn workers): one per core is the most that helps.
    web_concurrency: int = Field(default=1, ge=1)

    # Uploads.
    max_upload_bytes: int = 2 * GiB
    max_extracted_bytes: int = 8 * GiB
    max_archive_members: int = 10_000
    max_compression_ratio: float = 200.0
    blob_chunk_bytes: int = 4 * MiB

    # Jobs.
    job_time_limit_seconds: int = 6 * 3600
    max_attempts: int = 3
    trainer_memory_limit_bytes: int = 16 * GiB
    progress_db_interval_seconds: float = 1.0
    cancel_poll_seconds: float = 1.0
    stream_maxlen: int = 10_000
    stream_ttl_seconds: int = 7 * 24 * 3600
    idempotency_window_seconds: int = 24 * 3600
    # Jobs left `queued` longer than this without a worker are re-enqueued by the sweeper.
    requeue_after_seconds: int = 120
    # A `running` job whose worker has not written a heartbeat for this long is orphaned.
    heartbeat_timeout_seconds: int = 120
    # A test aid, never for real jobs: a command line run instead of `python -m worker.pruning`
    # (same arguments, same JSON-lines protocol), e.g. tests/worker/fake_trainer.py.
    fake_trainer_command: str = ""
    # The devices one job trains on (worker/pruning/contract/devices.py, which the worker checks
    # this against when it starts): first, cpu, all, or names like GPU:0,GPU:1; and how many
    # logical devices the CPU counts as (tests, CI).
    trainer_devices: str = "first"
    trainer_logical_cpus: int = Field(default=1, ge=1)

    # Per-tenant limits.
    tenant_max_concurrent_jobs: int = 16  # the largest sweep fits at once
    tenant_max_stored_bytes: int = 50 * GiB

    @property
    def scratch_dir(self) -> Path:
        return self.data_dir / "scratch"

    @property
    def celery_visibility_timeout(self) -> int:
        # Longer than the longest job, so Redis never redelivers a job that is still running.
        return self.job_time_limit_seconds + 3600


@lru_cache
def get_settings() -> Settings:
    return Settings()
