"""Prune a small digits classifier with Shears, end to end, in a few minutes on a laptop.

Start the service in another terminal (`make run`), then run `make demo`, or
`.venv/bin/python examples/quickstart.py`. It trains a Keras MLP on scikit-learn's 8x8 digits,
exports it as a SavedModel, uploads model and data through the Python client, prunes to 80%
sparsity while fine-tuning, follows the job live, prints the before/after tables, and finally
downloads the pruned SavedModel and checks it with plain `tf.saved_model.load`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from shears_client import ShearsClient, ShearsError, watch_job
from shears_client.render import metrics_tables, training_line

console = Console()


def digits_split() -> dict[str, np.ndarray]:
    digits = load_digits()
    x = (digits.images.reshape(len(digits.images), 64) / 16.0).astype("float32")
    y = digits.target.astype("int64")
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0
    )
    return {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}


def train_dense_model(data: dict[str, np.ndarray], epochs: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(64,), name="pixels"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data["x_train"], data["y_train"], epochs=epochs, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(data["x_val"], data["y_val"], verbose=0)
    console.print(f"trained the dense model: validation accuracy {accuracy:.1%}")
    return model


def pruning_request(sparsity: float, steps: int) -> tuple[dict, dict]:
    # The ramp ends at 60% of the steps, so the rest fine-tunes at the target sparsity;
    # threshold_decay 0 makes every mask update reach its scheduled sparsity at once.
    hparams = {
        "target_sparsity": sparsity,
        "begin_pruning_step": 0,
        "sparsity_function_begin_step": 0,
        "sparsity_function_end_step": int(steps * 0.6),
        "pruning_frequency": 10,
        "threshold_decay": 0.0,
    }
    training = {
        "loss": "sparse_categorical_crossentropy",
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "batch_size": 32,
        "steps": steps,
    }
    return hparams, training


def check_pruned_saved_model(path: Path, data: dict[str, np.ndarray]) -> None:
    """The download is an ordinary SavedModel: no Shears code is needed to use it."""
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    input_name = next(iter(serve.structured_input_signature[1]))
    outputs = serve(**{input_name: tf.constant(data["x_val"])})
    probabilities = next(iter(outputs.values())).numpy()
    accuracy = float(np.mean(probabilities.argmax(axis=1) == data["y_val"]))
    kernels = [v.numpy() for v in serve.variables if len(v.shape) >= 2]
    zeros = sum(int((k == 0).sum()) for k in kernels) / sum(k.size for k in kernels)
    console.print(
        f"reloaded the pruned SavedModel with tf.saved_model.load: validation accuracy "
        f"{accuracy:.1%}, {zeros:.1%} of its kernel weights are exactly zero"
    )


def run(workdir: Path, sparsity: float, steps: int) -> int:
    data = digits_split()
    model = train_dense_model(data, epochs=15)
    model.export(str(workdir / "digits_mlp"), verbose=False)
    # The dataset format Shears takes (PRUNING.md section 7); x_val/y_val are optional.
    np.savez(
        workdir / "digits.npz",
        x_train=data["x_train"],
        y_train=data["y_train"],
        x_val=data["x_val"],
        y_val=data["y_val"],
    )

    with ShearsClient.from_env() as client:
        uploaded = client.upload_model(workdir / "digits_mlp", name="digits-mlp")
        console.print(f"uploaded model {uploaded['id']} ({uploaded.get('params_total')} params)")
        dataset = client.upload_dataset(workdir / "digits.npz", name="digits")
        console.print(f"uploaded dataset {dataset['id']}")
        hparams, training = pruning_request(sparsity, steps)
        job = client.submit_job(uploaded["id"], dataset["id"], hparams, training, name="quickstart")
        console.print(f"submitted job {job['id']}; watching it (Ctrl-C stops watching only)")
        result = watch_job(client, job["id"], console)
        if not result.succeeded:
            console.print(
                result.error_line(), style="red", markup=False, highlight=False, soft_wrap=True
            )
            return 1
        metrics = client.job_metrics(job["id"])
        for table in metrics_tables(metrics):
            console.print(table)
        console.print(f"training: {training_line(metrics)}")
        pruned = client.download_saved_model(job["id"], workdir / "pruned")
    check_pruned_saved_model(pruned, data)
    console.print(
        f"next: `shears jobs show {job['id']}`, or `shears jobs download {job['id']} -o DIR`"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsity", type=float, default=0.8, help="target sparsity")
    parser.add_argument("--steps", type=int, default=400, help="the job's fine-tuning steps")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the exported model, the .npz and the pruned model here (default: a temp dir)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shears-quickstart-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            return run(workdir, args.sparsity, args.steps)
        except ShearsError as exc:
            console.print(f"error: {exc.one_line()}", markup=False, highlight=False, soft_wrap=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
