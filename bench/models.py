"""The benchmarks' models, built with whichever Keras is passed in: Keras 3 (`keras`) for Shears
and the dense baselines, tf-keras (`tf_keras`) for tfmot. Both builds of one model have the same
layers in the same order, so `get_weights()` of one loads into the other with `set_weights()`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

CIFAR_SHAPE = (32, 32, 3)
DIGITS_SHAPE = (8, 8, 1)
CLASSES = 10

# How the CIFAR-10 net is fine-tuned wherever it is timed or pruned: the seed's batch size,
# Adam, one seed; random images (speed and size do not depend on the pixels).
CIFAR_BATCH_SIZE = 128
CIFAR_EXAMPLES = 10 * CIFAR_BATCH_SIZE
CIFAR_LEARNING_RATE = 1e-3
CIFAR_SEED = 0

# The digits CNN at width 1; large_sparse.py scales all three by one factor.
DIGITS_CONV_FILTERS = (32, 64)
DIGITS_HIDDEN = 128


def cifar_net(k: ModuleType) -> Any:
    """The seed's CIFAR-10 network (TensorFlow's cifar10 tutorial without its LRN layers)."""
    layers = k.layers
    return k.Sequential(
        [
            k.Input(CIFAR_SHAPE, name="images"),
            layers.Conv2D(64, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(3, strides=2, padding="same", name="pool1"),
            layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(3, strides=2, padding="same", name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(384, activation="relu", name="local3"),
            layers.Dense(192, activation="relu", name="local4"),
            layers.Dense(CLASSES, name="logits"),
        ],
        name="cifar10_net",
    )


def digits_widths(width: float) -> tuple[int, int, int]:
    """(conv1 filters, conv2 filters, hidden units) of the digits CNN at `width`."""
    first, second = DIGITS_CONV_FILTERS
    return (
        max(1, round(first * width)),
        max(1, round(second * width)),
        max(1, round(DIGITS_HIDDEN * width)),
    )


def digits_cnn(k: ModuleType, width: float = 1.0) -> Any:
    """A small CNN for scikit-learn's 8x8 digits; logits out."""
    first, second, hidden = digits_widths(width)
    layers = k.layers
    return k.Sequential(
        [
            k.Input(DIGITS_SHAPE, name="images"),
            layers.Conv2D(first, 3, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(second, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(hidden, activation="relu", name="hidden"),
            layers.Dense(CLASSES, name="logits"),
        ],
        name="digits_cnn",
    )


def digits_params(width: float) -> int:
    """Parameter count of digits_cnn(width), weights and biases, without building it."""
    first, second, hidden = digits_widths(width)
    height, wide, channels = DIGITS_SHAPE
    flat = (height // 2) * (wide // 2) * second
    return (
        (9 * channels + 1) * first
        + (9 * first + 1) * second
        + (flat + 1) * hidden
        + (hidden + 1) * CLASSES
    )
