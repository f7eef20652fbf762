"""Does pruning pay off? The TFLite exports of Shears' jobs (PRUNING.md section 8), float and
int8, pruned against dense: file size, single-example latency (one thread, dense and pruned
interleaved in one process) and accuracy of each file, run by the TFLite interpreter.

Two models trained on digits: a Dense-heavy MLP (three Dense layers of 1024 units) and the digits
CNN; pruned to 0.5, 0.75 and 0.9, unstructured and in the blocks TFLite runs sparse (1x4 input
blocks float, 1x16 int8). Every number comes from the job's own metrics.json.

    python -m bench.payoff [--quick]
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
from bench.models import CLASSES, DIGITS_SHAPE, digits_cnn
from bench.payoff_plot import payoff_plot
from bench.pruning_runs import (
    DIGITS_DENSE_STEPS,
    DIGITS_SCHEDULE,
    Schedule,
    digits_training,
    run_shears,
    shears_hparams,
    train_dense,
)

SPARSITIES = (0.5, 0.75, 0.9)
# Keras (in, out) kernels: block_height runs along the input axis, TFLite's 1xN input blocks.
BLOCKS = {"1x4": (4, 1), "unstructured": (1, 1), "1x16": (16, 1)}
EXPORTS = ["tflite", "tflite_int8"]
DENSE_HEAVY_UNITS = 1024
SEED = 1
GOAL_MODEL, GOAL_SPARSITY, GOAL_BLOCKS = "Dense-heavy MLP", 0.9, "1x4"
# 18 jobs: the quick run prunes in half the steps of the other benchmarks' quick schedule.
SCHEDULES = {
    "full": DIGITS_SCHEDULE["full"],
    "quick": Schedule(begin=0, end=100, frequency=10, steps=150),
}
GOALS = {"latency_ratio": 0.25, "size_ratio": 0.15, "float_points": 0.1, "int8_points": 1.0}


def dense_heavy(k: Any) -> Any:
    """Three hidden Dense layers of 1024 units: FULLY_CONNECTED is what TFLite runs sparse."""
    layers = k.layers
    hidden = [
        layers.Dense(DENSE_HEAVY_UNITS, activation="relu", name=f"dense{i}") for i in (1, 2, 3)
    ]
    return k.Sequential(
        [k.Input(DIGITS_SHAPE, name="images"), layers.Flatten(name="flatten"), *hidden]
        + [layers.Dense(CLASSES, name="logits")],
        name="dense_heavy",
    )


def export_row(entry: dict[str, Any], savedmodel_accuracy: float) -> dict[str, Any]:
    if "error" in entry:
        return {"error": entry["error"]}
    latency = entry["latency_ms"]
    return {
        **{k: entry[k] for k in ("bytes", "gzip_bytes", "dense_bytes", "dense_gzip_bytes")},
        "size_ratio": round(entry["bytes"] / entry["dense_bytes"], 4),
        "gzip_ratio": round(entry["gzip_bytes"] / entry["dense_gzip_bytes"], 4),
        "latency_ms": latency,
        "latency_ratio": round(latency["pruned"] / latency["dense"], 4),
        "accuracy": entry["accuracy"],
        "dense_accuracy": entry["dense_accuracy"],
        "points_from_savedmodel": round(100 * (entry["accuracy"] - savedmodel_accuracy), 3),
        "sparse_tensors": entry["sparse_tensors"],
        "dense_tensors": entry["dense_tensors"],
    }


def prune_model(
    name: str, model_path: Path, data_path: Path, mode: str, workdir: Path, rows: list
) -> None:
    """Appends one row per job to `rows`, saving the results so far after each."""
    schedule = SCHEDULES[mode]
    for blocks, (height, width) in BLOCKS.items():
        for sparsity in SPARSITIES:
            hparams = {
                **shears_hparams(sparsity, schedule),
                "block_height": height,
                "block_width": width,
            }
            out = workdir / f"{name}-{blocks}-{sparsity}"
            metrics = run_shears(
                model_path,
                data_path,
                hparams,
                digits_training(schedule.steps, SEED),
                out,
                exports=EXPORTS,
            )
            shutil.rmtree(out)
            accuracy = metrics["pruned"]["accuracy"]
            row = {
                "model": name,
                "blocks": blocks,
                "sparsity": sparsity,
                "achieved_sparsity": metrics["sparsity"]["achieved"],
                "savedmodel_accuracy": accuracy,
                "baseline_accuracy": metrics["baseline"]["accuracy"],
                "exports": {e: export_row(metrics["exports"][e], accuracy) for e in EXPORTS},
            }
            rows.append(row)
            save(rows, mode)
            flt = row["exports"]["tflite"]
            print(
                f"{name} {blocks} {sparsity}: float size {flt.get('size_ratio')} "
                f"latency {flt.get('latency_ratio')} accuracy {flt.get('accuracy')}",
                flush=True,
            )


def goal_check(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    goal = (GOAL_MODEL, GOAL_SPARSITY, GOAL_BLOCKS)
    found = [r for r in rows if (r["model"], r["sparsity"], r["blocks"]) == goal]
    if not found:
        return None
    row = found[0]
    flt, int8 = row["exports"]["tflite"], row["exports"]["tflite_int8"]
    measured = {
        "latency_ratio": flt.get("latency_ratio"),
        "size_ratio": flt.get("size_ratio"),
        "float_points": abs(flt.get("points_from_savedmodel", float("inf"))),
        "int8_points": abs(int8.get("points_from_savedmodel", float("inf"))),
    }
    return {
        "row": f"{GOAL_MODEL}, {GOAL_SPARSITY} in {GOAL_BLOCKS} blocks",
        "limits": GOALS,
        "measured": measured,
        "met": {k: measured[k] is not None and measured[k] <= v for k, v in GOALS.items()},
    }


def save(rows: list[dict[str, Any]], mode: str) -> None:
    """The results so far: a run stopped early still leaves what it measured, marked so."""
    payload = {
        "what": "TFLite exports of each job (float: EXPERIMENTAL_SPARSITY; int8: full-integer, "
        "calibrated on 300 training examples), pruned against the same export of the dense "
        "upload; latency: median ms of single-example invokes, 1 thread, interleaved",
        "quick": mode == "quick",
        "complete": len(rows) == 2 * len(BLOCKS) * len(SPARSITIES),
        "schedule": SCHEDULES[mode].to_json(),
        "goal": goal_check(rows),
        "rows": rows,
    }
    payoff_plot(rows, RESULTS_DIR / "payoff.png")
    write_result("payoff", payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer training steps")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    arrays = digits()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-payoff-") as scratch:
        workdir = Path(scratch)
        data_path = write_npz(arrays, workdir / "digits.npz")
        for name, build in (("Dense-heavy MLP", dense_heavy), ("digits CNN", digits_cnn)):
            keras.utils.set_random_seed(SEED)
            model = build(keras)
            train_dense(model, arrays, DIGITS_DENSE_STEPS[mode], SEED)
            model_path = workdir / f"{name.split()[0]}.keras"
            model.save(model_path)
            prune_model(name, model_path, data_path, mode, workdir, rows)


if __name__ == "__main__":
    main()
