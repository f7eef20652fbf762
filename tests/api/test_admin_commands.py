"""The operator's commands as a new user runs them: in a second terminal beside `make run`,
with only DATA_DIR to find its embedded database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from fastapi import FastAPI

from app.devserver.embedded import EmbeddedPostgres
from tests.api.conftest import assert_error, closed_port, new_client

REPO = Path(__file__).resolve().parents[2]


def admin(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PYTHONPATH=str(REPO), DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "app.admin", *args],
        cwd=data_dir,  # not the repository: no .env to lean on
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_run_data_dir(tmp_path: Path, postgres: EmbeddedPostgres) -> Path:
    """A DATA_DIR laid out as `make run` leaves it, its Postgres being the test server."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "postgres").symlink_to(postgres.root)
    return data_dir


def test_keys_are_made_listed_and_revoked_through_data_dir(
    app: FastAPI, embedded_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    data_dir = make_run_data_dir(tmp_path, embedded_postgres)
    tenant = f"second-{uuid.uuid4().hex[:8]}"
    made = admin(data_dir, "create-api-key", "--tenant", tenant)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("shr_") and "\n" not in key
    client = new_client(app, key)
    assert client.get("/v1/models").status_code == 200

    listed = admin(data_dir, "list-api-keys", "--tenant", tenant)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.strip().splitlines()
    key_id, name, prefix, _created, state = line.split("\t")
    assert (name, state) == (tenant, "active")
    assert key.startswith(prefix.rstrip(".")) and key not in listed.stdout

    revoked = admin(data_dir, "revoke-api-key", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert_error(client.get("/v1/models"), 401, "unauthorized")
    listed = admin(data_dir, "list-api-keys", "--tenant", tenant)
    assert listed.stdout.strip().split("\t")[-1].startswith("revoked")


def test_revoking_an_unknown_key_is_a_one_line_error(
    embedded_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    result = admin(make_run_data_dir(tmp_path, embedded_postgres), "revoke-api-key", "key_nope")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: no API key 'key_nope'")


def test_no_database_is_a_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    never_started = tmp_path / "empty"
    never_started.mkdir()
    result = admin(never_started, "create-api-key", "--tenant", "t")
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "DATABASE_URL is not set" in result.stderr and str(never_started) in result.stderr

    stopped = tmp_path / "stopped"
    (stopped / "postgres").mkdir(parents=True)
    (stopped / "postgres" / "port").write_text(f"{closed_port()}\n")
    (stopped / "postgres" / "password").write_text("pw\n")
    result = admin(stopped, "list-api-keys")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot reach the database" in result.stderr
