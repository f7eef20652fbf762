"""Accuracy against sparsity, Shears against tfmot, on scikit-learn's digits (real data, bundled).

A dense CNN is trained once (fixed seed); from its very weights (a .keras file for Shears, the
same arrays in an .npz for tfmot's tf-keras copy) both tools prune to each sparsity under one
schedule (begin, end, frequency, cubic ramp), with the same optimizer, learning rate, batch
size, steps, shuffle seeds and test set. Shears runs with threshold_decay 0, since tfmot
smooths nothing. "dense" is the same fine-tune with target sparsity 0, so both sides of the
comparison got the same training; the trained baseline's own accuracy is reported too.

    python -m bench.quality [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bench.common import RESULTS_DIR, write_result
from bench.datasets import digits, write_npz
from bench.models import digits_cnn
from bench.plots import accuracy_plot, series_by_method
from bench.pruning_runs import (
    DIGITS_BATCH_SIZE,
    DIGITS_DENSE_STEPS,
    DIGITS_LEARNING_RATE,
    DIGITS_SCHEDULE,
    Schedule,
    digits_training,
    held_out_accuracy,
    mean_std,
    run_shears,
    shears_hparams,
    train_dense,
)

BASELINE_SEED = 0


@dataclass(frozen=True)
class Setup:
    sparsities: list[float]
    seeds: list[int]
    dense_steps: int
    schedule: Schedule


FULL = Setup([0.5, 0.75, 0.9, 0.95], [1, 2, 3], DIGITS_DENSE_STEPS["full"], DIGITS_SCHEDULE["full"])
QUICK = Setup([0.5, 0.9], [1], DIGITS_DENSE_STEPS["quick"], DIGITS_SCHEDULE["quick"])


def start_tfmot(spec: dict[str, Any], workdir: Path) -> tuple[subprocess.Popen, Path]:
    """tfmot's runs in a tf-keras process, alongside Shears' (accuracy does not mind sharing)."""
    spec_path, log_path = workdir / "tfmot_spec.json", workdir / "tfmot.log"
    spec_path.write_text(json.dumps(spec))
    with open(log_path, "w") as log:
        command = [sys.executable, "-m", "bench.tfmot_runner", "prune", str(spec_path)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    return process, log_path


def finish_tfmot(process: subprocess.Popen, log_path: Path) -> list[dict[str, Any]]:
    stdout, _ = process.communicate()
    if process.returncode != 0:
        sys.stderr.write(log_path.read_text()[-4000:])
        raise RuntimeError(f"the tfmot runs failed (exit {process.returncode})")
    return json.loads(stdout.strip().splitlines()[-1])["results"]


def shears_runs(
    model_path: Path, data_path: Path, setup: Setup, workdir: Path
) -> list[dict[str, Any]]:
    """Every (sparsity, seed) of `setup` plus the dense control (sparsity 0) per seed."""
    schedule = setup.schedule
    results = []
    for seed in setup.seeds:
        for sparsity in [0.0, *setup.sparsities]:
            out = workdir / f"shears-{sparsity}-{seed}"
            metrics = run_shears(
                model_path,
                data_path,
                shears_hparams(sparsity, schedule),
                digits_training(schedule.steps, seed),
                out,
            )
            shutil.rmtree(out)
            results.append(
                {
                    "sparsity": sparsity,
                    "seed": seed,
                    "accuracy": metrics["pruned"]["accuracy"],
                    "achieved_sparsity": metrics["sparsity"]["achieved"],
                }
            )
            print(f"shears {sparsity:<5} seed {seed}: {metrics['pruned']['accuracy']:.4f}")
    return results


def summarize(method: str, runs: list[dict[str, Any]], sparsity: float) -> dict[str, Any]:
    chosen = [r for r in runs if r["sparsity"] == sparsity]
    accuracies = [r["accuracy"] for r in chosen]
    return {
        "method": method,
        "sparsity": sparsity,
        **mean_std(accuracies),
        "achieved_sparsity": mean_std([r["achieved_sparsity"] for r in chosen])["mean"],
        "accuracies": accuracies,
    }


def goals(results: list[dict[str, Any]], dense: dict[str, float]) -> dict[str, Any]:
    """The issue's goals, measured: Shears within 0.5 points of tfmot everywhere, and within
    1 point of dense at 0.75."""
    by = {(r["method"], r["sparsity"]): r["mean"] for r in results}
    versus_tfmot = [
        {
            "sparsity": sparsity,
            "shears_minus_tfmot_points": round(100 * (by[("shears", sparsity)] - tfmot), 3),
        }
        for (method, sparsity), tfmot in by.items()
        if method == "tfmot"
    ]
    at_075 = by.get(("shears", 0.75))
    loss = None if at_075 is None else round(100 * (dense["mean"] - at_075), 3)
    return {
        "shears_vs_tfmot": versus_tfmot,
        "shears_within_half_point_of_tfmot": all(
            v["shears_minus_tfmot_points"] >= -0.5 for v in versus_tfmot
        ),
        "shears_loss_vs_dense_at_0.75_points": loss,
        "shears_within_one_point_of_dense_at_0.75": None if loss is None else loss <= 1.0,
    }


def plot(results: list[dict[str, Any]], dense: dict[str, float], baseline: float) -> Path:
    lines = series_by_method(results, ("shears", "tfmot"))
    return accuracy_plot(
        RESULTS_DIR / "quality.png",
        "digits CNN: accuracy after pruning (mean ± std over seeds)",
        "target sparsity",
        lines,
        {"dense, same fine-tune": dense["mean"], "dense baseline": baseline},
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 seed, 0.5 and 0.9, fewer steps")
    args = parser.parse_args(argv)
    setup = QUICK if args.quick else FULL
    schedule = setup.schedule
    arrays = digits()
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as scratch:
        workdir = Path(scratch)
        data_path = write_npz(arrays, workdir / "digits.npz")
        keras.utils.set_random_seed(BASELINE_SEED)
        model = digits_cnn(keras)
        train_dense(model, arrays, setup.dense_steps, BASELINE_SEED)
        baseline = held_out_accuracy(model, arrays)
        print(f"dense baseline: {baseline:.4f}")
        model.save(workdir / "dense.keras")
        np.savez(workdir / "dense_weights.npz", *model.get_weights())
        runs = [{"sparsity": s, "seed": seed} for seed in setup.seeds for s in setup.sparsities]
        tfmot = start_tfmot(
            {
                "weights": str(workdir / "dense_weights.npz"),
                "data": str(data_path),
                "schedule": schedule.to_json(),
                "training": {
                    "learning_rate": DIGITS_LEARNING_RATE,
                    "batch_size": DIGITS_BATCH_SIZE,
                    "steps": schedule.steps,
                },
                "runs": runs,
            },
            workdir,
        )
        shears = shears_runs(workdir / "dense.keras", data_path, setup, workdir)
        tfmot_results = finish_tfmot(*tfmot)
    dense = mean_std([r["accuracy"] for r in shears if r["sparsity"] == 0.0])
    results = [
        summarize(method, method_runs, sparsity)
        for sparsity in setup.sparsities
        for method, method_runs in (("shears", shears), ("tfmot", tfmot_results))
    ]
    payload = {
        "data": f"scikit-learn digits, 8x8x1, {len(arrays['y_train'])} train / "
        f"{len(arrays['y_val'])} test examples",
        "model": "digits CNN: conv 3x3x32, conv 3x3x64, maxpool 2, dense 128, dense 10",
        "params": model.count_params(),
        "quick": args.quick,
        "baseline": {"accuracy": baseline, "steps": setup.dense_steps},
        "dense": dense,
        "dense_is": "the baseline fine-tuned by Shears' engine with target sparsity 0 under the "
        "same schedule, steps and seeds as the pruned models",
        "schedule": schedule.to_json(),
        "optimizer": "adam",
        "learning_rate": DIGITS_LEARNING_RATE,
        "batch_size": DIGITS_BATCH_SIZE,
        "seeds": setup.seeds,
        "sparsity_exponent": 3,
        "shears_threshold_decay": 0.0,
        "results": results,
        "goals": goals(results, dense),
    }
    plot(results, dense, baseline)
    write_result("quality", payload)
    print(json.dumps(payload["goals"], indent=2))
    return payload


if __name__ == "__main__":
    main()
