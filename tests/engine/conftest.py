"""Tiny models of every kind PRUNING.md section 5 accepts, and digits data that fits them.

Built once per session in a temporary directory: a Keras 3 `.keras` file, its
`model.export()` SavedModel, a `tf.Module` SavedModel, a tf-keras SavedModel (made in a
subprocess, skipped when tf_keras is not installed), and broken models for the refusals.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

N_EXAMPLES = 400


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_digits()
    x = (data.images[:N_EXAMPLES] / 16.0).astype("float32")[..., None]
    return x, data.target[:N_EXAMPLES].astype("int64")


@pytest.fixture(scope="session")
def digits_npz(digits: tuple[np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x_train=digits[0], y_train=digits[1])
    return path


def build_keras_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1), name="image"),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(32, activation="relu", name="fc1"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="digits",
    )


@pytest.fixture(scope="session")
def keras_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keras") / "digits.keras"
    build_keras_model().save(path)
    return path


@pytest.fixture(scope="session")
def keras_export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keras_export") / "saved_model"
    build_keras_model().export(str(path), verbose=False)
    return path


class DigitsModule(tf.Module):
    """A two-layer MLP as a plain tf.Module; `frozen` weights are read through stop_gradient."""

    def __init__(self, frozen: tuple[str, ...] = ()) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.hidden = tf.Variable(rng.normal(0, 0.2, (64, 32)).astype("float32"))
        self.hidden_bias = tf.Variable(np.zeros(32, "float32"))
        self.out = tf.Variable(rng.normal(0, 0.2, (32, 10)).astype("float32"))
        self.temperature = tf.Variable(1.0, trainable=False)
        self._frozen = frozen

    def _read(self, name: str) -> tf.Tensor:
        value = getattr(self, name)
        return tf.stop_gradient(value) if name in self._frozen else value

    def _logits(self, image: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(image, [-1, 64])
        hidden = tf.nn.relu(flat @ self._read("hidden") + self.hidden_bias)
        return hidden @ self._read("out") / self.temperature

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")])
    def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"logits": self._logits(image)}

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")])
    def probabilities(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probabilities": tf.nn.softmax(self._logits(image))}


def save_module(module: DigitsModule, path: Path) -> Path:
    signatures = {"serving_default": module.serve, "probabilities": module.probabilities}
    tf.saved_model.save(module, str(path), signatures=signatures)
    return path


@pytest.fixture(scope="session")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_module(DigitsModule(), tmp_path_factory.mktemp("module") / "saved_model")


@pytest.fixture(scope="session")
def frozen_module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    module = DigitsModule(frozen=("hidden", "out"))
    return save_module(module, tmp_path_factory.mktemp("frozen") / "saved_model")


@pytest.fixture(scope="session")
def half_frozen_module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    module = DigitsModule(frozen=("out",))
    return save_module(module, tmp_path_factory.mktemp("half_frozen") / "saved_model")


TF_KERAS_SCRIPT = textwrap.dedent(
    """
    import sys
    import tf_keras as k
    k.utils.set_random_seed(0)
    model = k.Sequential([
        k.layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1), name="conv1"),
        k.layers.Flatten(),
        k.layers.Dropout(0.1),
        k.layers.Dense(10, name="logits"),
    ])
    model.save(sys.argv[1])
    """
)


@pytest.fixture(scope="session")
def tf_keras_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keras 2 is a separate package (the bench extra): skip when it is not installed."""
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("tf_keras is not installed (pip install tf-keras): no tf-keras SavedModel")
    path = tmp_path_factory.mktemp("tf_keras") / "saved_model"
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1"}
    subprocess.run(
        [sys.executable, "-c", TF_KERAS_SCRIPT, str(path)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


def build_mixed_model() -> keras.Model:
    """Two inputs (an image and int tokens) through every layer kind section 4 names."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    image = keras.Input((8, 8, 3), name="image")
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(image)
    x = layers.Conv2DTranspose(4, 3, padding="same", name="deconv")(x)
    x = layers.SeparableConv2D(8, 3, padding="same", name="separable")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.GlobalAveragePooling2D()(x)
    t = layers.Embedding(20, 4, name="embedding")(tokens)
    t = layers.Conv1D(4, 2, name="conv1d")(t)
    t = layers.Flatten()(t)
    h = layers.Dense(8, activation="relu", name="dense")(layers.Concatenate()([x, t]))
    return keras.Model([image, tokens], layers.Dense(3, name="head")(h))


@pytest.fixture(scope="session")
def mixed_keras_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mixed") / "mixed.keras"
    build_mixed_model().save(path)
    return path


@pytest.fixture(scope="session")
def mixed_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 20, (120, 5)).astype("int32")
    return {
        "x_train__image": rng.normal(size=(120, 8, 8, 3)).astype("float32"),
        "x_train__tokens": tokens,
        "y_train": (tokens[:, 0] % 3).astype("int64"),
    }


@pytest.fixture(scope="session")
def mixed_npz(mixed_arrays: dict[str, np.ndarray], tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mixed_data") / "mixed.npz"
    np.savez(path, **mixed_arrays)
    return path
