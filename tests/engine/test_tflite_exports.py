"""TFLite exports (PRUNING.md section 8), read back from the files the trainer wrote."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.engine.conftest import DigitsModule
from tests.engine.jobs import SHORT_TRAINING, prune_argv, run_cli
from worker.pruning.tflite_format import stored_weights

BLOCK_HPARAMS = {
    "target_sparsity": 0.75,
    "block_height": 16,
    "block_width": 1,
    "sparsity_function_end_step": 30,
    "pruning_frequency": 5,
    "threshold_decay": 0.0,
}
BOTH = json.dumps(["tflite", "tflite_int8"])


@pytest.fixture(scope="module")
def exported(keras_file: Path, digits_npz: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("exported")
    argv = prune_argv(keras_file, digits_npz, out, BLOCK_HPARAMS) + ["--exports", BOTH]
    code, lines = run_cli(argv)
    assert code == 0, lines[-1]
    return out, lines[-1]


def _dense_kernels(out: Path) -> list[np.ndarray]:
    model = keras.models.load_model(out / "model.keras")
    return [layer.kernel.numpy() for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@pytest.mark.parametrize("export", ["tflite", "tflite_int8"])
def test_pruned_weights_stay_exactly_zero_in_the_file(exported, export: str) -> None:
    out, _ = exported
    stored = {w.shape: w for w in stored_weights((out / f"{export}.tflite").read_bytes(), True)}
    for kernel in _dense_kernels(out):
        weight = stored[kernel.T.shape]  # FULLY_CONNECTED keeps (out, in)
        assert weight.sparse
        assert np.all(weight.values[kernel.T == 0] == 0)
        assert np.mean(weight.values == 0) >= 0.75


def test_metrics_report_what_the_files_are(exported) -> None:
    out, metrics = exported
    for export in ("tflite", "tflite_int8"):
        entry = metrics["exports"][export]
        data = (out / f"{export}.tflite").read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["bytes"] < entry["dense_bytes"]
        assert entry["sparse_tensors"] >= 2  # fc1 and logits
        assert entry["latency_ms"]["runs"] >= 50
        assert entry["latency_ms"]["pruned"] > 0 and entry["latency_ms"]["dense"] > 0
        runner = tf.lite.Interpreter(model_content=data).get_signature_runner("serving_default")
        assert 0.0 <= entry["accuracy"] <= 1.0
        assert runner is not None
    float_accuracy = metrics["exports"]["tflite"]["accuracy"]
    assert float_accuracy == pytest.approx(metrics["pruned"]["accuracy"], abs=0.01)


def test_tflite_without_accelerated_blocks_warns(keras_file, digits_npz, tmp_path) -> None:
    hparams = {**BLOCK_HPARAMS, "block_height": 1}
    argv = prune_argv(keras_file, digits_npz, tmp_path, hparams) + ["--exports", '["tflite"]']
    code, lines = run_cli(argv)
    assert code == 0
    (warning,) = lines[0]["warnings"]
    assert "block_height=4, block_width=1" in warning


class ErfinvModule(DigitsModule):
    """The digits MLP with an op TFLite has no builtin kernel for."""

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")])
    def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        logits = self._logits(image)
        return {"logits": logits + tf.math.erfinv(tf.nn.sigmoid(logits) - 0.5)}


def test_a_failed_export_leaves_the_job_succeeded(digits_npz, tmp_path) -> None:
    model_dir = tmp_path / "saved_model"
    module = ErfinvModule()
    tf.saved_model.save(module, str(model_dir), signatures={"serving_default": module.serve})
    out = tmp_path / "out"
    argv = prune_argv(model_dir, digits_npz, out, training=SHORT_TRAINING)
    code, lines = run_cli(argv + ["--exports", '["tflite"]'])
    assert code == 0, lines[-1]
    error = lines[-1]["exports"]["tflite"]["error"]
    assert error["code"] == "export_failed"
    assert error["op"] == "Erfinv"
    assert "Erfinv" in error["message"]
    assert (out / "saved_model" / "saved_model.pb").is_file()
    assert not (out / "tflite.tflite").exists()
