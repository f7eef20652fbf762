"""Masked training: a pruned weight stays exactly zero whatever the optimizer does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training
from worker.pruning.data import Split
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.objectives import build_loss
from worker.pruning.pruner import Pruner
from worker.pruning.saved_model_adapter import SavedModelPrunableModel
from worker.pruning.train_step import TrainStep, build_optimizer
from worker.pruning.training_loop import batches
from worker.pruning.weight_selection import select_weights

OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop"]
STEPS_BEFORE = 5
STEPS_AFTER = 40


def _train_after_one_mask_update(model, split: Split, optimizer: str) -> tuple[Pruner, list]:
    """Steps before the update build momentum that would push pruned weights off zero."""
    hparams = parse_hparams({"target_sparsity": 0.7, "threshold_decay": 0.0})
    pruner = Pruner(select_weights(model.candidate_weights(), hparams), hparams)
    config = parse_training(
        {"optimizer": optimizer, "learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.1}
    )
    train = batches(split, 16, shuffle_seed=0)
    step = TrainStep(
        model,
        build_loss(config, from_logits=True),
        build_optimizer(config),
        model.trainable_variables(),
        pruner.masked_variables(),
        train.element_spec,
    )
    iterator = iter(train)
    for _ in range(STEPS_BEFORE):
        step(*next(iterator))
    pruner.update(step=1000)  # past the ramp: 70% of every weight is zero
    before = [w.weight.variable.numpy() for w in pruner.weights]
    for _ in range(STEPS_AFTER):
        step(*next(iterator))
    return pruner, before


def _assert_pruned_stay_zero_and_kept_train(pruner: Pruner, before: list) -> None:
    for weight, mask, start in zip(pruner.weights, pruner.masks, before, strict=True):
        value, kept = weight.weight.variable.numpy(), mask.numpy() == 1
        assert 0.6 < 1 - kept.mean() < 0.8, weight.name
        assert np.all(value[~kept] == 0.0), weight.name
        assert not np.allclose(value[kept], start[kept]), f"{weight.name} did not train"


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_keras_model_with_embedding(optimizer, mixed_keras_file: Path, mixed_arrays) -> None:
    model = KerasPrunableModel(str(mixed_keras_file))
    split = Split(
        x={"image": mixed_arrays["x_train__image"], "tokens": mixed_arrays["x_train__tokens"]},
        y=mixed_arrays["y_train"],
    )
    _assert_pruned_stay_zero_and_kept_train(*_train_after_one_mask_update(model, split, optimizer))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_saved_model_through_its_signature(optimizer, module_dir: Path, digits) -> None:
    model = SavedModelPrunableModel(str(module_dir))
    split = Split(x={"image": digits[0]}, y=digits[1])
    _assert_pruned_stay_zero_and_kept_train(*_train_after_one_mask_update(model, split, optimizer))
