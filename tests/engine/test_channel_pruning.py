"""Channel pruning (PRUNING.md section 9): groups, the rebuilt model, the job's outputs."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from tests.engine.channel_models import residual_concat_model
from tests.engine.jobs import prune_argv, run_cli
from worker.pruning.channel_groups import trace_channels
from worker.pruning.channel_masks import ChannelPruner
from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.rebuild import check_equivalent, rebuild

CHANNEL_HPARAMS = {
    "pruning_unit": "channel",
    "target_sparsity": 0.5,
    "sparsity_function_end_step": 20,
    "pruning_frequency": 5,
    "threshold_decay": 0.0,
}


def _with_random_statistics(model: keras.Model) -> keras.Model:
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()]
            )
    return model


def _pruned(model: keras.Model, sparsity: float = 0.5) -> ChannelPruner:
    hparams = parse_hparams({**CHANNEL_HPARAMS, "target_sparsity": sparsity})
    pruner = ChannelPruner(model, trace_channels(model), [], hparams)
    pruner.update(step=100)
    return pruner


def test_residual_add_and_batchnorm_are_one_group() -> None:
    pruner = _pruned(_with_random_statistics(residual_concat_model()))
    families = {f.name: len(f.groups) for f in pruner.families}
    # stem and res_conv2 meet in the Add: one score and one decision per channel pair.
    assert families == {"res_conv2+stem": 8, "res_conv1": 8, "side": 6, "fc": 16}
    assert pruner.kept_channels("stem") == pruner.kept_channels("res_conv2")
    assert pruner.kept_channels("stem_bn", of_input=True) == pruner.kept_channels("stem")
    assert len(pruner.kept_channels("logits")) == 10  # the output layer keeps every channel


def test_rebuilt_model_computes_what_the_masked_model_computed(digits) -> None:
    model = _with_random_statistics(residual_concat_model())
    pruner = _pruned(model)
    smaller = rebuild(model, pruner)
    x = digits[0][:128]
    assert check_equivalent(model, smaller, x) <= 1e-4
    np.testing.assert_allclose(
        smaller.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-4, atol=1e-4
    )
    assert smaller.get_layer("stem").kernel.shape[-1] == 4
    assert smaller.get_layer("stem_bn").gamma.shape == (4,)
    assert smaller.get_layer("dw").kernel.shape[-2] == 4
    # The Concatenate joins 4 kept depthwise channels and 3 kept side channels.
    assert smaller.get_layer("fc").kernel.shape[0] == 4 * 4 * 7
    assert smaller.count_params() < model.count_params() / 2


def test_a_mismatch_is_refused_before_export(digits) -> None:
    model = residual_concat_model()
    pruner = _pruned(model)
    smaller = rebuild(model, pruner)
    smaller.get_layer("logits").bias.assign(np.ones(10, "float32"))
    with pytest.raises(PruningError) as caught:
        check_equivalent(model, smaller, digits[0][:32])
    assert caught.value.code == "rebuild_mismatch"


def test_an_untraceable_layer_is_refused_by_name() -> None:
    image = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, name="conv")(image)
    hidden = keras.layers.Conv2DTranspose(4, 3, name="upconv")(hidden)
    model = keras.Model(image, keras.layers.Dense(2, name="out")(keras.layers.Flatten()(hidden)))
    with pytest.raises(PruningError) as caught:
        trace_channels(model)
    assert caught.value.code == "channel_untraceable"
    assert "'upconv'" in caught.value.message


def test_channel_job_exports_a_smaller_model(keras_file: Path, digits_npz: Path, tmp_path) -> None:
    out = tmp_path / "out"
    code, events = run_cli(prune_argv(keras_file, digits_npz, out, hparams=CHANNEL_HPARAMS))
    assert code == 0, events[-1]
    metrics = [e for e in events if e["event"] == "metrics"][0]
    structure = metrics["structure"]
    assert structure["params_after"] < structure["params_before"]
    assert structure["flops_after"] < structure["flops_before"]
    channels = {c["layer"]: c for c in structure["channels"]}
    assert channels["conv1"] == {"layer": "conv1", "before": 4, "after": 2}
    assert channels["fc1"]["after"] == 16
    assert [row["batch"] for row in structure["latency_ms"]] == [1, 32]
    saved = keras.models.load_model(out / "model.keras")
    assert saved.count_params() == structure["params_after"]
    assert saved.get_layer("fc1").kernel.shape == (6 * 6 * 2, 16)


def test_a_saved_model_is_refused_for_channels(module_dir: Path, digits_npz, tmp_path) -> None:
    code, events = run_cli(prune_argv(module_dir, digits_npz, tmp_path, hparams=CHANNEL_HPARAMS))
    assert code != 0
    error = events[-1]
    assert error["code"] == "unsupported_model"
    assert "not a Keras model" in error["message"]
