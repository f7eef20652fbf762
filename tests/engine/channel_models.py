"""Small Keras models for channel pruning tests: a residual net with BatchNorm and a Concatenate."""

from __future__ import annotations

import keras


def residual_concat_model() -> keras.Model:
    keras.utils.set_random_seed(1)
    layers = keras.layers
    image = keras.Input((8, 8, 1), name="image")
    stem = layers.Conv2D(8, 3, padding="same", name="stem")(image)
    stem = layers.BatchNormalization(name="stem_bn")(stem)
    stem = layers.ReLU(name="stem_relu")(stem)
    branch = layers.Conv2D(8, 3, padding="same", activation="relu", name="res_conv1")(stem)
    branch = layers.BatchNormalization(name="res_bn")(branch)
    branch = layers.Conv2D(8, 3, padding="same", name="res_conv2")(branch)
    joined = layers.Add(name="res_add")([stem, branch])
    depthwise = layers.DepthwiseConv2D(3, padding="same", name="dw")(joined)
    side = layers.Conv2D(6, 1, activation="relu", name="side")(joined)
    both = layers.Concatenate(name="concat")([depthwise, side])
    pooled = layers.MaxPooling2D(name="pool")(both)
    flat = layers.Flatten(name="flatten")(pooled)
    hidden = layers.Dense(16, activation="relu", name="fc")(flat)
    logits = layers.Dense(10, name="logits")(hidden)
    return keras.Model(image, logits, name="residual_concat")
