"""The Celery worker stays small and trusted: TensorFlow lives only in the trainer subprocess."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_worker_and_launcher_import_no_tensorflow() -> None:
    code = (
        "import sys, worker.celery_app, worker.tasks, worker.lifecycle, app.devserver.launcher; "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
