"""The `training` object: defaults, derived values, and a 422-ready error for each bad field."""

from __future__ import annotations

import pytest

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.training_config import parse_training


def test_defaults_resolve_with_every_value_filled_in() -> None:
    resolved = parse_training(None).resolved()
    assert resolved["loss"] == "sparse_categorical_crossentropy"
    assert resolved["metrics"] == ["accuracy"]  # classification loss -> accuracy by default
    assert resolved["epochs"] == 1 and resolved["steps"] is None
    assert resolved["signature"] == "serving_default"
    assert resolved["validation_split"] == 0.1


def test_regression_loss_has_no_default_metric() -> None:
    assert parse_training({"loss": "mse"}).resolved_metrics() == []


@pytest.mark.parametrize(
    ("config", "n_train", "steps"),
    [({"steps": 7}, 1000, 7), ({"epochs": 2, "batch_size": 32}, 100, 8), ({}, 64, 2)],
)
def test_total_steps(config: dict, n_train: int, steps: int) -> None:
    assert parse_training(config).total_steps(n_train) == steps


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"epochs": 1, "steps": 2}, "steps"),
        ({"loss": "hinge_of_doom"}, "loss"),
        ({"metrics": ["f1"]}, "metrics"),
        ({"batch_size": 0}, "batch_size"),
        ({"steps": -5}, "steps"),
        ({"steps": 10**12}, "steps"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"optimizer": "lion"}, "optimizer"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_each_bad_field_is_named(config: dict, field: str) -> None:
    with pytest.raises(InvalidConfig) as raised:
        parse_training(config)
    assert raised.value.code == "invalid_training"
    assert [d["field"] for d in raised.value.details] == [field]
    assert field in raised.value.message


def test_a_non_object_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="must be a JSON object"):
        parse_training(["steps", 5])  # type: ignore[arg-type]


@pytest.mark.parametrize(("optimizer", "decay"), [("adamw", 0.004), ("adam", 0.0), ("sgd", 0.0)])
def test_only_adamw_decays_weights_by_default(optimizer: str, decay: float) -> None:
    assert parse_training({"optimizer": optimizer}).resolved()["weight_decay"] == decay
    assert (
        parse_training({"optimizer": optimizer, "weight_decay": 0.01}).resolved()["weight_decay"]
        == 0.01
    )
