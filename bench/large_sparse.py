"""Large-sparse against small-dense (Zhu & Gupta 2017's main result) on scikit-learn's digits.

The digits CNN at width 1 ("large") is trained dense, then pruned by Shears to 75% and 90%.
For each, a narrower copy of the same CNN (every layer scaled by one factor) is chosen with
about as many parameters as the pruned model has nonzero ones ("small"), trained dense with
the same budget: the same dense steps, then the same fine-tune through Shears' engine with
target sparsity 0. The paper's claim: at equal nonzero parameters, large-sparse is more
accurate than small-dense.

    python -m bench.large_sparse [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

from bench.common import RESULTS_DIR, write_result
from bench.datasets import digits, write_npz
from bench.models import digits_cnn, digits_params
from bench.plots import Series, accuracy_plot
from bench.pruning_runs import (
    DIGITS_DENSE_STEPS,
    DIGITS_SCHEDULE,
    Schedule,
    digits_training,
    held_out_accuracy,
    mean_std,
    run_shears,
    shears_hparams,
    train_dense,
)

LARGE_WIDTH = 1.0
SPARSITIES = (0.75, 0.9)


def matching_width(nonzero: int) -> float:
    """The width (to 1/1000) whose digits CNN has the parameter count closest to `nonzero`."""
    widths = [w / 1000 for w in range(20, 1001)]
    return min(widths, key=lambda w: abs(digits_params(w) - nonzero))


class Trainer:
    """Dense training then one Shears fine-tune, per (width, seed); pruned or not."""

    def __init__(self, arrays: dict[str, Any], workdir: Path, mode: str) -> None:
        self.arrays, self.workdir = arrays, workdir
        self.data_path = write_npz(arrays, workdir / "digits.npz")
        self.dense_steps, self.schedule = DIGITS_DENSE_STEPS[mode], DIGITS_SCHEDULE[mode]

    def dense_model(self, width: float, seed: int) -> Path:
        keras.utils.set_random_seed(seed)
        model = digits_cnn(keras, width)
        train_dense(model, self.arrays, self.dense_steps, seed)
        path = self.workdir / f"dense-{width}-{seed}.keras"
        model.save(path)
        print(f"width {width} seed {seed}: dense {held_out_accuracy(model, self.arrays):.4f}")
        return path

    def fine_tune(self, model_path: Path, sparsity: float, seed: int) -> dict[str, Any]:
        """{"accuracy", "nonzero_params"} after Shears' fine-tune to `sparsity` (0: dense)."""
        out = self.workdir / f"run-{model_path.stem}-{sparsity}"
        metrics = run_shears(
            model_path,
            self.data_path,
            shears_hparams(sparsity, self.schedule),
            digits_training(self.schedule.steps, seed),
            out,
        )
        shutil.rmtree(out)
        return {
            "accuracy": metrics["pruned"]["accuracy"],
            "nonzero_params": metrics["params"]["nonzero"],
        }


def row(model: str, width: float, sparsity: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    accuracies = [r["accuracy"] for r in runs]
    return {
        "model": model,
        "width": width,
        "params": digits_params(width),
        "sparsity": sparsity,
        "nonzero_params": max(r["nonzero_params"] for r in runs),
        **mean_std(accuracies),
        "accuracies": accuracies,
    }


def comparison(large: dict[str, Any], small: dict[str, Any]) -> dict[str, Any]:
    """A difference counts as clear when larger than the two seed spreads together (unknown,
    None, with a single seed)."""
    difference = 100 * (large["mean"] - small["mean"])
    noise = 100 * (large["std"] + small["std"])
    several_seeds = len(large["accuracies"]) > 1
    return {
        "sparsity": large["sparsity"],
        "large_sparse_nonzero": large["nonzero_params"],
        "small_dense_params": small["nonzero_params"],
        "large_sparse_accuracy": large["mean"],
        "small_dense_accuracy": small["mean"],
        "large_minus_small_points": round(difference, 3),
        "seed_spread_points": round(noise, 3),
        "clear": abs(difference) > noise if several_seeds else None,
    }


NOISE_WORDS = {
    True: "beyond the seeds' spread",
    False: "within the seeds' spread",
    None: "one seed",
}


def conclusion(comparisons: list[dict[str, Any]], seeds: int) -> str:
    parts = [
        f"at {c['sparsity']:.0%}: large-sparse {100 * c['large_sparse_accuracy']:.2f}% vs "
        f"small-dense {100 * c['small_dense_accuracy']:.2f}% "
        f"({c['large_minus_small_points']:+.2f} points, {NOISE_WORDS[c['clear']]})"
        for c in comparisons
    ]
    wins = [c["large_minus_small_points"] > 0 for c in comparisons]
    clear = [c["clear"] is not False for c in comparisons]  # one seed: taken at face value
    clear_wins = [w and c for w, c in zip(wins, clear, strict=True)]
    clear_losses = [not w and c for w, c in zip(wins, clear, strict=True)]
    if all(clear_wins):
        verdict = "The paper's conclusion holds here"
    elif any(clear_losses) and not any(clear_wins):
        verdict = "The paper's conclusion does not hold here"
    elif any(clear_wins):
        verdict = "The paper's conclusion holds here only in part"
    elif all(wins):
        verdict = "The paper's conclusion holds here only weakly (not beyond the seeds' spread)"
    else:
        verdict = (
            "The paper's conclusion is neither confirmed nor contradicted here: no difference "
            "goes beyond the seeds' spread"
        )
    return f"{verdict}, over {seeds} seed(s): " + "; ".join(parts) + "."


def plot(rows: list[dict[str, Any]]) -> Path:
    def series(label: str, chosen: list[dict[str, Any]]) -> Series:
        chosen = sorted(chosen, key=lambda r: r["nonzero_params"])
        return Series(
            label,
            [r["nonzero_params"] for r in chosen],
            [r["mean"] for r in chosen],
            [r["std"] for r in chosen],
        )

    large = [r for r in rows if r["width"] == LARGE_WIDTH]
    small = [r for r in rows if r["sparsity"] == 0.0]
    return accuracy_plot(
        RESULTS_DIR / "large_sparse.png",
        "digits: large-sparse vs small-dense at equal nonzero parameters",
        "nonzero parameters",
        [series("large, pruned (Shears)", large), series("smaller, dense", small)],
        log_x=True,
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 seed, fewer steps")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    seeds = [1] if args.quick else [1, 2, 3]
    arrays = digits()
    with tempfile.TemporaryDirectory(prefix="bench-large-sparse-") as scratch:
        trainer = Trainer(arrays, Path(scratch), mode)
        large: dict[float, list[dict[str, Any]]] = {s: [] for s in (0.0, *SPARSITIES)}
        for seed in seeds:
            dense_path = trainer.dense_model(LARGE_WIDTH, seed)
            for sparsity in large:
                large[sparsity].append(trainer.fine_tune(dense_path, sparsity, seed))
        widths = {s: matching_width(large[s][0]["nonzero_params"]) for s in SPARSITIES}
        small = {
            s: [
                trainer.fine_tune(trainer.dense_model(widths[s], seed), 0.0, seed) for seed in seeds
            ]
            for s in SPARSITIES
        }
    rows = [row("large", LARGE_WIDTH, s, runs) for s, runs in large.items()]
    small_rows = [row("small", widths[s], 0.0, small[s]) for s in SPARSITIES]
    comparisons = [
        comparison(next(r for r in rows if r["sparsity"] == s), small_row)
        for s, small_row in zip(SPARSITIES, small_rows, strict=True)
    ]
    schedule: Schedule = trainer.schedule
    payload = {
        "data": "scikit-learn digits (8x8x1), the same train/test split as quality.json",
        "model": "digits CNN (conv 3x3x32w, conv 3x3x64w, maxpool 2, dense 128w, dense 10) at "
        "width w",
        "budget": {"dense_steps": trainer.dense_steps, "fine_tune": schedule.to_json()},
        "seeds": seeds,
        "quick": args.quick,
        "results": rows + small_rows,
        "comparisons": comparisons,
        "conclusion": conclusion(comparisons, len(seeds)),
    }
    plot(rows + small_rows)
    write_result("large_sparse", payload)
    print(payload["conclusion"])
    return payload


if __name__ == "__main__":
    main()
