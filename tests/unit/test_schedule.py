"""The schedule: PRUNING.md section 2, every configuration through the same tests."""

from __future__ import annotations

from typing import Any

import pytest

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.schedule import PruningSchedule, layer_target_for

SCHEDULES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "linear": {"sparsity_function_exponent": 1.0, "target_sparsity": 0.8},
    "cubic_offset": {
        "sparsity_function_begin_step": 200,
        "sparsity_function_end_step": 1200,
        "initial_sparsity": 0.1,
        "target_sparsity": 0.9,
        "begin_pruning_step": 200,
        "end_pruning_step": 1300,
        "pruning_frequency": 100,
    },
    "slow_start": {"sparsity_function_exponent": 0.5, "pruning_frequency": 1},
    "decreasing": {"initial_sparsity": 0.6, "target_sparsity": 0.2, "begin_pruning_step": 7},
    "target_zero": {"target_sparsity": 0.0, "sparsity_function_end_step": 10},
}
STEPS = [-5, 0, 1, 7, 10, 33, 50, 99, 100, 101, 150, 199, 200, 201, 450, 700, 1199, 1200, 5000]


def schedule_of(name: str) -> PruningSchedule:
    return PruningSchedule(parse_hparams(SCHEDULES[name]))


def contrib_formula(config: dict[str, Any], t: int) -> float:
    """Section 2 written out independently, from the hparams as the user gave them."""
    h = parse_hparams(config)
    begin, end = h.sparsity_function_begin_step, h.sparsity_function_end_step
    p = min(max((t - begin) / (end - begin), 0.0), 1.0)
    remaining = (1 - p) ** h.sparsity_function_exponent
    return h.target_sparsity + (h.initial_sparsity - h.target_sparsity) * remaining


def update_steps(schedule: PruningSchedule, total_steps: int) -> list[int]:
    """The steps at which a training loop asking at every step would update the masks."""
    updates: list[int] = []
    for step in range(total_steps):
        if schedule.mask_update_due(step, updates[-1] if updates else None):
            updates.append(step)
    return updates


@pytest.mark.parametrize("name", SCHEDULES)
def test_sparsity_is_contribs_formula_at_every_step(name: str) -> None:
    schedule = schedule_of(name)
    for step in [*STEPS, *range(0, 300, 3)]:
        assert schedule.sparsity(step) == pytest.approx(contrib_formula(SCHEDULES[name], step))


@pytest.mark.parametrize("name", SCHEDULES)
def test_ramp_starts_at_initial_and_is_clipped_at_target(name: str) -> None:
    schedule, h = schedule_of(name), parse_hparams(SCHEDULES[name])
    begin, end = h.sparsity_function_begin_step, h.sparsity_function_end_step
    for step in (begin - 100, begin - 1, begin):
        assert schedule.sparsity(step) == pytest.approx(h.initial_sparsity)
    for step in (end, end + 1, end + 10_000):
        assert schedule.sparsity(step) == pytest.approx(h.target_sparsity)


@pytest.mark.parametrize("name", SCHEDULES)
def test_ramp_moves_monotonically_from_initial_to_target(name: str) -> None:
    schedule, h = schedule_of(name), parse_hparams(SCHEDULES[name])
    values = [schedule.sparsity(step) for step in range(-10, 1500)]
    direction = 1 if h.target_sparsity >= h.initial_sparsity else -1
    assert all(direction * (b - a) >= 0 for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize(
    ("exponent", "midpoint"),
    [(1.0, 0.25), (3.0, 0.5 - 0.5 * 0.5**3), (2.0, 0.375), (0.5, 0.5 - 0.5 * 0.5**0.5)],
)
def test_halfway_value_depends_on_the_exponent(exponent: float, midpoint: float) -> None:
    schedule = PruningSchedule(parse_hparams({"sparsity_function_exponent": exponent}))
    assert schedule.sparsity(50) == pytest.approx(midpoint)


def test_a_cubic_ramp_prunes_fast_first_and_slowly_later() -> None:
    schedule = PruningSchedule(parse_hparams({"target_sparsity": 0.9}))
    first_tenth = schedule.sparsity(10) - schedule.sparsity(0)
    last_tenth = schedule.sparsity(100) - schedule.sparsity(90)
    assert first_tenth == pytest.approx(0.9 * (1 - 0.9**3))
    assert last_tenth == pytest.approx(0.9 * 0.1**3)


@pytest.mark.parametrize("name", SCHEDULES)
def test_a_layer_without_a_map_entry_follows_the_schedule(name: str) -> None:
    schedule = schedule_of(name)
    for step in STEPS:
        assert schedule.layer_sparsity(step, None) == schedule.sparsity(step)


@pytest.mark.parametrize("value", [0.0, 0.3, 0.5, 0.8, 0.95])
def test_weight_sparsity_map_scales_by_value_over_target(value: float) -> None:
    schedule = PruningSchedule(parse_hparams({"target_sparsity": 0.5}))
    for step in STEPS:
        expected = min(1.0, schedule.sparsity(step) * value / 0.5)
        assert schedule.layer_sparsity(step, value) == pytest.approx(expected)
    assert schedule.layer_sparsity(100, value) == pytest.approx(value)
    assert schedule.layer_sparsity(0, value) == 0.0


def test_with_target_zero_a_mapped_layer_ramps_from_zero_to_its_value() -> None:
    schedule = schedule_of("target_zero")
    fraction_at_5 = 1 - 0.5**3
    assert schedule.layer_sparsity(0, 0.8) == 0.0
    assert schedule.layer_sparsity(5, 0.8) == pytest.approx(0.8 * fraction_at_5)
    assert schedule.layer_sparsity(10, 0.8) == pytest.approx(0.8)
    assert schedule.layer_sparsity(1000, 0.8) == pytest.approx(0.8)


def test_a_mapped_layer_never_exceeds_full_sparsity() -> None:
    schedule = schedule_of("decreasing")  # initial 0.6 > target 0.2: the ratio starts at 3v
    assert schedule.layer_sparsity(0, 0.9) == 1.0
    assert schedule.layer_sparsity(100, 0.9) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("config", "total_steps", "expected"),
    [
        ({}, 35, [0, 10, 20, 30]),
        ({"begin_pruning_step": 5}, 30, [5, 15, 25]),
        ({"end_pruning_step": 20}, 100, [0, 10, 20]),
        ({"end_pruning_step": 19}, 100, [0, 10]),
        (
            {"begin_pruning_step": 3, "end_pruning_step": 8, "pruning_frequency": 1},
            20,
            [3, 4, 5, 6, 7, 8],
        ),
        ({"begin_pruning_step": 40}, 40, []),
        ({"pruning_frequency": 1000}, 2500, [0, 1000, 2000]),
    ],
)
def test_masks_update_at_begin_then_every_frequency_until_end(
    config: dict[str, Any], total_steps: int, expected: list[int]
) -> None:
    assert update_steps(PruningSchedule(parse_hparams(config)), total_steps) == expected


@pytest.mark.parametrize("name", SCHEDULES)
def test_update_rule_of_section_2_at_every_step(name: str) -> None:
    schedule, h = schedule_of(name), parse_hparams(SCHEDULES[name])
    for step in range(0, 1500, 7):
        for last in (None, step - h.pruning_frequency, step - h.pruning_frequency + 1, step):
            in_range = h.begin_pruning_step <= step and (
                h.end_pruning_step == -1 or step <= h.end_pruning_step
            )
            frequency_ok = last is None or step - last >= h.pruning_frequency
            assert schedule.mask_update_due(step, last) == (in_range and frequency_ok)


@pytest.mark.parametrize("name", SCHEDULES)
def test_the_first_eligible_step_always_updates(name: str) -> None:
    schedule, h = schedule_of(name), parse_hparams(SCHEDULES[name])
    assert schedule.mask_update_due(h.begin_pruning_step, None)
    assert not schedule.mask_update_due(h.begin_pruning_step - 1, None)
    assert update_steps(schedule, h.begin_pruning_step + 1)[0] == h.begin_pruning_step


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_round_trips_through_a_plain_dict(name: str) -> None:
    schedule = schedule_of(name)
    as_dict = schedule.to_dict()
    assert as_dict == {
        k: v for k, v in parse_hparams(SCHEDULES[name]).model_dump().items() if k in as_dict
    }
    restored = PruningSchedule.from_dict(as_dict)
    assert restored == schedule
    assert [restored.sparsity(s) for s in STEPS] == [schedule.sparsity(s) for s in STEPS]


def test_from_dict_validates_like_hparams() -> None:
    with pytest.raises(InvalidConfig) as caught:
        PruningSchedule.from_dict({"target_sparsity": 1.5})
    assert caught.value.details[0]["field"] == "target_sparsity"
    with pytest.raises(InvalidConfig) as caught:
        PruningSchedule.from_dict({"do_not_prune": ["conv1"]})
    assert caught.value.details == [{"field": "do_not_prune", "message": "unknown name"}]


def test_layer_target_for_matches_map_regexes_with_search() -> None:
    hparams = parse_hparams({"weight_sparsity_map": ["conv1:0.8", "^dense/kernel:0.3"]})
    assert layer_target_for(hparams, "model/conv1/kernel") == 0.8
    assert layer_target_for(hparams, "dense/kernel") == 0.3
    assert layer_target_for(hparams, "model/dense/kernel") is None


def test_a_weight_matched_by_two_map_entries_is_invalid_config() -> None:
    hparams = parse_hparams({"weight_sparsity_map": ["conv:0.8", "conv1:0.3"]})
    with pytest.raises(InvalidConfig) as caught:
        layer_target_for(hparams, "conv1/kernel")
    assert caught.value.details[0]["field"] == "weight_sparsity_map"
    assert "conv1/kernel" in caught.value.message
