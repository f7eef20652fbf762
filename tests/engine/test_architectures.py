"""Common Keras architectures in both upload forms (.keras and Keras 3 export()), each pruned as
PRUNING.md section 4 says, checked per weight in the exported model, or refused with its code.

A Keras 3 export() of a recurrent layer reads its weights inside a while loop that TensorFlow
cannot differentiate once restored: the API refuses it at upload, and the trainer, should one
reach it anyway, fails with the same code instead of internal_error.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from app.inspection import UploadRejected, inspect_model_upload
from tests.engine.jobs import prune_argv, run_cli
from worker.pruning.contract.model_rules import RECURRENT_SAVED_MODEL
from worker.pruning.saved_model_adapter import SavedModelPrunableModel

pytestmark = pytest.mark.slow
L = keras.layers
N = 96
HPARAMS = {
    "target_sparsity": 0.75,
    "sparsity_function_end_step": 8,
    "pruning_frequency": 2,
    "threshold_decay": 0.0,
}
TRAINING = {"steps": 12, "batch_size": 16, "learning_rate": 0.01, "optimizer": "adam"}
REGRESSION = {**TRAINING, "loss": "mse", "metrics": []}


def text_classifier() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((10,), dtype="int32", name="tokens"),
            L.Embedding(40, 8, name="emb"),
            L.GlobalAveragePooling1D(),
            L.Dense(2, name="fc"),
        ]
    )


def lstm_classifier() -> keras.Model:
    return keras.Sequential(
        [keras.Input((6, 4), name="seq"), L.LSTM(8, name="lstm"), L.Dense(2, name="fc")]
    )


def bigru_classifier() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((6, 4), name="seq"),
            L.Bidirectional(L.GRU(6, name="gru"), name="bi"),
            L.Dense(2, name="fc"),
        ]
    )


def stacked_rnn() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((6, 4), name="seq"),
            L.LSTM(8, return_sequences=True, name="lstm"),
            L.SimpleRNN(6, return_sequences=True, name="rnn"),
            L.GRU(4, name="gru"),
            L.Dense(2, name="fc"),
        ]
    )


def two_input_regression() -> keras.Model:
    a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
    h = L.Dense(8, activation="relu", name="hidden")(L.Concatenate()([a, b]))
    return keras.Model([a, b], L.Dense(1, name="out")(h))


def autoencoder() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8, 8, 1), name="image"),
            L.SeparableConv2D(4, 3, strides=2, padding="same", name="enc"),
            L.Conv2DTranspose(1, 3, strides=2, padding="same", name="dec"),
        ]
    )


def sequences(rng: np.random.Generator) -> dict[str, np.ndarray]:
    x = rng.normal(size=(N, 6, 4)).astype("float32")
    return {"x_train": x, "y_train": (x[:, :, 0].sum(axis=1) > 0).astype("int64")}


def tokens(rng: np.random.Generator) -> dict[str, np.ndarray]:
    x = rng.integers(0, 40, (N, 10)).astype("int32")
    return {"x_train": x, "y_train": (x[:, 0] % 2).astype("int64")}


def pairs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    a, b = rng.normal(size=(N, 5)), rng.normal(size=(N, 3))
    y = a.sum(axis=1, keepdims=True) - b[:, :1]
    return {"x_train__a": a, "x_train__b": b, "y_train": y}


def images(rng: np.random.Generator) -> dict[str, np.ndarray]:
    x = rng.uniform(size=(N, 8, 8, 1)).astype("float32")
    return {"x_train": x, "y_train": x}


# name -> (builder, data, training, the .keras weights section 4 prunes)
ARCHITECTURES: dict[str, tuple[Callable[[], keras.Model], Callable, dict, set[str]]] = {
    "text": (text_classifier, tokens, TRAINING, {"emb/embeddings", "fc/kernel"}),
    "lstm": (
        lstm_classifier,
        sequences,
        TRAINING,
        {"lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "fc/kernel"},
    ),
    "bigru": (
        bigru_classifier,
        sequences,
        TRAINING,
        {
            f"{direction}_gru/gru_cell/{attribute}"
            for direction in ("forward", "backward")
            for attribute in ("kernel", "recurrent_kernel")
        }
        | {"fc/kernel"},
    ),
    "stacked": (
        stacked_rnn,
        sequences,
        TRAINING,
        {
            f"{layer}/{layer}_cell/{attribute}"
            for layer in ("lstm", "gru")
            for attribute in ("kernel", "recurrent_kernel")
        }
        | {"rnn/simple_rnn_cell/kernel", "rnn/simple_rnn_cell/recurrent_kernel", "fc/kernel"},
    ),
    "two_inputs": (two_input_regression, pairs, REGRESSION, {"hidden/kernel", "out/kernel"}),
    "autoencoder": (autoencoder, images, REGRESSION, {"enc/pointwise_kernel", "dec/kernel"}),
}
RECURRENT = {"lstm", "bigru", "stacked"}
CASES = [(name, form) for name in ARCHITECTURES for form in ("keras", "export")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, Path]]:
    """(architecture, form) -> (model path, data path)."""
    root = tmp_path_factory.mktemp("architectures")
    found = {}
    for name, (builder, data, _training, _prunable) in ARCHITECTURES.items():
        keras.utils.set_random_seed(0)
        model = builder()
        npz = root / f"{name}.npz"
        np.savez(npz, **data(np.random.default_rng(0)))
        model.save(root / f"{name}.keras")
        model.export(str(root / f"{name}_export"), verbose=False)
        found[name, "keras"] = (root / f"{name}.keras", npz)
        found[name, "export"] = (root / f"{name}_export", npz)
    return found


def upload_description(model: Path, work: Path) -> dict:
    upload = model
    if model.is_dir():
        upload = work / "model.tar.gz"
        with tarfile.open(upload, "w:gz") as archive:
            archive.add(model, arcname=".")
    return inspect_model_upload(upload, work / "api").to_dict()


@pytest.mark.parametrize(("name", "form"), CASES)
def test_pruned_per_layer_or_refused_with_its_code(name: str, form: str, built, tmp_path) -> None:
    model, data = built[name, form]
    _builder, _data, training, keras_prunable = ARCHITECTURES[name]
    code, events = run_cli(prune_argv(model, data, tmp_path / "out", HPARAMS, training))
    if form == "export" and name in RECURRENT:
        with pytest.raises(UploadRejected) as refusal:
            upload_description(model, tmp_path)
        assert (refusal.value.status, refusal.value.code) == (422, RECURRENT_SAVED_MODEL)
        assert ".keras" in refusal.value.message
        # The trainer, reached without the API, says the same: never internal_error.
        assert code == 1 and events[-1]["code"] == RECURRENT_SAVED_MODEL, events[-1]
        return
    assert code == 0, events[-1]
    listed = {w["name"] for w in upload_description(model, tmp_path)["prunable"]}
    layers = {layer["name"]: layer for layer in events[-1]["sparsity"]["layers"]}
    assert set(layers) == listed  # the model page lists what the engine prunes
    if form == "keras":
        assert listed == keras_prunable
    exported = SavedModelPrunableModel(str(tmp_path / "out" / "saved_model"))
    weights = {w.name: w.variable.numpy() for w in exported.candidate_weights()}
    for layer_name, layer in layers.items():
        assert abs(layer["achieved"] - 0.75) <= 0.02, layer
        # The export names a weight by its path in the model ("sequential/lstm/...").
        [variable] = [v for key, v in weights.items() if key.endswith(layer_name)]
        assert abs(float(np.mean(variable == 0.0)) - 0.75) <= 0.02, layer_name


def test_lstm_keras_file_keeps_its_recurrent_kernels_sparse(built, tmp_path) -> None:
    model, data = built["lstm", "keras"]
    code, events = run_cli(prune_argv(model, data, tmp_path / "out", HPARAMS, TRAINING))
    assert code == 0, events[-1]
    pruned = keras.models.load_model(tmp_path / "out" / "model.keras", compile=False)
    cell = pruned.get_layer("lstm").cell
    for variable in (cell.kernel, cell.recurrent_kernel):
        assert abs(float(np.mean(variable.numpy() == 0.0)) - 0.75) <= 0.02, variable.path
    assert float(np.mean(cell.bias.numpy() == 0.0)) < 0.5


def test_n_by_m_groups_run_along_the_rows_of_recurrent_kernels(built, tmp_path) -> None:
    """2:4 over the inputs of each gate unit: rows of kernel (x @ W) and recurrent kernel."""
    model, data = built["lstm", "keras"]
    hparams = {**HPARAMS, "target_sparsity": 0.5, "sparsity_m_by_n": "2:4"}
    code, events = run_cli(prune_argv(model, data, tmp_path / "out", hparams, TRAINING))
    assert code == 0, events[-1]
    pruned = keras.models.load_model(tmp_path / "out" / "model.keras", compile=False)
    cell = pruned.get_layer("lstm").cell
    for variable in (cell.kernel, cell.recurrent_kernel):
        values = variable.numpy()
        groups = values.reshape(values.shape[0] // 4, 4, values.shape[1])
        assert np.all(np.count_nonzero(groups, axis=1) <= 2), variable.path
