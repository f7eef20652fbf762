"""Small real models and data for end-to-end jobs: digits (8x8 images, 10 classes) and three
kinds of model the service accepts. TensorFlow is imported here, in the test process only."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

N_FEATURES, N_CLASSES = 64, 10


def digits_npz(dest: Path) -> Path:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int64")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    np.savez(dest, x_train=x[:1400], y_train=y[:1400], x_val=x[1400:], y_val=y[1400:])
    return dest


def _keras_model() -> tf.keras.Model:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,), name="pixels"),
            keras.layers.Dense(64, activation="relu", name="hidden"),
            keras.layers.Dense(N_CLASSES, name="logits"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = load_digits(return_X_y=True)
    model.fit((x / 16.0).astype("float32"), y, epochs=3, batch_size=64, verbose=0)
    return model


def keras_file(dest: Path) -> Path:
    _keras_model().save(dest)
    return dest


def keras_export_dir(export_dir: Path) -> Path:
    """A Keras 3 `model.export()` SavedModel directory."""
    _keras_model().export(str(export_dir), verbose=False)
    return export_dir


def keras_export_zip(dest: Path, workdir: Path) -> Path:
    """A Keras 3 `model.export()` SavedModel, zipped with its files inside one folder."""
    return _zip_dir(keras_export_dir(workdir / "exported"), dest, top="exported")


class _DigitsModule(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(1)
        self.w1 = tf.Variable(rng.normal(0, 0.2, (N_FEATURES, 48)).astype("float32"), name="w1")
        self.b1 = tf.Variable(np.zeros(48, "float32"), name="b1")
        self.w2 = tf.Variable(rng.normal(0, 0.2, (48, N_CLASSES)).astype("float32"), name="w2")
        self.b2 = tf.Variable(np.zeros(N_CLASSES, "float32"), name="b2")

    @tf.function(input_signature=[tf.TensorSpec([None, N_FEATURES], tf.float32, name="x")])
    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        hidden = tf.nn.relu(tf.matmul(x, self.w1) + self.b1)
        return {"logits": tf.matmul(hidden, self.w2) + self.b2}


def tf_module_zip(dest: Path, workdir: Path) -> Path:
    """A plain tf.Module SavedModel (not Keras), zipped with its files at the archive root."""
    module = _DigitsModule()
    saved = workdir / "module"
    tf.saved_model.save(module, str(saved), signatures={"serving_default": module.__call__})
    return _zip_dir(saved, dest, top=None)


def _zip_dir(source: Path, dest: Path, top: str | None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            name = path.relative_to(source).as_posix()
            name = f"{top}/{name}" if top else name
            archive.write(path, name + ("/" if path.is_dir() else ""))
    shutil.rmtree(source)
    return dest


def bottleneck_keras_file(dest: Path) -> Path:
    """A digits classifier whose head reads a 4-wide code: `wide/kernel` (64x256) has weights
    to spare, `head/kernel` (4x10, 40 weights) has none, so pruning half of it costs far more
    than a point of accuracy."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,), name="pixels"),
            keras.layers.Dense(256, activation="relu", name="wide"),
            keras.layers.Dense(4, name="code"),
            keras.layers.Dense(N_CLASSES, name="head"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.005),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))  # the training rows of digits_npz
    train = order[:1400]
    model.fit((x[train] / 16.0).astype("float32"), y[train], epochs=40, batch_size=64, verbose=0)
    model.save(dest)
    return dest
