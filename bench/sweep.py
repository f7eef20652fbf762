"""The seed's table for the digits CNN, through the whole service: one sweep (one pruning job per
target sparsity, run by a real worker), its table, baseline and recommendation, and the
report.png the API draws from them.

    python -m bench.sweep [--quick]

Writes bench/results/sweep.json and bench/results/sweep.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import keras

from bench.common import RESULTS_DIR, write_result
from bench.datasets import digits, write_npz
from bench.models import digits_cnn
from bench.service_client import upload
from bench.service_harness import running_service

FULL = {"sparsities": [0.5, 0.75, 0.9, 0.95, 0.98], "steps": 400, "pretrain_epochs": 15}
# Few steps, few mask updates: no threshold smoothing, or the target is far from reached.
QUICK = {
    "sparsities": [0.5, 0.9, 0.95],
    "steps": 60,
    "pretrain_epochs": 5,
    "hparams": {"pruning_frequency": 5, "threshold_decay": 0.0},
}
MAX_ACCURACY_DROP = 1.0
POLL_SECONDS = 1.0
TIMEOUT_SECONDS = 3600


def trained_digits_cnn(folder: Path, epochs: int) -> tuple[Path, Path]:
    """The digits CNN trained dense (the model a user would bring), and the data as .npz."""
    data = digits()
    keras.utils.set_random_seed(0)
    model = digits_cnn(keras)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(data["x_train"], data["y_train"], epochs=epochs, batch_size=32, verbose=0)
    model.save(folder / "digits_cnn.keras")
    return folder / "digits_cnn.keras", write_npz(data, folder / "digits.npz")


def run(size: dict[str, Any]) -> dict[str, Any]:
    with running_service() as service, service.client() as client:
        model_path, data_path = trained_digits_cnn(service.root, size["pretrain_epochs"])
        model_id = upload(client, "models", model_path)["id"]
        dataset_id = upload(client, "datasets", data_path)["id"]
        hparams = {
            "pruning_frequency": 10,
            "sparsity_function_end_step": size["steps"] * 2 // 3,
            **size.get("hparams", {}),
        }
        training = {"steps": size["steps"], "batch_size": 32, "learning_rate": 5e-4}
        body = {
            "model_id": model_id,
            "dataset_id": dataset_id,
            "name": "digits CNN",
            "sparsities": size["sparsities"],
            "hparams": hparams,
            "training": training,
            "max_accuracy_drop": MAX_ACCURACY_DROP,
        }
        started = time.monotonic()
        response = client.post("/v1/sweeps", json=body)
        response.raise_for_status()
        sweep_id = response.json()["id"]
        while True:
            sweep = client.get(f"/v1/sweeps/{sweep_id}").json()
            if sweep["status"] not in ("queued", "running"):
                break
            if time.monotonic() - started > TIMEOUT_SECONDS:
                raise RuntimeError(f"sweep {sweep_id} still {sweep['status']}")
            time.sleep(POLL_SECONDS)
        wall = time.monotonic() - started
        png = client.get(f"/v1/sweeps/{sweep_id}/report.png")
        png.raise_for_status()
        (RESULTS_DIR / "sweep.png").write_bytes(png.content)
    return {
        "model": "digits CNN (bench.models.digits_cnn), trained dense for "
        f"{size['pretrain_epochs']} epochs",
        "hparams": hparams,
        "training": training,
        "max_accuracy_drop": MAX_ACCURACY_DROP,
        "status": sweep["status"],
        "counts": sweep["counts"],
        "baseline": sweep["baseline"],
        "table": sweep["table"],
        "recommended": sweep["recommended"],
        "wall_seconds": round(wall, 1),
        "png": "sweep.png",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="three sparsities, 60 steps each")
    args = parser.parse_args(argv)
    result = run(QUICK if args.quick else FULL)
    print(write_result("sweep", {"quick": args.quick, **result}))
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
