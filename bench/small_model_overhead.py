"""Pruning's fixed cost where steps are cheap: the trainer's command line on the digits CNN
(8x8 inputs, batch 32, a few ms a step), 1000 steps, once pruning to 0.9 with a mask update
every 10 steps and once with pruning never starting (begin_pruning_step past the last step).

engine_overhead.py's CIFAR-10 net hides what a mask update and a progress report cost in
themselves; here they are a large share of each step. The two runs alternate, the order
flipping each repeat, so drift in the machine's load falls on both alike.

    python -m bench.small_model_overhead [--quick] [--baseline CHECKOUT]

With --baseline, the code of another checkout (e.g. a worktree of the previous commit) runs
too, in the same alternation, so the ratio before a change and after it are measured side by
side under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

from bench.common import RESULTS_DIR, write_result  # noqa: E402
from bench.datasets import digits, write_npz  # noqa: E402
from bench.models import digits_cnn  # noqa: E402

NAME = "small_model_overhead"
STEPS = 1000
BATCH_SIZE = 32
PRUNING_FREQUENCY = 10
GOAL = 1.05

PRUNED_HPARAMS = {
    "target_sparsity": 0.9,
    "pruning_frequency": PRUNING_FREQUENCY,
    "sparsity_function_end_step": STEPS,
}
# The same job with no mask update ever: the dense baseline runs the very same loop.
DENSE_HPARAMS = {**PRUNED_HPARAMS, "begin_pruning_step": STEPS}
RUNS = {"dense": DENSE_HPARAMS, "pruned": PRUNED_HPARAMS}
BASELINE = "baseline"


def run_trainer(
    model: Path, data: Path, hparams: dict, steps: int, out: Path, code: Path | None = None
) -> dict:
    """One trainer command line: wall and CPU seconds of the process, and its own loop time.

    `code`: the checkout whose trainer runs (default: this one)."""
    training = {"steps": steps, "batch_size": BATCH_SIZE, "seed": 0}
    command = [
        sys.executable,
        "-m",
        "worker.pruning",
        str(model),
        str(data),
        "--hparams",
        json.dumps(hparams),
        "--training",
        json.dumps(training),
        "--out",
        str(out),
    ]
    before = os.times()
    started = time.perf_counter()
    env = None if code is None else {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=code)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:] + done.stdout[-2000:])
        raise RuntimeError(f"the trainer failed (exit {done.returncode})")
    metrics = json.loads((out / "metrics.json").read_text())
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "loop_seconds": metrics["training"]["wall_seconds"],
        "achieved_sparsity": metrics["sparsity"]["achieved"],
    }


def measure(
    repeats: int, steps: int, work: Path, baseline: Path | None = None
) -> dict[str, list[dict]]:
    keras.utils.set_random_seed(0)
    model, data = work / "model.keras", work / "digits.npz"
    digits_cnn(keras).save(model)
    write_npz(digits(), data)
    codes: dict[str, Path | None] = {name: None for name in RUNS}
    if baseline is not None:
        codes.update({f"{BASELINE}_{name}": baseline for name in RUNS})
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    order = list(codes)
    for repeat in range(repeats):
        for name in order if repeat % 2 == 0 else order[::-1]:
            out = work / f"{name}-{repeat}"
            hparams = RUNS[name.removeprefix(f"{BASELINE}_")]
            runs[name].append(run_trainer(model, data, hparams, steps, out, codes[name]))
        print(f"repeat {repeat + 1}/{repeats} done", flush=True)
    return runs


def ratios(runs: dict[str, list[dict]], key: str, prefix: str = "") -> dict[str, float]:
    dense = [r[key] for r in runs[f"{prefix}dense"]]
    pruned = [r[key] for r in runs[f"{prefix}pruned"]]
    paired = [p / d for p, d in zip(pruned, dense, strict=True)]
    return {
        "dense_median": round(statistics.median(dense), 3),
        "pruned_median": round(statistics.median(pruned), 3),
        "ratio_of_medians": round(statistics.median(pruned) / statistics.median(dense), 4),
        "paired_median_ratio": round(statistics.median(paired), 4),
    }


def plot(summary: dict[str, dict[str, float]], path: Path) -> None:
    labels = list(summary)
    figure, axis = plt.subplots(figsize=(9, 4))
    values = [summary[k]["ratio_of_medians"] for k in labels]
    axis.bar(labels, values, color="tab:blue")
    axis.tick_params(axis="x", labelrotation=15)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.axhline(GOAL, color="tab:red", linestyle="--", label=f"goal {GOAL}")
    for x, value in enumerate(values):
        axis.annotate(f"{value:.3f}", (x, value), ha="center", va="bottom")
    axis.set_ylabel("pruned / dense (medians)")
    axis.set_ylim(0.9, max([*values, GOAL]) * 1.08)
    axis.set_title(f"Digits CNN, {STEPS} steps, batch {BATCH_SIZE}, mask update every 10")
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _commit_of(checkout: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    )
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 repeats of 200 steps")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--baseline", type=Path, default=None, help="a checkout whose code runs alongside"
    )
    args = parser.parse_args(argv)
    repeats, steps = (2, 200) if args.quick else (args.repeats or 6, STEPS)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="shears-small-bench-") as work:
        runs = measure(repeats, steps, Path(work), args.baseline)
    load_after = os.getloadavg()
    summary = {
        "wall": ratios(runs, "wall_seconds"),
        "cpu": ratios(runs, "cpu_seconds"),
        "training_loop": ratios(runs, "loop_seconds"),
    }
    if args.baseline is not None:
        before = f"{BASELINE}_"
        summary[f"{BASELINE}_wall"] = ratios(runs, "wall_seconds", before)
        summary[f"{BASELINE}_cpu"] = ratios(runs, "cpu_seconds", before)
        summary[f"{BASELINE}_training_loop"] = ratios(runs, "loop_seconds", before)
    payload = {
        "model": "digits CNN: conv 3x3x32, conv 3x3x64, maxpool, dense 128, dense 10",
        "data": "scikit-learn's 8x8 digits",
        "batch_size": BATCH_SIZE,
        "steps": steps,
        "pruning_frequency": PRUNING_FREQUENCY,
        "target_sparsity": PRUNED_HPARAMS["target_sparsity"],
        "repeats": repeats,
        "quick": args.quick,
        "goal_wall_ratio": GOAL,
        "goal_met": summary["wall"]["ratio_of_medians"] <= GOAL,
        "baseline_commit": None if args.baseline is None else _commit_of(args.baseline),
        "load_average_1min_before": round(load_before[0], 2),
        "load_average_1min_after": round(load_after[0], 2),
        **summary,
        "measured_as": (
            "Each run is one `python -m worker.pruning` process from start to metrics.json "
            "(loading, baseline evaluation, fine-tune, evaluation, export). wall: the "
            "process's wall time; cpu: its user + system CPU seconds; training_loop: the "
            "fine-tune's own wall time from metrics.json. dense: the same job with "
            "begin_pruning_step past the last step, so no mask is ever updated. Runs "
            "alternate, the order flipping each repeat; ratios are pruned over dense, of the "
            "medians and the median of each repeat's pair."
        ),
        "runs": {
            name: [{k: round(v, 4) for k, v in r.items()} for r in rs] for name, rs in runs.items()
        },
    }
    write_result(NAME, payload)
    plot(summary, RESULTS_DIR / f"{NAME}.png")
    for key, values in summary.items():
        print(f"{key}: {values}")
    return payload


if __name__ == "__main__":
    main()
