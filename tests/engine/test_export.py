"""The exported SavedModel serves exactly what the pruned model in memory computes."""

from __future__ import annotations

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
