"""What the zeros buy on disk: the SavedModel Shears returns, raw and gzip-compressed, against
the dense one, for the digits CNN (trained on digits, then pruned) and the seed's CIFAR-10 net
(pruned in a few steps on random images: its size does not depend on what it learned), at
sparsity 0.5, 0.75, 0.9 and 0.95. Every number comes from the job's own metrics.json.

    python -m bench.size [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

from bench.common import write_result
from bench.datasets import digits, synthetic_cifar, write_npz
from bench.models import (
    CIFAR_BATCH_SIZE,
    CIFAR_EXAMPLES,
    CIFAR_LEARNING_RATE,
    CIFAR_SEED,
    cifar_net,
    digits_cnn,
)
from bench.pruning_runs import (
    DIGITS_DENSE_STEPS,
    DIGITS_SCHEDULE,
    Schedule,
    digits_training,
    run_shears,
    shears_hparams,
    train_dense,
)

SPARSITIES = (0.5, 0.75, 0.9, 0.95)
SEED = 1
# Enough steps for the ramp to reach its target; accuracy on random images means nothing.
CIFAR_SCHEDULE = Schedule(begin=0, end=20, frequency=10, steps=21)


def cifar_training(schedule: Schedule) -> dict[str, Any]:
    return {
        "optimizer": "adam",
        "learning_rate": CIFAR_LEARNING_RATE,
        "batch_size": CIFAR_BATCH_SIZE,
        "steps": schedule.steps,
        "seed": CIFAR_SEED,
        "from_logits": True,
    }


def size_row(name: str, sparsity: float, metrics: dict[str, Any]) -> dict[str, Any]:
    size, params = metrics["size"], metrics["params"]
    row = {
        "model": name,
        "sparsity": sparsity,
        "achieved_sparsity": metrics["sparsity"]["achieved"],
        "params": params["total"],
        "nonzero_params": params["nonzero"],
        **{key: size[key] for key in sorted(size)},
        # Both models are float32: their weights' bytes, which the SavedModel stores once.
        "weight_bytes": 4 * params["total"],
        "raw_ratio": round(size["pruned_bytes"] / size["dense_bytes"], 4),
        "upload_ratio": round(size["pruned_bytes"] / size["upload_bytes"], 4),
        "gzip_ratio": round(size["pruned_gzip_bytes"] / size["dense_gzip_bytes"], 4),
    }
    if "accuracy" in metrics["pruned"]:
        row["accuracy"] = metrics["pruned"]["accuracy"]
    return row


def prune_all(
    name: str,
    model_path: Path,
    data_path: Path,
    schedule: Schedule,
    training: dict[str, Any],
    workdir: Path,
) -> list[dict[str, Any]]:
    rows = []
    for sparsity in SPARSITIES:
        out = workdir / f"{name}-{sparsity}"
        hparams = shears_hparams(sparsity, schedule)
        metrics = run_shears(model_path, data_path, hparams, training, out)
        shutil.rmtree(out)
        rows.append(size_row(name, sparsity, metrics))
        print(
            f"{name} {sparsity}: gzip {rows[-1]['pruned_gzip_bytes']:,} of "
            f"{rows[-1]['dense_gzip_bytes']:,} bytes ({rows[-1]['gzip_ratio']})"
        )
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="digits trained fewer steps")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="bench-size-") as scratch:
        workdir = Path(scratch)
        arrays = digits()
        keras.utils.set_random_seed(SEED)
        model = digits_cnn(keras)
        train_dense(model, arrays, DIGITS_DENSE_STEPS[mode], SEED)
        model.save(workdir / "digits.keras")
        schedule = DIGITS_SCHEDULE[mode]
        rows = prune_all(
            "digits CNN",
            workdir / "digits.keras",
            write_npz(arrays, workdir / "digits.npz"),
            schedule,
            digits_training(schedule.steps, SEED),
            workdir,
        )
        keras.utils.set_random_seed(CIFAR_SEED)
        cifar_net(keras).save(workdir / "cifar.keras")
        rows += prune_all(
            "CIFAR-10 net",
            workdir / "cifar.keras",
            write_npz(synthetic_cifar(CIFAR_EXAMPLES, CIFAR_SEED), workdir / "cifar.npz"),
            CIFAR_SCHEDULE,
            cifar_training(CIFAR_SCHEDULE),
            workdir,
        )
    payload = {
        "what": "SavedModel directory of the job's output (pruned) and of the uploaded model "
        "exported unchanged (dense): raw bytes on disk and bytes of its tar.gz (gzip level 6); "
        "upload_bytes: the uploaded .keras file; weight_bytes: 4 bytes per float32 parameter",
        "quick": args.quick,
        "digits_schedule": schedule.to_json(),
        "cifar_schedule": CIFAR_SCHEDULE.to_json(),
        "models": rows,
    }
    write_result("size", payload)
    return payload


if __name__ == "__main__":
    main()
