"""What pruning costs per training step: the seed's CIFAR-10 net on random 32x32x3 images,
batch 128, Adam, as a plain Keras 3 `model.fit` (dense), as Shears' fine-tune loop pruning
to 0.9 with a mask update every 10 steps, and as tfmot (prune_low_magnitude + PolynomialDecay,
power 3, frequency 10) in tf-keras; plus tf-keras's own dense `model.fit`, to tell tfmot's
cost from tf-keras's.

Each method runs in a process of its own (tfmot cannot share one with Keras 3); the four
processes take turns of ten steps on the CPU, in a rotating order, so that drift in the
machine's load falls on all of them alike.

    python -m bench.engine_overhead [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import NoReturn

from bench.common import write_result
from bench.step_stats import READY, paired_ratio, summarize

PRUNING_FREQUENCY = 10
CHUNK = 10  # steps per turn

# name: (command after `python -m`, how it is measured)
METHODS: dict[str, tuple[list[str], str]] = {
    "dense": (
        ["bench.keras_steps", "dense"],
        "Keras 3 model.compile(Adam, loss only) + model.fit on a tf.data pipeline; step end "
        "times from on_train_batch_end",
    ),
    "shears": (
        ["bench.keras_steps", "shears"],
        "Shears' engine loop (training_loop.fine_tune with Pruner, TrainStep, progress events "
        "and TensorBoard summaries, as run_pruning drives it) from a .keras file, pruning to 0.9 "
        "with pruning_frequency 10 and the ramp over the whole run (threshold_decay 0); step "
        "end times after each compiled step, so mask updates fall inside the step they precede",
    ),
    "tfmot": (
        ["bench.tfmot_runner", "steps", "tfmot"],
        "tf-keras prune_low_magnitude(PolynomialDecay(0 -> 0.9, power 3, frequency 10, over "
        "the whole run)) + model.fit with UpdatePruningStep; step end times from "
        "on_train_batch_end",
    ),
    "tf_keras_dense": (
        ["bench.tfmot_runner", "steps", "tf_keras_dense"],
        "tf-keras model.compile(Adam, loss only) + model.fit, no pruning (tfmot's own baseline)",
    ),
}


class Turns:
    """One method's run in a process of its own, stepping only when given the turn."""

    def __init__(self, method: str, warmup: int, chunk: int, chunks: int) -> None:
        self.method = method
        pacing = ["--warmup", str(warmup), "--chunk", str(chunk), "--chunks", str(chunks)]
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [sys.executable, "-m", *METHODS[method][0], *pacing],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def _fail(self, what: str) -> NoReturn:
        self._process.kill()
        self._log.seek(0)
        sys.stderr.write(self._log.read()[-4000:])
        raise RuntimeError(f"the {self.method} run {what}")

    def wait_turn_done(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip() == READY:
                return
        self._fail(f"ended early (exit {self._process.wait()})")

    def give_turn(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("go\n")
        self._process.stdin.flush()

    def result(self) -> dict:
        """The run's JSON line, once it has been given its last turn."""
        stdout, _ = self._process.communicate()
        if self._process.returncode != 0:
            self._fail(f"failed (exit {self._process.returncode})")
        self._log.close()
        return json.loads(stdout.strip().splitlines()[-1])


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4)


def measure(warmup: int, chunks: int) -> dict[str, dict]:
    """Every method's run: warm-ups together (not measured), then turns of CHUNK steps in a
    rotating order, so no method always follows the same one."""
    runs = [Turns(name, warmup, CHUNK, chunks) for name in METHODS]
    for run in runs:
        run.wait_turn_done()
    for turn in range(chunks):
        for run in runs[turn % len(runs) :] + runs[: turn % len(runs)]:
            run.give_turn()
            run.wait_turn_done()
        print(f"turn {turn + 1}/{chunks} done", flush=True)
    for run in runs:
        run.give_turn()
    return {run.method: run.result() for run in runs}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 measured steps per method")
    args = parser.parse_args(argv)
    # Warm-ups that are not a multiple of PRUNING_FREQUENCY put each mask update mid-turn,
    # not on the first step after a pause, which is slower for every method.
    warmup, chunks = (5, 3) if args.quick else (15, 20)
    load_before = os.getloadavg()
    results = measure(warmup, chunks)
    load_after = os.getloadavg()
    params = results["dense"]["params"]
    steps = {name: results[name]["intervals_ms"] for name in METHODS}
    stats = {name: summarize(steps[name], PRUNING_FREQUENCY) for name in METHODS}
    median = {name: stats[name]["median_ms"] for name in METHODS}
    mean = {name: stats[name]["mean_ms"] for name in METHODS}
    payload = {
        "model": "the seed's CIFAR-10 net: conv 5x5x64, maxpool, conv 5x5x64, maxpool, "
        "dense 384, dense 192, dense 10",
        "params": params,
        "data": "random 32x32x3 images, 10 classes",
        "batch_size": 128,
        "optimizer": "Adam, learning rate 0.001",
        "target_sparsity": 0.9,
        "pruning_frequency": PRUNING_FREQUENCY,
        "warmup_steps": warmup,
        "steps_per_turn": CHUNK,
        "turns": chunks,
        "quick": args.quick,
        # Other work on the machine slows some turns more than others; this says how busy it was.
        "load_average_1min_before": round(load_before[0], 2),
        "load_average_1min_after": round(load_after[0], 2),
        "dense_step_ms": median["dense"],
        "shears_step_ms": median["shears"],
        "tfmot_step_ms": median["tfmot"],
        "shears_overhead": ratio(median["shears"], median["dense"]),
        "tfmot_overhead": ratio(median["tfmot"], median["dense"]),
        "tf_keras_dense_step_ms": median["tf_keras_dense"],
        "tfmot_overhead_vs_tf_keras": ratio(median["tfmot"], median["tf_keras_dense"]),
        "dense_mean_step_ms": mean["dense"],
        "shears_mean_step_ms": mean["shears"],
        "tfmot_mean_step_ms": mean["tfmot"],
        "shears_overhead_mean": ratio(mean["shears"], mean["dense"]),
        "tfmot_overhead_mean": ratio(mean["tfmot"], mean["dense"]),
        "shears_overhead_paired": paired_ratio(steps["shears"], steps["dense"], CHUNK),
        "tfmot_overhead_paired": paired_ratio(steps["tfmot"], steps["dense"], CHUNK),
        "measured_as": (
            "*_step_ms: median over every measured step of its wall time, from the end of the "
            "step before (or from getting the CPU back) to its own end: the typical compiled "
            "step, as mask updates (one step in ten) fall out of the median. *_mean_step_ms: "
            "the mean over the same steps, mask updates included. Overheads are ratios to the "
            "dense Keras 3 model.fit; *_paired: the median over turns of the ratio of the two "
            "runs' median steps within one turn. Each method runs in a process of its own, all "
            "started together: after the warm-up steps, each runs `steps_per_turn` steps while "
            "the others wait, in a rotating order, for `turns` turns, so drift in the "
            "machine's load falls on all alike."
        ),
        "methods": {name: {"how": METHODS[name][1], **stats[name]} for name in METHODS},
    }
    write_result("engine_overhead", payload)
    for key in [k for k in payload if "overhead" in k]:
        print(f"{key}: {payload[key]}")
    return payload


if __name__ == "__main__":
    main()
