"""Real models written by TensorFlow and Keras 3 into temporary directories, for the inspection
tests (these tests may import TensorFlow; the code under test never does)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

X_SPEC = tf.TensorSpec([None, 4], tf.float32, name="x")


def keras_cnn() -> keras.Model:
    """Conv, batch norm, a depthwise conv (not prunable) and a softmax classifier."""
    image = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(4, 3, name="conv")(image)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = keras.layers.Flatten(name="flat")(x)
    logits = keras.layers.Dense(10, activation="softmax", name="logits")(x)
    return keras.Model(image, logits)


def keras_two_inputs(two_outputs: bool = True) -> keras.Model:
    """Inputs `tokens` (int32, 6 per example) and `extra` (float32, 3 per example); outputs
    `score` (1 unit) and `klass` (4 classes), or only `klass`."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    extra = keras.Input((3,), name="extra")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(20, 2, name="embed")(tokens))
    joined = keras.layers.Concatenate()([embedded, extra])
    klass = keras.layers.Dense(4, activation="softmax", name="klass")(joined)
    if not two_outputs:
        return keras.Model({"tokens": tokens, "extra": extra}, klass)
    score = keras.layers.Dense(1, name="score")(joined)
    return keras.Model({"tokens": tokens, "extra": extra}, {"score": score, "klass": klass})


def keras_with_lambda() -> keras.Model:
    inputs = keras.Input((4,), name="x")
    doubled = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(doubled))


def shifted_relu(x):
    return keras.activations.relu(x) + 1.0


def keras_with_custom_activation() -> keras.Model:
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, keras.layers.Dense(2, activation=shifted_relu, name="out")(inputs))


class Classifier(tf.Module):
    """A tf.Module with a trainable kernel and bias and a non-trainable step counter."""

    def __init__(self, body: Callable[[Classifier, tf.Tensor], tf.Tensor] | None = None) -> None:
        super().__init__()
        self.w = tf.Variable(tf.random.normal([4, 3]), name="w")
        self.b = tf.Variable(tf.zeros([3]), name="b")
        self.step = tf.Variable(0, trainable=False, name="step")
        self.body = body or (lambda m, x: tf.nn.relu(tf.matmul(x, m.w) + m.b))


def save_module(path: Path, module: Classifier | None = None, with_signature: bool = True) -> Path:
    module = module or Classifier()
    serve = tf.function(
        lambda x: {"y": tf.nn.softmax(module.body(module, x))}, input_signature=[X_SPEC]
    )
    signatures = {"serving_default": serve} if with_signature else None
    tf.saved_model.save(module, str(path), signatures=signatures)
    return path


def reads_a_file(module: Classifier, x: tf.Tensor) -> tf.Tensor:
    size = tf.cast(tf.strings.length(tf.io.read_file("/etc/hostname")), tf.float32)
    return tf.matmul(x, module.w) + size


def calls_python(module: Classifier, x: tf.Tensor) -> tf.Tensor:
    return tf.py_function(lambda a: a * 2.0, [tf.matmul(x, module.w)], tf.float32)


def prints(module: Classifier, x: tf.Tensor) -> tf.Tensor:
    tf.print("input", x)
    return tf.matmul(x, module.w)


def writes_a_checkpoint(module: Classifier, x: tf.Tensor) -> tf.Tensor:
    tf.raw_ops.SaveV2(
        prefix="/tmp/shears-evil-ckpt",
        tensor_names=["w"],
        shape_and_slices=[""],
        tensors=[module.w.read_value()],
    )
    return tf.matmul(x, module.w)


def python_in_a_branch(module: Classifier, x: tf.Tensor) -> tf.Tensor:
    return tf.cond(
        tf.reduce_sum(x) > 0,
        lambda: tf.matmul(x, module.w),
        lambda: tf.py_function(lambda a: a, [tf.matmul(x, module.w)], tf.float32),
    )


def _write_a_file() -> tf.Tensor:
    tf.io.write_file("/tmp/shears-evil", "x")
    return tf.constant(0)


def module_with_hidden_file_write() -> Classifier:
    """Serving is clean, but a saved tf.function that loaders restore writes a file."""
    module = Classifier()
    module.leak = tf.function(_write_a_file, input_signature=[])
    return module


def _save_a_checkpoint_anywhere() -> tf.Tensor:
    tf.raw_ops.SaveV2(
        prefix="/tmp/shears-evil-ckpt",
        tensor_names=["x"],
        shape_and_slices=[""],
        tensors=[tf.constant(1.0)],
    )
    return tf.constant(0)


def module_with_hidden_checkpoint_write() -> Classifier:
    """SaveV2 outside TensorFlow's own save function, in a tf.function loaders restore."""
    module = Classifier()
    module.dump = tf.function(_save_a_checkpoint_anywhere, input_signature=[])
    return module
