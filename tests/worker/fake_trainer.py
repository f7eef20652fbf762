"""Stands in for `python -m worker.pruning` in job-runner tests, speaking its JSON-lines
protocol. What it does is chosen by the "model" file's content: succeed, error, crash, hang,
stubborn (hangs and ignores SIGTERM), hog (memory), flood (an endless stdout line) or long
(many progress lines)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

LONG_STEPS = 600


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def progress(step: int) -> None:
    emit(
        "progress",
        step=step,
        total_steps=4,
        epoch=step / 4,
        loss=1.0 / (step + 1),
        target_sparsity=0.2 * step,
        achieved_sparsity=0.2 * step,
        layers=[],
        steps_per_second=10.0,
        eta_seconds=0.1,
        pid=os.getpid(),
    )


def write_outputs(out: Path) -> None:
    (out / "saved_model" / "variables").mkdir(parents=True)
    (out / "saved_model" / "saved_model.pb").write_bytes(b"pb")
    (out / "saved_model" / "variables" / "variables.index").write_bytes(b"index")
    (out / "tensorboard").mkdir()
    (out / "tensorboard" / "events.out.tfevents.1").write_bytes(b"events")
    (out / "model.keras").write_bytes(b"keras")
    metrics = {"pruned": {"accuracy": 0.9}, "sparsity": {"target": 0.8, "achieved": 0.8}}
    (out / "metrics.json").write_text(json.dumps(metrics))
    emit("metrics", **metrics)


def main() -> None:
    model, _data = Path(sys.argv[1]), Path(sys.argv[2])
    out = Path(sys.argv[sys.argv.index("--out") + 1])
    behaviour = model.read_text().strip()
    emit("started", total_steps=4, warnings=["fake trainer"])
    progress(0)
    if behaviour == "error":
        emit("error", code="invalid_data", message="y_train has labels outside [0, 10)")
        sys.exit(1)
    if behaviour == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if behaviour == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # make the worker use SIGKILL
    if behaviour in ("hang", "stubborn"):
        time.sleep(600)
    if behaviour == "flood":  # one endless line
        while True:
            sys.stdout.write("x" * 65536)
    if behaviour == "hog":
        hog = bytearray(300 * 1024 * 1024)
        time.sleep(600)
        del hog
    if behaviour == "long":  # many progress lines, a mask update every 100 steps
        for step in range(1, LONG_STEPS + 1):
            emit(
                "progress",
                step=step,
                total_steps=LONG_STEPS,
                loss=1.0 / step,
                target_sparsity=step / LONG_STEPS,
                achieved_sparsity=step / LONG_STEPS,
                layers=[{"name": "dense/kernel", "achieved": step / LONG_STEPS}],
                mask_update=step % 100 == 0,
            )
        write_outputs(out)
        return
    for step in (1, 2, 3, 4):
        time.sleep(0.05)
        progress(step)
    write_outputs(out)


if __name__ == "__main__":
    main()
