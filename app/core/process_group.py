"""Stopping a child that leads its own process group, so whatever it started stops with it."""

from __future__ import annotations

import os
import signal
import subprocess


def signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def stop_group(proc: subprocess.Popen, grace_seconds: float) -> None:
    """SIGTERM the group, then SIGKILL what is left after the grace period, and reap the child."""
    signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        pass
    signal_group(proc, signal.SIGKILL)
    proc.wait()
