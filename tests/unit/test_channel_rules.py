"""The channel-pruning rules both the API and the engine use (no TensorFlow)."""

from __future__ import annotations

import pytest

from worker.pruning.contract.channel_rules import layer_refusal, reshape_mapping, zero_preserving
from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training


def test_channel_hparams_default_to_weights_and_l2() -> None:
    hparams = parse_hparams(None)
    assert (hparams.pruning_unit, hparams.channel_criterion) == ("weight", "l2")
    assert parse_hparams("pruning_unit=channel,channel_criterion=l1").channel_criterion == "l1"


@pytest.mark.parametrize(
    "extra", [{"block_width": 4}, {"block_dims_map": ["fc:1x4"]}, {"sparsity_m_by_n": "2:4"}]
)
def test_channels_refuse_blocks_and_m_by_n(extra: dict) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_hparams({"pruning_unit": "channel", **extra})
    assert caught.value.details[0]["field"] == "pruning_unit"


def test_unknown_unit_or_criterion_is_refused() -> None:
    for bad in ({"pruning_unit": "filter"}, {"channel_criterion": "l0"}):
        with pytest.raises(InvalidConfig):
            parse_hparams(bad)


def test_distillation_settings_are_checked() -> None:
    assert parse_training({"distillation": {}}).distillation.temperature == 4.0
    for bad in ({"alpha": 1.5}, {"temperature": 0}, {"beta": 1}):
        with pytest.raises(InvalidConfig):
            parse_training({"distillation": bad})


def test_layer_refusals_say_why() -> None:
    assert layer_refusal("Conv2D", {"filters": 4}) is None
    assert "Conv2DTranspose" in layer_refusal("Conv2DTranspose", {})
    assert "channels_first" in layer_refusal("Conv2D", {"data_format": "channels_first"})
    assert "groups" in layer_refusal("Conv2D", {"groups": 2})
    assert "depth_multiplier" in layer_refusal("DepthwiseConv2D", {"depth_multiplier": 2})
    assert "last" in layer_refusal("Concatenate", {"axis": 1}, rank=4)
    assert layer_refusal("Concatenate", {"axis": 3}, rank=4) is None


def test_reshape_and_activation_rules() -> None:
    assert reshape_mapping((None, 4, 4, 8), (None, 16, 8)) == "same"
    assert reshape_mapping((None, 4, 4, 8), (None, 128)) == "flatten"
    assert reshape_mapping((None, 4, 4, 8), (None, 4, 32)) is None
    assert zero_preserving({"activation": "relu"})
    assert not zero_preserving({"activation": "sigmoid"})
    assert not zero_preserving({"scale": False})
