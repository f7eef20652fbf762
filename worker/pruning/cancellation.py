"""SIGTERM, the worker's way to cancel a job, ends the trainer at once.

Python runs signal handlers only between bytecodes, so a main thread stuck in a long
TensorFlow op would delay them. The signal's wakeup byte is read by a thread instead,
which reports the cancel and exits the process without waiting for the main thread.
"""

from __future__ import annotations

import os
import signal
import threading

from worker.pruning.progress import EventStream

EXIT_CODE = 128 + signal.SIGTERM
# How long the watcher waits for a progress line being written before exiting anyway.
WRITE_TIMEOUT_SECONDS = 1.0


def exit_on_sigterm(events: EventStream) -> None:
    """Install once, from the main thread."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    # A Python-level handler must exist for the C handler to write the wakeup byte.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)

    def watch() -> None:
        while True:
            received = os.read(read_fd, 64)
            if signal.SIGTERM in received:
                events.emit(
                    "error",
                    code="cancelled",
                    message="the job was cancelled (SIGTERM)",
                    timeout=WRITE_TIMEOUT_SECONDS,
                )
                os._exit(EXIT_CODE)

    threading.Thread(target=watch, name="sigterm-watcher", daemon=True).start()
