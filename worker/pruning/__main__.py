"""`python -m worker.pruning`: the trainer process (see command_line.py for the contract)."""

import os
import sys

# Before TensorFlow is imported: its C++ log lines would otherwise flood stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from worker.pruning.cancellation import exit_on_sigterm  # noqa: E402
from worker.pruning.command_line import main  # noqa: E402
from worker.pruning.progress import EventStream  # noqa: E402


def _json_lines_stdout() -> EventStream:
    """JSON lines keep the real stdout; whatever else writes to fd 1 (TensorFlow, Keras,
    print) lands on stderr, so the worker never reads a line that is not an event."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return EventStream(private)


if __name__ == "__main__":
    events = _json_lines_stdout()
    exit_on_sigterm(events)
    sys.exit(main(sys.argv[1:], events))
