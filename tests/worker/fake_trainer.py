"""Stands in for `python -m worker.pruning` (Settings.fake_trainer_command, a test aid): same
arguments, same JSON-lines protocol, and a tiny valid output (metrics.json, a saved_model dir,
TensorBoard events, model.keras).

What it does is chosen by the "model" file's content: succeed, error, crash, hang, stubborn
(hangs and ignores SIGTERM), hog (memory), flood (an endless stdout line) or long (many progress
lines); any other model (a real upload) succeeds.

    fake_trainer.py [sensitivity] [--seconds S] [--steps N] [--runs-dir DIR] MODEL DATA
        [--hparams H] [--training T] [--exports E] [--devices D] [--logical-cpus N] --out OUT

--seconds: how long a successful run takes, in --steps progress lines evenly spread (4 unless
told; a benchmark asks for many, to stand for a job that trains throughout). --runs-dir: every
run appends a line to DIR/<job id> (the job id is read from OUT, scratch/<job id>/attempt-N/out),
so a simulation can count how often each job's trainer ran. The metrics it writes say which
devices it was given, as "training": {"devices", "logical_cpus"}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

BEHAVIOURS = ("succeed", "error", "crash", "hang", "stubborn", "hog", "flood", "long")
STEPS = 4
LONG_STEPS = 600


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def progress(step: int, steps: int = STEPS) -> None:
    emit(
        "progress",
        step=step,
        total_steps=steps,
        epoch=step / steps,
        loss=1.0 / (step + 1),
        target_sparsity=0.2 * step,
        achieved_sparsity=0.2 * step,
        layers=[],
        steps_per_second=10.0,
        eta_seconds=0.1,
        pid=os.getpid(),
    )


def write_outputs(out: Path, args: argparse.Namespace) -> None:
    (out / "saved_model" / "variables").mkdir(parents=True)
    (out / "saved_model" / "saved_model.pb").write_bytes(b"pb")
    (out / "saved_model" / "variables" / "variables.index").write_bytes(b"index")
    (out / "tensorboard").mkdir()
    (out / "tensorboard" / "events.out.tfevents.1").write_bytes(b"events")
    (out / "model.keras").write_bytes(b"keras")
    metrics = {
        "pruned": {"accuracy": 0.9},
        "sparsity": {"target": 0.8, "achieved": 0.8},
        "training": {"devices": args.devices, "logical_cpus": args.logical_cpus},
    }
    (out / "metrics.json").write_text(json.dumps(metrics))
    emit("metrics", **metrics)


def record_run(runs_dir: Path, out: Path) -> None:
    attempt_dir = out.parent
    with (runs_dir / attempt_dir.parent.name).open("a") as log:
        log.write(f"{attempt_dir.name} {os.getpid()}\n")


def behaviour_of(model: Path) -> str:
    text = model.read_bytes()[:32].decode(errors="replace").strip()
    return text if text in BEHAVIOURS else "succeed"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--hparams", default="{}")
    parser.add_argument("--training", default="{}")
    parser.add_argument("--exports", default="[]")
    parser.add_argument("--devices")
    parser.add_argument("--logical-cpus", type=int)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--runs-dir", type=Path)
    return parser.parse_args([arg for arg in argv if arg != "sensitivity"])


def main() -> None:
    args = parse(sys.argv[1:])
    if args.runs_dir is not None:
        record_run(args.runs_dir, args.out)
    behaviour = behaviour_of(args.model)
    emit("started", total_steps=args.steps, warnings=["fake trainer"])
    progress(0, args.steps)
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
        write_outputs(args.out, args)
        return
    for step in range(1, args.steps + 1):
        time.sleep(args.seconds / args.steps)
        progress(step, args.steps)
    write_outputs(args.out, args)


if __name__ == "__main__":
    main()
