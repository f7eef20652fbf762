"""Channel pruning and distillation (PRUNING.md sections 9 and 10).

1. Speed: the seed's CIFAR-10 net (random weights and images: speed does not depend on them)
   with 25/50/75 % of its channels removed, rebuilt: parameter, FLOP and latency ratios
   (median, batch 1 and 32, dense and pruned alternated in this process).
2. Accuracy on digits, for the CIFAR-10 net at the digits' size and a small residual net with
   BatchNorm: channel pruning against weight pruning at the same nonzero count and against a
   dense model of the pruned shape trained from the start for as many steps.
3. Distillation: Shears with and without it at weight sparsity 0.9/0.95/0.98 on the digits
   CNN, three seeds, against tfmot on the same schedule.

    python -m bench.channels [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from bench.channel_runs import accuracy_row, prune_channels_now, residual_digits_net, speed_row
from bench.common import RESULTS_DIR, write_result
from bench.datasets import digits, write_npz
from bench.models import cifar_net, digits_cnn
from bench.plots import accuracy_plot, series_by_method
from bench.pruning_runs import (
    DIGITS_SCHEDULE,
    digits_training,
    held_out_accuracy,
    mean_std,
    run_shears,
    shears_hparams,
    train_dense,
)
from bench.quality import finish_tfmot, start_tfmot

FRACTIONS = [0.25, 0.5, 0.75]
DISTILL_SPARSITIES = [0.9, 0.95, 0.98]
DISTILLATION = {"alpha": 0.7, "temperature": 4.0}
SEEDS = [1, 2, 3]
SETUPS = {
    "full": {"dense_steps": 1500, "latency_runs": 50, "accuracy_seeds": SEEDS},
    "quick": {"dense_steps": 600, "latency_runs": 20, "accuracy_seeds": [1]},
}


def digits_cifar_net() -> keras.Model:
    """The CIFAR-10 net's layers on the digits' 8x8x1 images."""
    config = cifar_net(keras).get_config()
    config["layers"][0]["config"]["batch_shape"] = [None, 8, 8, 1]
    for entry in config["layers"]:
        entry.pop("build_config", None)
    return keras.Sequential.from_config(config)


def speed(runs: int) -> list[dict[str, Any]]:
    keras.utils.set_random_seed(0)
    dense = cifar_net(keras)
    return [speed_row(dense, prune_channels_now(dense, f), f, runs) for f in FRACTIONS]


def trained(build, arrays, steps: int, path: Path) -> tuple[Path, float]:
    keras.utils.set_random_seed(0)
    model = build()
    train_dense(model, arrays, steps, 0)
    model.save(path)
    return path, held_out_accuracy(model, arrays)


MODELS = {"cifar_net_on_digits": digits_cifar_net, "residual_bn": residual_digits_net}
METHODS = {"shears": {}, "shears_distilled": {"distillation": DISTILLATION}}


def accuracy(arrays, data_path: Path, setup: dict, schedule, workdir: Path) -> dict[str, Any]:
    out = {}
    steps = setup["dense_steps"]
    for name, build in MODELS.items():
        path, baseline = trained(build, arrays, steps, workdir / f"{name}.keras")
        rows = []
        for fraction in FRACTIONS:
            for seed in setup["accuracy_seeds"]:
                row = accuracy_row(
                    path, data_path, arrays, fraction, schedule, seed, steps, workdir
                )
                print(name, json.dumps(row))
                rows.append(row)
        out[name] = {"dense_accuracy": baseline, "runs": rows}
    return out


def _digits_cnn() -> keras.Model:
    return digits_cnn(keras)


def distillation(arrays, data_path: Path, setup: dict, schedule, workdir: Path) -> list[dict]:
    path, _ = trained(_digits_cnn, arrays, setup["dense_steps"], workdir / "cnn.keras")
    weights = workdir / "cnn_weights.npz"
    np.savez(weights, *keras.models.load_model(path).get_weights())
    spec = {
        "weights": str(weights),
        "data": str(data_path),
        "schedule": schedule.to_json(),
        "training": {"learning_rate": 1e-3, "batch_size": 32, "steps": schedule.steps},
        "runs": [{"sparsity": s, "seed": seed} for seed in SEEDS for s in DISTILL_SPARSITIES],
    }
    tfmot = start_tfmot(spec, workdir)
    runs = []
    for seed in SEEDS:
        for sparsity in DISTILL_SPARSITIES:
            hparams = shears_hparams(sparsity, schedule)
            for method, extra in METHODS.items():
                out = workdir / f"{method}-{sparsity}-{seed}"
                training = {**digits_training(schedule.steps, seed), **extra}
                metrics = run_shears(path, data_path, hparams, training, out)
                shutil.rmtree(out)
                accuracy = metrics["pruned"]["accuracy"]
                runs.append(
                    {"method": method, "sparsity": sparsity, "seed": seed, "accuracy": accuracy}
                )
                print(json.dumps(runs[-1]))
    runs += [{"method": "tfmot", **r} for r in finish_tfmot(*tfmot)]
    summary = []
    for sparsity in DISTILL_SPARSITIES:
        for method in (*METHODS, "tfmot"):
            chosen = [
                r["accuracy"] for r in runs if (r["method"], r["sparsity"]) == (method, sparsity)
            ]
            summary.append({"method": method, "sparsity": sparsity, **mean_std(chosen)})
            summary[-1]["accuracies"] = chosen
    return summary


def goals(speed_rows: list[dict], distilled: list[dict]) -> dict[str, Any]:
    """The issue's goals, measured."""
    half = next(r for r in speed_rows if r["channels_removed"] == 0.5)
    by = {(r["method"], r["sparsity"]): r["mean"] for r in distilled}
    margins = {
        str(s): round(100 * (by[("shears_distilled", s)] - by[("tfmot", s)]), 3)
        for s in DISTILL_SPARSITIES
    }
    return {
        "latency_ratio_batch32_at_half_channels": half["latency_ratio_batch32"],
        "latency_at_most_0.55_of_dense": half["latency_ratio_batch32"] <= 0.55,
        "distilled_minus_tfmot_points": margins,
        "distilled_half_point_above_tfmot_at_0.95_and_0.98": all(
            margins[str(s)] >= 0.5 for s in (0.95, 0.98)
        ),
    }


def plot(distilled: list[dict]) -> Path:
    lines = series_by_method(distilled, ("shears", "shears_distilled", "tfmot"))
    return accuracy_plot(
        RESULTS_DIR / "channels.png",
        "digits CNN at high sparsity: distillation (mean ± std, 3 seeds)",
        "target sparsity",
        lines,
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer steps, one accuracy seed")
    args = parser.parse_args(argv)
    size = "quick" if args.quick else "full"
    setup, schedule = SETUPS[size], DIGITS_SCHEDULE[size]
    arrays = digits()
    speed_rows = speed(setup["latency_runs"])
    print(json.dumps(speed_rows, indent=1))
    with tempfile.TemporaryDirectory(prefix="bench-channels-") as scratch:
        workdir = Path(scratch)
        data_path = write_npz(arrays, workdir / "digits.npz")
        distilled = distillation(arrays, data_path, setup, schedule, workdir)
        accuracies = accuracy(arrays, data_path, setup, schedule, workdir)
    payload = {
        "quick": args.quick,
        "speed_model": "the seed's CIFAR-10 net (conv 5x5x64, pool, conv 5x5x64, pool, dense 384, "
        "dense 192, dense 10), 32x32x3, random weights and images",
        "speed": speed_rows,
        "accuracy_data": f"scikit-learn digits, {len(arrays['y_train'])} train / "
        f"{len(arrays['y_val'])} test",
        "schedule": schedule.to_json(),
        "dense_steps": setup["dense_steps"],
        "accuracy": accuracies,
        "distillation": {"settings": DISTILLATION, "seeds": SEEDS, "results": distilled},
        "goals": goals(speed_rows, distilled),
    }
    plot(distilled)
    write_result("channels", payload)
    print(json.dumps(payload["goals"], indent=2))
    return payload


if __name__ == "__main__":
    main()
