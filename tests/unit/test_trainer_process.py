"""The trainer's confinement, tried with small Python programs in place of the trainer."""

import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.processes import still_running
from worker.trainer_lines import MAX_LINE_CHARS
from worker.trainer_process import MAX_QUEUED_LINES, TrainerLimits, TrainerProcess, trainer_env

GiB = 1024**3


def run_script(tmp_path: Path, code: str, memory_bytes: int = 4 * GiB) -> TrainerProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return TrainerProcess([sys.executable, str(script)], tmp_path, TrainerLimits(memory_bytes))


def stdout_lines(trainer: TrainerProcess, timeout: float = 20) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = trainer.next_line(0.2)
        if line == TrainerProcess.EOF:
            return lines
        if line:
            lines.append(line.strip())
    raise AssertionError(f"stdout still open after {timeout}s: {lines}")


def test_environment_carries_no_credentials(tmp_path: Path) -> None:
    parent = {
        "PATH": "/usr/bin",
        "DATABASE_URL": "postgresql://u:secret@db/shears",
        "REDIS_URL": "redis://:secret@redis:6379/0",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "SHEARS_API_KEY": "shr_secret",
        "CUDA_VISIBLE_DEVICES": "0",
    }
    env = trainer_env(parent, tmp_path)
    assert not [value for value in env.values() if "secret" in value]
    assert env["PATH"] == "/usr/bin" and env["CUDA_VISIBLE_DEVICES"] == "0"
    assert env["HOME"] == str(tmp_path)


def test_trainer_sees_only_the_stripped_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@127.0.0.1/x")
    monkeypatch.setenv("REDIS_URL", "redis://:pw@127.0.0.1:6379/0")
    trainer = run_script(tmp_path, "import os, json; print(json.dumps(sorted(os.environ)))")
    names = stdout_lines(trainer)[-1]
    assert trainer.wait(10) == 0
    assert "DATABASE_URL" not in names and "REDIS_URL" not in names
    assert "HOME" in names


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_trainer_cannot_reach_a_local_server(tmp_path: Path, listening_port: int) -> None:
    trainer = run_script(
        tmp_path,
        f"""
        import socket
        s = socket.socket(); s.settimeout(2)
        print("refused" if s.connect_ex(("127.0.0.1", {listening_port})) else "connected")
        """,
    )
    output = stdout_lines(trainer)
    trainer.wait(10)
    if "network isolation unavailable" in trainer.stderr_tail():
        pytest.skip("this host allows no network namespace")
    assert output == ["refused"]


def test_runs_in_its_scratch_directory(tmp_path: Path) -> None:
    trainer = run_script(tmp_path, "import os; print(os.getcwd())")
    assert stdout_lines(trainer) == [str(tmp_path)]


def test_allocation_past_the_kernel_backstop_fails(tmp_path: Path) -> None:
    trainer = run_script(
        tmp_path,
        """
        try:
            block = bytearray(1024 * 1024 * 1024)
            print("allocated")
        except MemoryError:
            print("refused")
        """,
        memory_bytes=256 * 1024 * 1024,
    )
    assert stdout_lines(trainer) == ["refused"]


def test_resident_memory_is_measured(tmp_path: Path) -> None:
    trainer = run_script(
        tmp_path,
        """
        import sys, time
        block = bytearray(300 * 1024 * 1024)
        print("ready", flush=True)
        time.sleep(30)
        """,
        memory_bytes=200 * 1024 * 1024,
    )
    while trainer.next_line(5) != "ready\n":
        pass
    assert trainer.resident_bytes() > 300 * 1024 * 1024
    assert trainer.over_memory_limit()
    trainer.kill()


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    trainer = run_script(
        tmp_path,
        """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a trainer that will not stop nicely
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
        """,
    )
    grandchild = int(trainer.next_line(10) or 0)
    started = time.monotonic()
    trainer.stop(grace_seconds=1)
    assert time.monotonic() - started < 5
    assert trainer.proc.poll() is not None
    assert not still_running([psutil.Process(grandchild)], timeout=5)


def test_stderr_tail_keeps_the_end_of_the_log(tmp_path: Path) -> None:
    trainer = run_script(tmp_path, "import sys; sys.stderr.write('x' * 5000 + 'THE END')")
    trainer.wait(10)
    tail = trainer.stderr_tail(100)
    assert tail.endswith("THE END") and len(tail) == 100


def test_unread_output_waits_in_a_bounded_queue_and_none_is_lost(tmp_path: Path) -> None:
    trainer = run_script(
        tmp_path,
        """
        for i in range(20000):
            print(f"line {i} " + "x" * 100)
        """,
    )
    time.sleep(2)  # nobody reads: the trainer must block on its pipe, not fill our memory
    assert trainer._lines.qsize() <= MAX_QUEUED_LINES
    assert trainer.proc.poll() is None
    lines = stdout_lines(trainer)
    assert len(lines) == 20000 and lines[-1].startswith("line 19999 ")
    assert trainer.wait(10) == 0


def test_a_line_past_the_cap_is_never_read_whole(tmp_path: Path) -> None:
    trainer = run_script(
        tmp_path,
        f"""
        import sys, time
        print("before", flush=True)
        sys.stdout.write("{{" + "x" * {4 * MAX_LINE_CHARS})
        sys.stdout.flush()
        time.sleep(60)
        """,
    )
    lines = stdout_lines(trainer)
    assert lines == ["before"] and trainer.flooded
    trainer.kill()
