"""The exported SavedModel serves exactly what the pruned model in memory computes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.pruner import Pruner
from worker.pruning.saved_model_adapter import SavedModelPrunableModel
from worker.pruning.weight_selection import select_weights


def _prune_once(model) -> None:
    hparams = parse_hparams({"target_sparsity": 0.6, "threshold_decay": 0.0})
    Pruner(select_weights(model.candidate_weights(), hparams), hparams).update(step=1000)


@pytest.mark.parametrize("kind", ["keras_file", "module_dir", "keras_export_dir"])
def test_export_serves_the_in_memory_outputs(kind, request, digits, tmp_path: Path) -> None:
    path = str(request.getfixturevalue(kind))
    model = KerasPrunableModel(path) if kind == "keras_file" else SavedModelPrunableModel(path)
    _prune_once(model)
    images = tf.constant(digits[0][:32])
    in_memory = model.forward({"image": images}, training=False).numpy()

    model.export(str(tmp_path / "export"))
    served = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    (exported,) = served(image=images).values()
    np.testing.assert_allclose(exported.numpy(), in_memory, rtol=1e-6, atol=1e-6)
    assert not np.allclose(in_memory, 0.0)


def test_resaved_module_keeps_every_signature(module_dir: Path, tmp_path: Path) -> None:
    model = SavedModelPrunableModel(str(module_dir), "probabilities")
    model.export(str(tmp_path / "export"))
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    assert sorted(loaded.signatures) == ["probabilities", "serving_default"]
    probabilities = loaded.signatures["probabilities"](image=tf.zeros((2, 8, 8, 1)))
    np.testing.assert_allclose(probabilities["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-6)
    # The module's tf.function methods stay callable on the loaded export.
    images = tf.zeros((2, 8, 8, 1))
    np.testing.assert_allclose(
        loaded.serve(images)["logits"].numpy(),
        loaded.signatures["serving_default"](image=images)["logits"].numpy(),
    )


KINDS = ["keras_file", "keras_export_dir", "module_dir", "tf_keras_dir"]
# The checkpoint's record of the object graph: a fixed cost, not a variable's value.
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def _load(kind: str, path: Path):
    return (
        KerasPrunableModel(str(path))
        if kind == "keras_file"
        else SavedModelPrunableModel(str(path))
    )


def _captured(root) -> list[tf.Variable]:
    once = {v.ref(): v for name in root.signatures for v in root.signatures[name].variables}
    return list(once.values())


def _stored_and_weight_bytes(saved_model_dir: Path) -> tuple[int, int]:
    """(bytes of the variables/ folder less its index and object-graph record, which are fixed
    costs that only these tiny models notice; sum of the signatures' variables' nbytes)."""
    variables_dir = saved_model_dir / "variables"
    folder = sum(p.stat().st_size for p in variables_dir.iterdir())
    index = (variables_dir / "variables.index").stat().st_size
    reader = tf.train.load_checkpoint(str(variables_dir / "variables"))
    graph = len(reader.get_tensor(OBJECT_GRAPH_KEY))
    weights = sum(v.numpy().nbytes for v in _captured(tf.saved_model.load(str(saved_model_dir))))
    return folder - index - graph, weights


def _upload_outputs(kind: str, model, images: tf.Tensor) -> dict[str, np.ndarray]:
    if kind == "keras_file":
        return {"serving_default": model.model(images, training=False).numpy()}
    return {
        name: next(iter(function(**_feed(function, images)).values())).numpy()
        for name, function in model.root.signatures.items()
    }


def _feed(function, images: tf.Tensor) -> dict[str, tf.Tensor]:
    (name,) = function.structured_input_signature[1]
    return {name: images}


@pytest.mark.parametrize("kind", KINDS)
def test_unpruned_export_stores_each_variable_once(kind, request, digits, tmp_path: Path) -> None:
    model = _load(kind, request.getfixturevalue(kind))
    images = tf.constant(digits[0][:32])
    expected = _upload_outputs(kind, model, images)

    model.export(str(tmp_path / "export"))
    stored, weights = _stored_and_weight_bytes(tmp_path / "export")
    assert abs(stored - weights) <= 0.05 * weights, (stored, weights)
    exported = SavedModelPrunableModel(str(tmp_path / "export"), None)
    assert exported.signatures() == model.signatures()
    served = tf.saved_model.load(str(tmp_path / "export")).signatures
    for name, outputs in expected.items():
        (output,) = served[name](**_feed(served[name], images)).values()
        np.testing.assert_allclose(output.numpy(), outputs, rtol=1e-6, atol=1e-6)


def test_keras_export_upload_stores_its_variables_twice(keras_export_dir: Path) -> None:
    """What the export undoes: measured the same way, Keras 3's own export is twice as large."""
    stored, weights = _stored_and_weight_bytes(keras_export_dir)
    assert stored >= 1.9 * weights, (stored, weights)


def _nonzero_by_shape(variables) -> list[tuple[tuple[int, ...], int]]:
    values = [np.asarray(v.numpy()) for v in variables]
    return sorted(
        (v.shape, int(np.count_nonzero(v))) for v in values if np.issubdtype(v.dtype, np.floating)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_pruned_export_keeps_the_zeros_once(kind, request, digits, tmp_path: Path) -> None:
    model = _load(kind, request.getfixturevalue(kind))
    _prune_once(model)
    before = _nonzero_by_shape(model.all_variables())
    model.export(str(tmp_path / "export"))
    stored, weights = _stored_and_weight_bytes(tmp_path / "export")
    assert abs(stored - weights) <= 0.05 * weights, (stored, weights)
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    assert _nonzero_by_shape(_captured(loaded)) == before
    assert sum(n for _, n in before) < sum(int(np.prod(s)) for s, _ in before)


class VocabModule(tf.Module):
    """Words looked up in a vocabulary file (an asset), then embedded and scored."""

    def __init__(self, vocab: Path) -> None:
        super().__init__()
        self.vocab = tf.saved_model.Asset(str(vocab))
        initializer = tf.lookup.TextFileInitializer(
            self.vocab,
            tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
        )
        self.table = tf.lookup.StaticHashTable(initializer, default_value=0)
        rng = np.random.default_rng(0)
        self.embedding = tf.Variable(rng.normal(size=(4, 8)).astype("float32"))
        self.head = tf.Variable(rng.normal(size=(8, 3)).astype("float32"))

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.string, name="words")])
    def serve(self, words: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = tf.nn.embedding_lookup(self.embedding, self.table.lookup(words))
        return {"scores": tf.reduce_mean(embedded, axis=1) @ self.head}


WORDS = tf.constant([["cat", "dog"], ["bird", "unknown"]])


def test_export_keeps_the_assets(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("<unk>\ncat\ndog\nbird\n")
    module = VocabModule(vocab)
    tf.saved_model.save(module, str(upload), signatures={"serving_default": module.serve})
    expected = module.serve(WORDS)["scores"].numpy()
    model = SavedModelPrunableModel(str(upload))

    model.export(str(tmp_path / "export"))
    vocab.unlink()
    shutil.rmtree(upload)
    assert (tmp_path / "export" / "assets" / "vocab.txt").read_text() == "<unk>\ncat\ndog\nbird\n"
    served = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    np.testing.assert_allclose(served(words=WORDS)["scores"].numpy(), expected, rtol=1e-6)
