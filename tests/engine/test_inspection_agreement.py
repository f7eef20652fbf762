"""The API's TF-free inspection and the engine's agree on every model kind: the prunable weights
users write do_not_prune / weight_sparsity_map from (names, shapes, the set), the parameter
count and the signature names a job may train through."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import keras
import pytest
import tensorflow as tf

from app.inspection import (
    DatasetDescription,
    UploadRejected,
    check_dataset_fits,
    inspect_model_upload,
)
from worker.pruning.contract.errors import PruningError
from worker.pruning.loading import inspect_model, load_prunable_model

pytestmark = pytest.mark.slow


def build_layer_zoo() -> keras.Model:
    """Every layer kind of section 4, none named "depthwise": the graph must tell."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    image = keras.Input((6, 6, 3), name="image")
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = layers.Conv2DTranspose(4, 3, name="up")(image)
    x = layers.SeparableConv2D(4, 3, name="sep")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.DepthwiseConv2D(3, name="dw")(x)
    t = layers.Flatten()(layers.Embedding(20, 4, name="emb")(tokens))
    x = layers.Concatenate()([layers.Flatten()(x), t])
    return keras.Model([image, tokens], layers.Dense(3, name="fc")(layers.Dropout(0.2)(x)))


def build_recurrent_zoo() -> keras.Model:
    """Recurrent cells every way Keras names them: built by their layer, given to an RNN,
    stacked, wrapped in Bidirectional (with its own backward layer), behind a nested model."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    sequence = keras.Input((5, 3), name="sequence")
    x = layers.LSTM(4, return_sequences=True, name="lstm")(sequence)
    cells = layers.StackedRNNCells([layers.LSTMCell(4, name="c1"), layers.GRUCell(3, name="c2")])
    x = layers.RNN(cells, return_sequences=True, name="stacked")(x)
    backward = layers.LSTM(3, go_backwards=True, return_sequences=True, name="back")
    x = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True, name="fw"), backward_layer=backward, name="bi"
    )(x)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True, name="g"), name="bigru")(x)
    x = layers.RNN(layers.SimpleRNNCell(2, name="simple"), name="plain")(x)
    inner = keras.Sequential([keras.Input((2,)), layers.Dense(2, name="fc")], name="inner")
    return keras.Model(sequence, inner(x))


class Block(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable(tf.ones([4, 4]))
        self.bias = tf.Variable(tf.zeros([4]))
        self.filter = tf.Variable(tf.ones([3, 3, 2, 1]))


class NestedModule(tf.Module):
    """Unnamed variables ("Variable") in sub-modules, an alias, a list, a variable whose own
    name equals another's path, depthwise filters read through tf.cond and tf.identity, a
    filter-shaped variable that is no filter, an int64 counter and a second signature."""

    def __init__(self) -> None:
        super().__init__()
        self.enc, self.dec, self.blocks = Block(), Block(), [Block()]
        self.alias = self.enc
        self.mix = tf.Variable(tf.ones([4, 4]), name="enc/w")
        self.steps = tf.Variable(0, dtype=tf.int64)

    def _depthwise(self, image: tf.Tensor, kernel: Any) -> tf.Tensor:
        return tf.reduce_sum(tf.nn.depthwise_conv2d(image, kernel, [1, 1, 1, 1], "VALID"))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 4], tf.float32, name="x"),
            tf.TensorSpec([None, 5, 5, 2], tf.float32, name="image"),
        ]
    )
    def serve(self, x: tf.Tensor, image: tf.Tensor) -> dict[str, tf.Tensor]:
        self.steps.assign_add(1)
        h = x @ self.enc.w + self.enc.bias
        h = tf.cond(tf.reduce_sum(h) > 0, lambda: h @ self.dec.w, lambda: h @ self.blocks[0].w)
        filters = self._depthwise(image, self.enc.filter)
        filters += tf.cond(
            tf.reduce_sum(x) > 0,
            lambda: self._depthwise(image, tf.identity(self.dec.filter)),
            lambda: tf.constant(0.0),
        )
        return {"y": h @ self.mix + filters + tf.reduce_sum(self.blocks[0].filter)}

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def decode(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"z": x @ self.dec.w}


TF_KERAS_SCRIPT = textwrap.dedent(
    """
    import sys
    import tf_keras as k
    layers = k.layers
    image = k.Input((6, 6, 3), name="image")
    tokens = k.Input((5,), dtype="int32", name="tokens")
    x = layers.Conv2DTranspose(4, 3, name="up")(image)
    x = layers.SeparableConv2D(4, 3, name="sep")(x)
    x = layers.DepthwiseConv2D(3, name="dw")(layers.BatchNormalization(name="bn")(x))
    t = layers.LSTM(3, name="lstm")(layers.Embedding(20, 4, name="emb")(tokens))
    x = layers.Concatenate()([layers.Flatten()(x), t])
    k.Model([image, tokens], layers.Dense(3, name="fc")(x)).save(sys.argv[1])
    """
)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("agreement")
    zoo = build_layer_zoo()
    zoo.save(root / "zoo.keras")
    zoo.export(str(root / "zoo_export"), verbose=False)
    build_recurrent_zoo().save(root / "recurrent.keras")
    module = NestedModule()
    signatures = {"serving_default": module.serve, "decode": module.decode}
    tf.saved_model.save(module, str(root / "nested_module"), signatures=signatures)
    names = ("zoo.keras", "zoo_export", "nested_module", "recurrent.keras")
    built = {name: root / name for name in names}
    if importlib.util.find_spec("tf_keras") is not None:
        subprocess.run(
            [sys.executable, "-c", TF_KERAS_SCRIPT, str(root / "tf_keras")],
            env={**os.environ, "TF_USE_LEGACY_KERAS": "1"},
            check=True,
            capture_output=True,
            timeout=120,
        )
        built["tf_keras"] = root / "tf_keras"
    return built


KINDS = [
    "zoo.keras",
    "zoo_export",
    "recurrent.keras",
    "nested_module",
    "tf_keras",
    "keras_export_dir",
    "module_dir",
]


@pytest.fixture(scope="module", params=KINDS)
def model_path(request: pytest.FixtureRequest, models: dict[str, Path]) -> Path:
    if request.param in models:
        return models[request.param]
    if request.param == "tf_keras":
        pytest.skip("tf_keras is not installed: no tf-keras SavedModel")
    return request.getfixturevalue(request.param)  # conftest's digits models


@pytest.fixture(scope="module")
def both(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    work = tmp_path_factory.mktemp("inspect")
    upload = model_path
    if model_path.is_dir():
        upload = work / "model.tar.gz"
        with tarfile.open(upload, "w:gz") as archive:
            archive.add(model_path, arcname=".")
    api = inspect_model_upload(upload, work / "api").to_dict()
    return api, inspect_model(str(model_path), str(work / "engine"))


def weights(description: dict[str, Any]) -> list[tuple[str, tuple[int, ...]]]:
    return sorted((w["name"], tuple(w["shape"])) for w in description["prunable"])


def test_same_prunable_weights(both: tuple[dict, dict]) -> None:
    api, engine = both
    assert weights(api) == weights(engine)
    assert api["params_prunable"] == engine["params_prunable"]


def test_same_parameter_count(both: tuple[dict, dict]) -> None:
    api, engine = both
    assert api["params_total"] == engine["params_total"]


def test_same_signature_names(both: tuple[dict, dict]) -> None:
    api, engine = both
    assert sorted(api["signatures"]) == sorted(engine["signatures"])


EXPECTED_PRUNABLE = {
    # The depthwise kernels (dw/kernel, sep/depthwise_kernel) are out: seen in the graph.
    "zoo_export": [
        ("emb/embeddings", (20, 4)),
        ("fc/kernel", (84, 3)),
        ("sep/pointwise_kernel", (1, 1, 4, 4)),
        ("up/kernel", (3, 3, 4, 3)),
    ],
    # Unnamed variables take their attribute paths; "enc/w" is taken by `mix`'s own name.
    "nested_module": [
        ("blocks/0/filter", (3, 3, 2, 1)),
        ("blocks/0/w", (4, 4)),
        ("dec/w", (4, 4)),
        ("enc/w", (4, 4)),
        ("enc/w_1", (4, 4)),
    ],
    "module_dir": [("hidden", (64, 32)), ("out", (32, 10))],
    # Keras names a cell's weights after the layer that built it, or after the cell when
    # the config gives it; biases are never pruned.
    "recurrent.keras": [
        ("back/lstm_cell/kernel", (3, 12)),
        ("back/lstm_cell/recurrent_kernel", (3, 12)),
        ("backward_g/gru_cell/kernel", (6, 9)),
        ("backward_g/gru_cell/recurrent_kernel", (3, 9)),
        ("c1/kernel", (4, 16)),
        ("c1/recurrent_kernel", (4, 16)),
        ("c2/kernel", (4, 9)),
        ("c2/recurrent_kernel", (3, 9)),
        ("fc/kernel", (2, 2)),
        ("forward_fw/lstm_cell/kernel", (3, 12)),
        ("forward_fw/lstm_cell/recurrent_kernel", (3, 12)),
        ("forward_g/gru_cell/kernel", (6, 9)),
        ("forward_g/gru_cell/recurrent_kernel", (3, 9)),
        ("lstm/lstm_cell/kernel", (3, 16)),
        ("lstm/lstm_cell/recurrent_kernel", (4, 16)),
        ("simple/kernel", (6, 2)),
        ("simple/recurrent_kernel", (2, 2)),
    ],
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_PRUNABLE))
def test_engine_prunes_what_section_4_says(kind: str, models, request, tmp_path) -> None:
    path = models.get(kind) or request.getfixturevalue(kind)
    assert weights(inspect_model(str(path), str(tmp_path))) == EXPECTED_PRUNABLE[kind]


def test_depthwise_filters_are_found_in_the_graph(models: dict[str, Path], tmp_path) -> None:
    engine = inspect_model(str(models["zoo_export"]), str(tmp_path))
    assert {w["name"] for w in engine["depthwise"]} == {"dw/kernel", "sep/depthwise_kernel"}
    nested = inspect_model(str(models["nested_module"]), str(tmp_path))
    assert {w["name"] for w in nested["depthwise"]} == {"enc/filter", "dec/filter"}


SPARSE = "sparse_categorical_crossentropy"


def _dataset(arrays: dict[str, tuple[list[int], str]]) -> DatasetDescription:
    described = {k: {"shape": s, "dtype": d, "min": 0, "max": 2} for k, (s, d) in arrays.items()}
    return DatasetDescription(described, n_train=8, n_val=0)


def test_keras_file_trains_through_the_names_the_api_accepts(models, tmp_path) -> None:
    path = models["zoo.keras"]
    api = inspect_model_upload(path, tmp_path / "api")
    data = _dataset(
        {
            "x_train__image": ([8, 6, 6, 3], "float32"),
            "x_train__tokens": ([8, 5], "int32"),
            "y_train": ([8], "int64"),
        }
    )
    for name in ("serve", "serving_default"):
        check_dataset_fits(api, data, name, SPARSE, 0.25)
        assert load_prunable_model(str(path), name, str(tmp_path)).signature_name == name
    with pytest.raises(UploadRejected) as api_refusal:
        check_dataset_fits(api, data, "predict", SPARSE, 0.25)
    with pytest.raises(PruningError) as engine_refusal:
        load_prunable_model(str(path), "predict", str(tmp_path))
    assert api_refusal.value.code == engine_refusal.value.code == "unknown_signature"
    assert api_refusal.value.message == engine_refusal.value.message
    assert api_refusal.value.details == engine_refusal.value.details
