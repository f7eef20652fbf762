"""hparams: PRUNING.md section 1 (names, defaults, both input forms, validation, warnings)."""

from __future__ import annotations

from typing import Any

import pytest

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import FIELD_NAMES, parse_hparams

DOCUMENTED_DEFAULTS: dict[str, Any] = {
    "begin_pruning_step": 0,
    "end_pruning_step": -1,
    "do_not_prune": [],
    "threshold_decay": 0.9,
    "pruning_frequency": 10,
    "initial_sparsity": 0.0,
    "target_sparsity": 0.5,
    "sparsity_function_begin_step": 0,
    "sparsity_function_end_step": 100,
    "sparsity_function_exponent": 3.0,
    "name": "model_pruning",
    "weight_sparsity_map": [],
    "block_height": 1,
    "block_width": 1,
    "block_pooling_function": "AVG",
    "block_dims_map": [],
    "nbins": 256,
    "pruning_scope": "layer",
    "sparsity_m_by_n": None,
    "pruning_unit": "weight",
    "channel_criterion": "l2",
}


def test_defaults_are_the_documented_table() -> None:
    resolved = parse_hparams(None).model_dump()
    assert resolved == DOCUMENTED_DEFAULTS
    assert [type(v) for v in resolved.values()] == [type(v) for v in DOCUMENTED_DEFAULTS.values()]


@pytest.mark.parametrize("empty", [None, {}, ""])
def test_nothing_given_means_every_default(empty: Any) -> None:
    assert parse_hparams(empty) == parse_hparams(None)


@pytest.mark.parametrize(
    ("contrib", "as_json"),
    [
        (
            "begin_pruning_step=10000,target_sparsity=0.9,do_not_prune=[conv1,fc.*]",
            {
                "begin_pruning_step": 10000,
                "target_sparsity": 0.9,
                "do_not_prune": ["conv1", "fc.*"],
            },
        ),
        (
            " end_pruning_step = 500 , pruning_frequency=5, sparsity_function_exponent=1",
            {"end_pruning_step": 500, "pruning_frequency": 5, "sparsity_function_exponent": 1.0},
        ),
        (
            "weight_sparsity_map=[conv1:0.8,dense.*:0.3],block_dims_map=[fc1:1x4]",
            {"weight_sparsity_map": ["conv1:0.8", "dense.*:0.3"], "block_dims_map": ["fc1:1x4"]},
        ),
        (
            "block_height=-1,block_width=4,block_pooling_function=MAX,name=run7",
            {"block_height": -1, "block_width": 4, "block_pooling_function": "MAX", "name": "run7"},
        ),
        (
            "pruning_scope=global,sparsity_m_by_n=2:4,nbins=1024",
            {"pruning_scope": "global", "sparsity_m_by_n": "2:4", "nbins": 1024},
        ),
        ("sparsity_m_by_n=None,do_not_prune=[]", {"sparsity_m_by_n": None, "do_not_prune": []}),
    ],
)
def test_contrib_string_and_json_resolve_to_the_same_object(contrib: str, as_json: dict) -> None:
    from_string, from_json = parse_hparams(contrib), parse_hparams(as_json)
    assert from_string == from_json
    assert from_string.model_dump() == {**DOCUMENTED_DEFAULTS, **as_json}


def test_resolved_values_round_trip() -> None:
    hparams = parse_hparams("target_sparsity=0.8,weight_sparsity_map=[a:0.5],sparsity_m_by_n=1:4")
    assert parse_hparams(hparams.model_dump()) == hparams


def test_contribs_empty_do_not_prune_entry_means_nothing() -> None:
    assert parse_hparams({"do_not_prune": [""]}).do_not_prune == []


RAMP_END = "sparsity_function_end_step"
# (hparams, the field the 422 must name): one case per validation rule of section 1.
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"begin_pruning_step": -1}, "begin_pruning_step"),
    ({"end_pruning_step": 0}, "end_pruning_step"),
    ({"begin_pruning_step": 50, "end_pruning_step": 50}, "end_pruning_step"),
    ({"begin_pruning_step": 50, "end_pruning_step": 10}, "end_pruning_step"),
    ({"end_pruning_step": -2}, "end_pruning_step"),
    ({"sparsity_function_begin_step": 100}, RAMP_END),
    ({"sparsity_function_begin_step": 10, "sparsity_function_end_step": 5}, RAMP_END),
    ({"threshold_decay": 1.0}, "threshold_decay"),
    ({"threshold_decay": -0.1}, "threshold_decay"),
    ({"initial_sparsity": 1.0}, "initial_sparsity"),
    ({"initial_sparsity": -0.5}, "initial_sparsity"),
    ({"target_sparsity": 1.0}, "target_sparsity"),
    ({"target_sparsity": float("nan")}, "target_sparsity"),
    ({"weight_sparsity_map": ["conv1:1.0"]}, "weight_sparsity_map"),
    ({"weight_sparsity_map": ["conv1:-0.1"]}, "weight_sparsity_map"),
    ({"weight_sparsity_map": ["conv1:lots"]}, "weight_sparsity_map"),
    ({"weight_sparsity_map": ["conv1"]}, "weight_sparsity_map"),
    ({"weight_sparsity_map": ["conv[1:0.5"]}, "weight_sparsity_map"),
    ({"pruning_frequency": 0}, "pruning_frequency"),
    ({"sparsity_function_exponent": 0}, "sparsity_function_exponent"),
    ({"sparsity_function_exponent": -1.0}, "sparsity_function_exponent"),
    ({"do_not_prune": ["conv(1"]}, "do_not_prune"),
    ({"block_dims_map": ["fc(:1x4"]}, "block_dims_map"),
    ({"block_dims_map": ["fc:4"]}, "block_dims_map"),
    ({"block_dims_map": ["fc:0x4"]}, "block_dims_map"),
    ({"block_height": 0}, "block_height"),
    ({"block_width": -2}, "block_width"),
    ({"block_pooling_function": "MIN"}, "block_pooling_function"),
    ({"pruning_scope": "model"}, "pruning_scope"),
    ({"sparsity_m_by_n": "4:4"}, "sparsity_m_by_n"),
    ({"sparsity_m_by_n": "3:2"}, "sparsity_m_by_n"),
    ({"sparsity_m_by_n": "0:4"}, "sparsity_m_by_n"),
    ({"sparsity_m_by_n": "2-4"}, "sparsity_m_by_n"),
    ({"begin_pruning_step": "soon"}, "begin_pruning_step"),
    ({"do_not_prune": "conv1"}, "do_not_prune"),
]


@pytest.mark.parametrize(("value", "field"), INVALID)
def test_each_rule_gives_invalid_config_naming_the_field(value: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_hparams(value)
    assert caught.value.code == "invalid_hparams"
    assert [d["field"] for d in caught.value.details] == [field]
    assert field in caught.value.message


@pytest.mark.parametrize(
    "valid",
    [
        {"begin_pruning_step": 50, "end_pruning_step": 51},
        {"begin_pruning_step": 50, "end_pruning_step": -1},
        {"sparsity_function_begin_step": 99, "sparsity_function_end_step": 100},
        {"threshold_decay": 0.0, "initial_sparsity": 0.0, "target_sparsity": 0.0},
        {"target_sparsity": 0.999, "weight_sparsity_map": ["conv1:0.0", "fc:0.99"]},
        {"block_height": -1, "block_width": -1, "block_dims_map": ["fc:-1x2"]},
        {"sparsity_m_by_n": "1:2"},
    ],
)
def test_values_on_the_edges_of_the_rules_are_accepted(valid: dict[str, Any]) -> None:
    assert parse_hparams(valid).model_dump() == {**DOCUMENTED_DEFAULTS, **valid}


def test_contrib_string_errors_name_the_field_too() -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_hparams("begin_pruning_step=100,end_pruning_step=20")
    assert caught.value.details[0]["field"] == "end_pruning_step"


@pytest.mark.parametrize("value", [{"target_sparsty": 0.9}, "target_sparsty=0.9"])
def test_unknown_key_lists_every_valid_name(value: Any) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_hparams(value)
    assert caught.value.details == [{"field": "target_sparsty", "message": "unknown name"}]
    for name in FIELD_NAMES:
        assert name in caught.value.message


@pytest.mark.parametrize("text", ["target_sparsity", "=0.5", "target_sparsity=0.5,oops"])
def test_malformed_contrib_string_is_invalid_config(text: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_hparams(text)
    assert caught.value.code == "invalid_hparams"
    assert "key=value" in caught.value.message


def test_a_value_of_the_wrong_type_is_invalid_config() -> None:
    with pytest.raises(InvalidConfig):
        parse_hparams(["target_sparsity=0.5"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "total_steps"),
    [
        ({}, 101),  # masks update at 0, 10, ..., 100: the ramp's end
        ({}, 5000),
        ({"end_pruning_step": 100}, 1000),
        ({"sparsity_function_end_step": 105, "pruning_frequency": 5}, 106),
        ({"begin_pruning_step": 3, "sparsity_function_end_step": 103}, 104),
    ],
)
def test_no_warning_when_the_last_update_is_at_the_ramp_end(value: dict, total_steps: int) -> None:
    assert parse_hparams(value).schedule_warnings(total_steps) == []


@pytest.mark.parametrize(
    ("value", "total_steps", "says"),
    [
        ({}, 100, "ramp ends at step 100"),
        ({}, 50, "last mask update happens at step 40"),
        ({"end_pruning_step": 60}, 1000, "last mask update happens at step 60"),
        # Updates fall on 0, 10, ..., 100, 110: step 105 is never an update step.
        ({"sparsity_function_end_step": 105, "end_pruning_step": 109}, 1000, "at step 100 "),
        ({"sparsity_function_end_step": 105}, 110, "ramp ends at step 105"),
        ({"begin_pruning_step": 200}, 150, "no weight will be pruned"),
    ],
)
def test_warning_when_the_ramp_cannot_finish(value: dict, total_steps: int, says: str) -> None:
    warnings = parse_hparams(value).schedule_warnings(total_steps)
    assert len(warnings) == 1
    assert says in warnings[0]


def test_last_mask_update_step_follows_the_frequency() -> None:
    hparams = parse_hparams({"begin_pruning_step": 7, "pruning_frequency": 10})
    assert hparams.last_mask_update_step(7) is None
    assert hparams.last_mask_update_step(8) == 7
    assert hparams.last_mask_update_step(37) == 27
    assert hparams.last_mask_update_step(38) == 37
