"""Distillation (PRUNING.md section 10): the frozen upload teaches the pruned model."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.engine.jobs import prune_argv, run_cli
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training
from worker.pruning.data import Split
from worker.pruning.distillation import Distiller
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.pruner import Pruner
from worker.pruning.train_step import TrainStep, build_optimizer
from worker.pruning.training_loop import batches
from worker.pruning.weight_selection import select_weights

DISTILL = {"alpha": 1.0, "temperature": 4.0}


def _soft_loss(distiller: Distiller, teacher, student, images) -> float:
    x = {"image": tf.constant(images)}
    t = teacher.forward(x, training=False)
    s = student.forward(x, training=False)
    return float(distiller.soft_loss(t, s))


def test_distillation_pulls_the_pruned_model_towards_the_teacher(keras_file: Path, digits):
    teacher, student = KerasPrunableModel(str(keras_file)), KerasPrunableModel(str(keras_file))
    config = parse_training({"distillation": DISTILL, "learning_rate": 0.01})
    distiller = Distiller(teacher, config, from_logits=True)
    assert _soft_loss(distiller, teacher, student, digits[0][:64]) < 1e-9  # same model: zero

    hparams = parse_hparams({"target_sparsity": 0.9, "threshold_decay": 0.0})
    pruner = Pruner(select_weights(student.candidate_weights(), hparams), hparams)
    pruner.update(step=1000)
    before = _soft_loss(distiller, teacher, student, digits[0][:64])
    assert before > 0.01

    data = batches(Split({"image": digits[0]}, digits[1]), 32, shuffle_seed=0)
    step = TrainStep(
        student,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        build_optimizer(config),
        student.trainable_variables(),
        pruner.masked_variables(),
        data.element_spec,
        distiller,
    )
    iterator = iter(data)
    for _ in range(40):
        step(*next(iterator))
    after = _soft_loss(distiller, teacher, student, digits[0][:64])
    assert after < 0.5 * before
    teacher_kernel = teacher.model.get_layer("fc1").kernel.numpy()
    assert np.count_nonzero(teacher_kernel) == teacher_kernel.size  # the teacher never trains
    assert np.mean(student.model.get_layer("fc1").kernel.numpy() == 0) >= 0.89  # masks hold


def test_probabilities_and_logits_give_the_same_soft_loss(keras_file: Path) -> None:
    model = KerasPrunableModel(str(keras_file))
    config = parse_training({"distillation": DISTILL})
    logits_t = tf.constant(np.random.default_rng(0).normal(size=(16, 10)), tf.float32)
    logits_s = tf.constant(np.random.default_rng(1).normal(size=(16, 10)), tf.float32)
    on_logits = Distiller(model, config, from_logits=True).soft_loss(logits_t, logits_s)
    on_probs = Distiller(model, config, from_logits=False).soft_loss(
        tf.nn.softmax(logits_t), tf.nn.softmax(logits_s)
    )
    np.testing.assert_allclose(float(on_logits), float(on_probs), rtol=1e-4)
    assert float(on_logits) > 0


def test_regression_distills_by_mean_squared_error(keras_file: Path) -> None:
    model = KerasPrunableModel(str(keras_file))
    config = parse_training({"distillation": DISTILL, "loss": "mse"})
    teacher, student = tf.constant([[1.0, 2.0]]), tf.constant([[0.0, 0.0]])
    assert float(Distiller(model, config, from_logits=False).soft_loss(teacher, student)) == 2.5


def test_a_distilled_channel_job_exports_no_teacher(keras_file, digits_npz, tmp_path) -> None:
    hparams = {
        "pruning_unit": "channel",
        "target_sparsity": 0.5,
        "sparsity_function_end_step": 20,
        "pruning_frequency": 5,
        "threshold_decay": 0.0,
    }
    training = {"steps": 30, "batch_size": 32, "distillation": {"alpha": 0.7, "temperature": 2.0}}
    out = tmp_path / "out"
    code, events = run_cli(prune_argv(keras_file, digits_npz, out, hparams, training))
    assert code == 0, events[-1]
    metrics = events[-1]
    saved = keras.models.load_model(out / "model.keras")
    assert saved.count_params() == metrics["structure"]["params_after"]
    assert [layer.name for layer in saved.layers] == ["conv1", "flatten", "fc1", "norm", "logits"]


@pytest.mark.parametrize("kind", ["module_dir", "keras_export_dir"])
def test_distillation_trains_saved_models_too(kind, request, digits_npz, tmp_path) -> None:
    training = {"steps": 20, "batch_size": 32, "distillation": {"alpha": 0.5, "temperature": 4.0}}
    model = request.getfixturevalue(kind)
    code, events = run_cli(prune_argv(model, digits_npz, tmp_path / "out", None, training))
    assert code == 0, events[-1]
    assert events[-1]["sparsity"]["achieved"] > 0.5
    assert (tmp_path / "out" / "saved_model" / "saved_model.pb").is_file()
