"""`make run`: the whole service on one machine.

Starts the embedded Postgres and Redis (unless DATABASE_URL / REDIS_URL point elsewhere),
migrates, makes sure a development API key exists, then runs the API (uvicorn) and one Celery
worker as child processes until Ctrl-C or SIGTERM, and stops everything in reverse order.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable

import httpx
from sqlalchemy.exc import SQLAlchemyError

from app.core.db.migrate import upgrade_to_head
from app.core.queue import celery_client
from app.core.settings import Settings, get_settings
from app.devserver.dev_key import DEV_KEY_FILE, ensure_dev_api_key
from app.devserver.embedded import start_postgres, start_redis
from app.devserver.embedded.children import Child, api_process, worker_process
from app.devserver.embedded.postgres import postgres_root
from app.devserver.launch_guards import claim_data_dir, ensure_port_free

READY_TIMEOUT_SECONDS = 60
API_STOP_SECONDS = 10
# A Celery warm shutdown waits for the running job; past this, its trainer is ended with it
# and the job is picked up again on the next start.
WORKER_STOP_SECONDS = 10


class Launcher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.stop_servers: list[Callable[[], None]] = []  # in the order they must stop
        self.children: list[Child] = []
        self.stopping = False

    def start_dependencies(self) -> tuple[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        database_url, redis_url = self.settings.database_url, self.settings.redis_url
        if not redis_url:
            redis_server = start_redis(self.data_dir / "redis")
            self.stop_servers.insert(0, redis_server.stop)
            redis_url = redis_server.url
        if not database_url:
            postgres = start_postgres(postgres_root(self.data_dir))
            self.stop_servers.append(postgres.stop)
            database_url = postgres.url
        return database_url, redis_url

    def start_children(self, env: dict[str, str]) -> None:
        self.children.append(worker_process(env))
        self.children.append(
            api_process(
                env,
                self.settings.host,
                self.settings.port,
                workers=self.settings.web_concurrency,
            )
        )

    def wait_until_ready(self, redis_url: str) -> None:
        """Until the API answers and the worker replies to a ping, so the banner comes last."""
        url = f"http://{self.settings.host}:{self.settings.port}/healthz"
        workers = celery_client(redis_url).control
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        api_up = worker_up = False
        while not (api_up and worker_up) and not self.stopping:
            if time.monotonic() > deadline:
                missing = "the API" if not api_up else "the worker"
                raise RuntimeError(f"{missing} did not come up within {READY_TIMEOUT_SECONDS}s")
            self.check_children()
            try:
                api_up = api_up or httpx.get(url, timeout=1).status_code == 200
            except httpx.HTTPError:
                pass
            worker_up = worker_up or bool(workers.ping(timeout=0.5))
            time.sleep(0.2)

    def check_children(self) -> None:
        for child in self.children:
            if child.exited():
                raise RuntimeError(f"the {child.name} process exited ({child.returncode})")

    def shutdown(self) -> None:
        for child in reversed(self.children):
            child.stop(API_STOP_SECONDS if child.name == "api" else WORKER_STOP_SECONDS)
        for stop in self.stop_servers:
            stop()

    def banner(self, key: str, created: bool) -> str:
        base = f"http://{self.settings.host}:{self.settings.port}"
        key_file = self.data_dir / DEV_KEY_FILE
        made = "created" if created else "reused"
        return (
            f"\nShears is running at {base}\n"
            f"  Dashboard: {base}/ui/  (paste the API key below)\n"
            f"  API docs:  {base}/docs\n"
            f"  API key:   {key}  ({made}; saved in {key_file})\n"
            f'  Try:       curl -H "Authorization: Bearer $(cat {key_file})" {base}/v1/models\n'
            f"  Stop:      Ctrl-C\n"
        )


def main() -> int:
    launcher = Launcher(get_settings())

    def request_stop(signum: int, _frame: object) -> None:
        launcher.stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        data_dir_lock = claim_data_dir(launcher.data_dir)  # noqa: F841 - held until we exit
        ensure_port_free(launcher.settings.host, launcher.settings.port)
        database_url, redis_url = launcher.start_dependencies()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DATA_DIR": str(launcher.data_dir),
        }
        os.environ.update(env)
        get_settings.cache_clear()
        upgrade_to_head(database_url)
        key, created = ensure_dev_api_key(launcher.data_dir)
        launcher.start_children(env)
        launcher.wait_until_ready(redis_url)
        if not launcher.stopping:
            print(launcher.banner(key, created), flush=True)
        while not launcher.stopping:
            launcher.check_children()
            time.sleep(0.5)
        return 0
    except (RuntimeError, OSError, SQLAlchemyError) as exc:
        print(f"shears: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown
        launcher.shutdown()
        print("Shears stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
