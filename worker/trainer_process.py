"""The trainer subprocess: an untrusted program (an uploaded SavedModel runs inside it), so it
gets no credentials, its own scratch directory, process group and network namespace, and limits.

Memory: the supervisor watches the resident size of the process tree and kills it past the
limit, which gives the user a clear reason. The kernel backstop for allocations faster than that
watch is RLIMIT_DATA (private writable memory: heap and anonymous mappings) at twice the limit;
RLIMIT_AS would count TensorFlow's large virtual reservations (gigabytes never touched) and
break it.

Network: a fresh network namespace (only a down loopback) where the OS allows it: as root, or
through an unprivileged user namespace. Where neither is allowed the trainer still runs, without
credentials, and its log (stderr) starts with "shears: network isolation unavailable".
"""

from __future__ import annotations

import ctypes
import os
import queue
import resource
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.core.process_group import signal_group, stop_group
from worker.trainer_lines import MAX_LINE_CHARS

MAX_QUEUED_LINES = 64

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Only these reach the trainer: an allow-list, so a secret added to the worker's environment
# tomorrow does not leak into uploaded code.
INHERITED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "LD_LIBRARY_PATH",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_FORCE_GPU_ALLOW_GROWTH",
    "XLA_FLAGS",
)
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
KERNEL_LIMIT_FACTOR = 2
_libc = ctypes.CDLL(None, use_errno=True)


def trainer_env(parent: Mapping[str, str], scratch: Path) -> dict[str, str]:
    env = {name: parent[name] for name in INHERITED_ENV if name in parent}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        MPLCONFIGDIR=str(scratch),
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def _isolate_network() -> bool:
    if _libc.unshare(CLONE_NEWNET) == 0:
        return True
    return bool(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)


def _confine(memory_bytes: int, parent_pid: int, isolate_network: bool) -> Callable[[], None]:
    """Runs in the child between fork and exec."""

    def confine() -> None:
        # Die with the worker: a SIGKILLed worker must not leave a trainer running.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(1)
        backstop = KERNEL_LIMIT_FACTOR * memory_bytes
        resource.setrlimit(resource.RLIMIT_DATA, (backstop, backstop))
        if isolate_network and not _isolate_network():
            os.write(2, b"shears: network isolation unavailable on this host\n")

    return confine


@dataclass(frozen=True)
class TrainerLimits:
    memory_bytes: int
    isolate_network: bool = True


class TrainerProcess:
    """A started trainer; stdout lines arrive through `next_line`, stderr goes to a log file."""

    EOF = ""

    def __init__(self, argv: list[str], scratch: Path, limits: TrainerLimits) -> None:
        self.log_path = scratch / "trainer.log"
        self.limits = limits
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=scratch,
                env=trainer_env(os.environ, scratch),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                errors="replace",  # bytes that are not UTF-8 must not end the reading
                start_new_session=True,  # its own process group, signalled as one
                preexec_fn=_confine(limits.memory_bytes, os.getpid(), limits.isolate_network),
            )
        # Bounded both ways: a full queue stops the reading (the trainer then blocks on its
        # pipe), and no line is read past MAX_LINE_CHARS.
        self._lines: queue.Queue[str] = queue.Queue(maxsize=MAX_QUEUED_LINES)
        self.flooded = False
        self.abandoned = False  # stopped or killed: the reader may drop what is left
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while line := self.proc.stdout.readline(MAX_LINE_CHARS + 1):
            if len(line) > MAX_LINE_CHARS:
                self.flooded = True  # the supervisor stops the trainer
                break
            if not self._put(line):
                return
        self._put(self.EOF)

    def _put(self, line: str) -> bool:
        """Queue the line, waiting for room; False once nobody will read any more."""
        while not self.abandoned:
            try:
                self._lines.put(line, timeout=1.0)
                return True
            except queue.Full:
                pass
        return False

    def next_line(self, timeout: float) -> str | None:
        """The next stdout line, EOF ("") once stdout is closed, None if none came in time."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout)

    def resident_bytes(self) -> int:
        """Resident memory of the trainer and anything it started."""
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def over_memory_limit(self) -> bool:
        return self.resident_bytes() > self.limits.memory_bytes

    def stop(self, grace_seconds: float) -> None:
        """SIGTERM the process group, SIGKILL what is left after the grace period."""
        self.abandoned = True
        stop_group(self.proc, grace_seconds)

    def kill(self) -> None:
        self.abandoned = True
        signal_group(self.proc, signal.SIGKILL)
        self.proc.wait()

    def stderr_tail(self, max_chars: int = 2000) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, self.log_path.stat().st_size - max_chars))
                return log.read().decode(errors="replace").strip()
        except OSError:
            return ""


def trainer_command(
    model: Path,
    data: Path,
    hparams: str,
    training: str,
    out: Path,
    exports: str = "[]",
    kind: str = "prune",
    stand_in: str = "",
    *,
    devices: str,
    logical_cpus: int,
) -> list[str]:
    """The engine's command line: a pruning job's, or (kind "sensitivity") the sensitivity
    mode's. `stand_in` (Settings.fake_trainer_command, a test aid) replaces the program,
    keeping the arguments. `devices` and `logical_cpus` (TRAINER_DEVICES, TRAINER_LOGICAL_CPUS)
    are for training (the trainer checks them): the sensitivity mode only evaluates, on one
    device."""
    program = shlex.split(stand_in) if stand_in else [sys.executable, "-m", "worker.pruning"]
    mode = ["sensitivity"] if kind == "sensitivity" else []
    return [
        *program,
        *mode,
        str(model),
        str(data),
        "--hparams",
        hparams,
        "--training",
        training,
        "--out",
        str(out),
        *([] if mode else ["--exports", exports]),
        *([] if mode else ["--devices", devices, "--logical-cpus", str(logical_cpus)]),
    ]
