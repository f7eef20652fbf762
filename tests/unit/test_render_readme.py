"""The README's Results section, rendered from small fake result files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.render_readme import END, START, main, render_results, with_results

MACHINE = {"python": "3.11.7", "cpus": 2}
SCHEDULE = {"begin": 0, "end": 600, "frequency": 10, "steps": 1000}


def quality_result(method: str, sparsity: float, mean: float, std: float) -> dict[str, Any]:
    return {
        "method": method,
        "sparsity": sparsity,
        "mean": mean,
        "std": std,
        "achieved_sparsity": sparsity,
        "accuracies": [mean],
    }


QUALITY = {
    "data": "digits",
    "model": "digits CNN",
    "params": 151306,
    "quick": False,
    "baseline": {"accuracy": 0.9916, "steps": 1500},
    "dense": {"mean": 0.981234, "std": 0.004321},
    "dense_is": "the same fine-tune at sparsity 0",
    "schedule": SCHEDULE,
    "optimizer": "adam",
    "learning_rate": 0.001,
    "batch_size": 32,
    "seeds": [1, 2],
    "sparsity_exponent": 3,
    "shears_threshold_decay": 0.0,
    "results": [
        quality_result("shears", 0.5, 0.9812, 0.001),
        quality_result("tfmot", 0.5, 0.9801, 0.002),
        quality_result("shears", 0.75, 0.975512, 0.0021),
        quality_result("tfmot", 0.75, 0.982017, 0.0034),
    ],
    "goals": {
        "shears_within_half_point_of_tfmot": False,
        "shears_loss_vs_dense_at_0.75_points": 0.572,
        "shears_within_one_point_of_dense_at_0.75": True,
    },
    "machine": MACHINE,
}


def engine(shears_overhead: float, tfmot_overhead: float) -> dict[str, Any]:
    method = {"median_ms": 250.0, "mean_ms": 280.0, "p90_ms": 430.0}
    return {
        "model": "CIFAR-10 net",
        "params": 1756426,
        "data": "random images",
        "batch_size": 128,
        "target_sparsity": 0.9,
        "pruning_frequency": 10,
        "steps_per_turn": 10,
        "turns": 20,
        "load_average_1min_before": 0.65,
        "load_average_1min_after": 6.31,
        "shears_overhead": shears_overhead,
        "tfmot_overhead": tfmot_overhead,
        "methods": {"dense": method, "shears": {**method, "median_ms": 262.4}, "tfmot": method},
        "machine": MACHINE,
    }


MASK_UPDATE = {
    "sparsity": 0.9,
    "layers": [{"weights": 1000000, "shears_ms": 4.69, "tfmot_ms": 117.62, "speedup": 25.08}],
}
SIZE = {
    "models": [
        {
            "model": "digits CNN",
            "sparsity": 0.9,
            "params": 151306,
            "nonzero_params": 15340,
            "weight_bytes": 605224,
            "upload_bytes": 1851146,
            "pruned_bytes": 646149,
            "raw_ratio": 1.0,
            "gzip_ratio": 0.2182,
        }
    ]
}
LARGE_SPARSE = {
    "model": "digits CNN at width w",
    "budget": {"dense_steps": 1500, "fine_tune": SCHEDULE},
    "seeds": [1, 2, 3],
    "comparisons": [
        {
            "sparsity": 0.75,
            "large_sparse_nonzero": 38001,
            "small_dense_params": 37759,
            "large_sparse_accuracy": 0.989786,
            "small_dense_accuracy": 0.986072,
            "large_minus_small_points": 0.371,
            "seed_spread_points": 0.439,
            "clear": False,
        }
    ],
    "conclusion": "Neither confirmed nor contradicted here.",
}
TRANSFER = {"seconds": 6.14, "mib_per_second": 20.9, "over_local_copy": 51.0}
SERVICE_TRANSFERS_ONLY = {
    "quick": True,
    "transfers": {
        "archive_bytes": 134217728,
        "local_copy": {"seconds": 0.12, "mib_per_second": 1063.2},
        "upload": {**TRANSFER, "api_rss_peak_growth_mib": 12.1},
        "download": {**TRANSFER, "api_rss_peak_growth_mib": 120.5},
        "rss_goal_mib": 100,
    },
}


def load_phase(rate: float, p50: float, cpu_ms: float) -> dict[str, Any]:
    return {
        "requests_per_second": rate,
        "p50_ms": p50,
        "p95_ms": 2 * p50,
        "p99_ms": 3 * p50,
        "api_cpu_ms_per_request": cpu_ms,
        "errors": 0,
    }


SERVICE_LOAD_RUN = {
    "web_concurrency": 1,
    "phases": {"job": load_phase(120.3, 1542.41, 6.1), "healthz": load_phase(200.0, 950.0, 1.8)},
    "job_over_healthz": {
        "requests_per_second": 0.602,
        "p50": 1.62,
        "p99": 1.62,
        "api_cpu_per_request": 3.39,
    },
    "sse": {
        "listeners": 50,
        "events_published": {"expected_per_listener": 700},
        "events_received_per_listener": {"min": 699},
        "listeners_missing_an_event": 1,
        "events_missed_in_all": 1,
        "listeners_that_saw_the_terminal_event": 50,
        "errors": 0,
    },
    "load_average_1m": {"before": 2.5, "after": 4.0},
    "goals": {
        "throughput": {"goal": "job at least 0.7× /healthz", "met": False},
        "no_missed_event": {"goal": "no listener misses an event", "met": False},
    },
}
SERVICE_LOAD = {
    "seconds_per_phase": 20.0,
    "rounds": 3,
    "pollers": 200,
    "listeners": 50,
    "progress_events_every_seconds": 0.2,
    "runs": [SERVICE_LOAD_RUN, {**SERVICE_LOAD_RUN, "web_concurrency": 2}],
}
README = "# Project\n\nIntro that must survive.\n"


def results_dir(tmp_path: Path, files: dict[str, dict[str, Any]]) -> Path:
    directory = tmp_path / "bench" / "results"
    directory.mkdir(parents=True)
    for name, payload in files.items():
        (directory / f"{name}.json").write_text(json.dumps(payload))
    return directory


def rendered(tmp_path: Path, **files: dict[str, Any]) -> str:
    return render_results(results_dir(tmp_path, files), tmp_path)


def falls_short(section: str) -> str:
    return section.split("### Where it falls short", 1)[1]


def test_the_intro_says_how_to_reproduce_and_why_only_ratios_count(tmp_path: Path) -> None:
    intro = rendered(tmp_path, quality=QUALITY).splitlines()[0]
    assert "`make bench`" in intro and "`make bench-quick`" in intro
    assert "2-core CPU machine shared with other work" in intro


def test_the_quality_table_has_a_row_per_sparsity_with_both_methods(tmp_path: Path) -> None:
    section = rendered(tmp_path, quality=QUALITY)
    assert "| 50 % | 98.12 ± 0.10 | 98.01 ± 0.20 | +0.11 | 50.0 % |" in section
    assert "| 75 % | 97.55 ± 0.21 | 98.20 ± 0.34 | -0.65 | 75.0 % |" in section
    assert "the same fine-tune at sparsity 0): 98.12 ± 0.43 %" in section
    assert "baseline before fine-tuning: 99.16 %" in section
    assert "threshold_decay=0" in section


def test_quality_goals_are_judged_as_the_file_says_and_unmet_ones_fall_short(
    tmp_path: Path,
) -> None:
    section = rendered(tmp_path, quality=QUALITY)
    assert "0.5 points below tfmot at every sparsity: **not met** (worst Δ -0.65 at 75 %)" in (
        section
    )
    assert "within 1 point of dense: met (0.57 points below dense)" in section
    assert "0.5 points below tfmot" in falls_short(section)
    assert "within 1 point of dense" not in falls_short(section)


def test_a_missing_file_omits_its_section_and_an_unknown_one_gets_a_link(tmp_path: Path) -> None:
    section = rendered(tmp_path, quality=QUALITY, zz_other={"x": 1})
    assert "### Accuracy against sparsity" in section
    assert "Time per training step" not in section and "service" not in section.lower()
    assert "Other results: [`zz_other.json`](bench/results/zz_other.json)." in section


def test_a_known_file_its_renderer_cannot_read_is_only_linked(tmp_path: Path) -> None:
    section = rendered(tmp_path, engine_overhead={"model": "half written"})
    assert "### Time per training step" not in section
    assert "Other results: [`engine_overhead.json`]" in section


@pytest.mark.parametrize(
    ("shears", "tfmot", "verdict"),
    [(0.98, 1.01, "met"), (1.04, 1.02, "**not met**"), (1.08, 1.2, "**not met**")],
)
def test_the_step_overhead_goal_is_at_most_105_and_below_tfmot(
    tmp_path: Path, shears: float, tfmot: float, verdict: str
) -> None:
    section = rendered(tmp_path, engine_overhead=engine(shears, tfmot))
    assert f"This run: {verdict} (median {shears:.3f} against tfmot's {tfmot:.3f})" in section
    assert "| Shears | 262.4 | 280.0 | 430.0 |" not in section  # ms are rounded above 100
    assert "| Shears | 262 | 280 | 430 |" in section
    assert "load average was 0.65 before the run and 6.31 after it" in section
    assert ("Goal: Shears' overhead" in section.split("falls short")[-1]) == (verdict != "met")


def test_mask_update_and_size_rows_show_the_files_numbers(tmp_path: Path) -> None:
    section = rendered(tmp_path, mask_update=MASK_UPDATE, size=SIZE)
    assert "| 1,000,000 | 4.7 | 118 | 25× |" in section
    row = "| digits CNN | 90 % | 15,340 of 151,306 | 605,224 | 1,851,146 | 646,149 | 1.00 | 0.22 |"
    assert row in section
    assert "as large as the dense one on disk" in falls_short(section)


def test_large_sparse_shows_the_comparison_its_conclusion_and_plot(tmp_path: Path) -> None:
    directory = results_dir(tmp_path, {"large_sparse": LARGE_SPARSE})
    (directory / "large_sparse.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    section = render_results(directory, tmp_path)
    assert "| 75 % | 38,001 | 37,759 | 98.98 | 98.61 | +0.37 | 0.44 | no |" in section
    assert "Neither confirmed nor contradicted here." in section
    assert "](bench/results/large_sparse.png)" in section
    assert "inconclusive here: at 75 % the difference" in falls_short(section)


def test_a_partial_service_file_shows_only_its_parts_and_judges_the_rss_goal(
    tmp_path: Path,
) -> None:
    section = rendered(tmp_path, service=SERVICE_TRANSFERS_ONLY)
    assert "### The service's own cost (quick run)" in section
    assert "| download | 6.14 | 20.9 | 51× | 120.5 |" in section
    assert "below 100 MiB while streaming: **not met** (at most 120.5 MiB)" in section
    assert "**Requests**" not in section and "**One job**" not in section
    assert "API RSS grew 120.5 MiB (goal 100)" in falls_short(section)
    assert "Quick runs" in falls_short(section)


def test_service_goals_the_file_declares_are_shown(tmp_path: Path) -> None:
    declared = {**SERVICE_TRANSFERS_ONLY, "goals": {"job_status_within_2x_of_healthz": True}}
    section = rendered(tmp_path, service=declared)
    assert "- Goal: job status within 2x of healthz: met." in section


def test_load_shows_the_job_and_healthz_rates_and_their_ratio_per_process_count(
    tmp_path: Path,
) -> None:
    section = rendered(tmp_path, service_load=SERVICE_LOAD)
    assert "| 1 | GET /v1/jobs/{id} | 120.3 | 1,542 | 3,085 | 4,627 | 6.1 | 0 |" in section
    assert "| 2 | GET /healthz | 200.0 | 950 | 1,900 | 2,850 | 1.8 | 0 |" in section
    assert "| 1 | job ÷ /healthz | 0.602 | 1.6× |  | 1.6× | 3.4× |  |" in section
    assert "| 2 | 700 | 699 | 1 of 50 | 1 | 50 of 50 | 0 |" in section
    assert "load average 2.5 to 4" in section
    assert "were the API's CPU the only limit, job ÷ /healthz would be 1 ÷ 3.39 = 0.295." in section


def test_unmet_load_goals_are_shown_per_process_count_and_fall_short(tmp_path: Path) -> None:
    section = rendered(tmp_path, service_load=SERVICE_LOAD)
    assert "- Goal: no listener misses an event: **not met** (WEB_CONCURRENCY=2)." in section
    shortfalls = falls_short(section)
    assert "Under load, WEB_CONCURRENCY=1: goal not met: job at least 0.7× /healthz." in shortfalls
    assert "Under load, WEB_CONCURRENCY=2: goal not met: no listener misses an event." in shortfalls


def test_a_readme_without_markers_gets_a_results_section_at_its_end() -> None:
    updated = with_results(README, "table\n")
    assert updated.startswith(README)
    assert updated.endswith(f"## Results\n\n{START}\ntable\n{END}\n")


def test_rendering_again_replaces_only_what_lies_between_the_markers() -> None:
    first = with_results(README, "old\n") + "\nFooter kept.\n"
    second = with_results(first, "new\n")
    assert "old" not in second
    assert second == first.replace(f"{START}\nold\n{END}", f"{START}\nnew\n{END}")
    assert with_results(second, "new\n") == second


def test_the_command_rewrites_the_readme_in_place(tmp_path: Path) -> None:
    directory = results_dir(tmp_path, {"quality": QUALITY})
    readme = tmp_path / "README.md"
    readme.write_text(README)
    main(["--readme", str(readme), "--results", str(directory)])
    text = readme.read_text()
    assert text.startswith(README)
    assert "| 75 % | 97.55 ± 0.21 |" in text
    assert text.count(START) == 1 and text.count(END) == 1


def payoff_export(size: float, latency: float, accuracy: float) -> dict[str, Any]:
    return {
        "size_ratio": size,
        "latency_ratio": latency,
        "accuracy": accuracy,
        "sparse_tensors": 4,
        "dense_tensors": 0,
    }


PAYOFF = {
    "quick": True,
    "complete": True,
    "goal": {
        "row": "Dense-heavy MLP, 0.9 in 1x4 blocks",
        "limits": {
            "latency_ratio": 0.25,
            "size_ratio": 0.15,
            "float_points": 0.1,
            "int8_points": 1,
        },
        "measured": {
            "latency_ratio": 0.31,
            "size_ratio": 0.11,
            "float_points": 0.0,
            "int8_points": 0.3,
        },
        "met": {
            "latency_ratio": False,
            "size_ratio": True,
            "float_points": True,
            "int8_points": True,
        },
    },
    "rows": [
        {
            "model": "Dense-heavy MLP",
            "blocks": "1x4",
            "sparsity": 0.9,
            "savedmodel_accuracy": 0.975,
            "exports": {
                "tflite": payoff_export(0.11, 0.31, 0.975),
                "tflite_int8": {"error": {"code": "export_failed", "message": "m", "op": None}},
            },
        }
    ],
}


def test_payoff_rows_and_a_missed_goal_fall_short(tmp_path: Path) -> None:
    section = rendered(tmp_path, payoff=PAYOFF)
    assert (
        "| Dense-heavy MLP | 1x4 | 90 % | float | 0.11 | 0.31 | 97.50 | 4 of 4 | 97.50 |" in section
    )
    assert "| Dense-heavy MLP | 1x4 | 90 % | int8 | failed |" in section
    assert "float latency pruned/dense 0.31 (goal <= 0.25: missed)" in section
    assert "float latency pruned/dense 0.31, over the goal of 0.25" in falls_short(section)
    assert "float file pruned/dense 0.11, over" not in falls_short(section)


def trainer_memory(shears_ratio: float, dataset_bytes: int = 2 << 30) -> dict[str, Any]:
    def run(ratio: float, wall: float) -> dict[str, Any]:
        return {"peak_rss_bytes": int(ratio * (dataset_bytes + 1000)), "peak_ratio": ratio,
                "wall_seconds": wall}  # fmt: skip

    return {
        "quick": False,
        "goal_ratio": 1.5,
        "dataset_bytes": dataset_bytes,
        "model_bytes": 1000,
        "rows": 524289,
        "features": 1024,
        "training": {"epochs": 1, "batch_size": 512},
        "baseline_commit": "3f941d38cf0bee7c4e0c3758ecc7d83efa7e3b87",
        "runs": {"baseline": run(2.35, 142.4), "shears": run(shears_ratio, 18.2)},
        "machine": MACHINE,
    }


@pytest.mark.parametrize(("ratio", "met"), [(1.36, True), (1.62, False)])
def test_trainer_memory_shows_both_peaks_and_judges_the_goal(
    tmp_path: Path, ratio: float, met: bool
) -> None:
    section = rendered(tmp_path, trainer_memory=trainer_memory(ratio))
    assert "| before (commit 3f941d3) | 4.70 GiB | 2.35 | 142 |" in section
    assert f"| Shears | {ratio * 2:.2f} GiB | {ratio:.2f} | 18 |" in section
    assert f"This run: {'met' if met else '**not met**'} ({ratio:.2f}×)" in section
    assert ("Trainer memory: Goal" in section) == (not met)


def test_trainer_memory_on_less_than_2_gib_misses_the_goal(tmp_path: Path) -> None:
    section = rendered(tmp_path, trainer_memory=trainer_memory(1.1, dataset_bytes=1 << 28))
    assert "Trainer memory: Goal" in falls_short(section)


def small_model_part(dense: float, pruned: float) -> dict[str, float]:
    return {
        "dense_median": dense,
        "pruned_median": pruned,
        "ratio_of_medians": round(pruned / dense, 4),
        "paired_median_ratio": round(pruned / dense, 4),
    }


def small_model_overhead(wall_ratio: float) -> dict[str, Any]:
    return {
        "batch_size": 32,
        "steps": 1000,
        "pruning_frequency": 10,
        "target_sparsity": 0.9,
        "repeats": 4,
        "quick": False,
        "goal_wall_ratio": 1.05,
        "baseline_commit": "e2def1e Merge issue13e",
        "wall": small_model_part(40.0, 40.0 * wall_ratio),
        "cpu": small_model_part(30.0, 31.0),
        "training_loop": small_model_part(20.0, 22.0),
        "baseline_wall": small_model_part(40.0, 60.0),
        "baseline_cpu": small_model_part(30.0, 40.0),
        "baseline_training_loop": small_model_part(20.0, 30.0),
        "machine": MACHINE,
    }


@pytest.mark.parametrize(("wall_ratio", "met"), [(1.02, True), (1.2, False)])
def test_small_model_overhead_shows_before_and_after_and_judges_the_goal(
    tmp_path: Path, wall_ratio: float, met: bool
) -> None:
    section = rendered(tmp_path, small_model_overhead=small_model_overhead(wall_ratio))
    assert f"| this code | wall | 40.0 | {40 * wall_ratio:.1f} | {wall_ratio:.3f} |" in section
    assert "| before (commit e2def1e) | wall | 40.0 | 60.0 | 1.500 | 1.500 |" in section
    assert f"This run: {'met' if met else '**not met**'} ({wall_ratio:.3f})" in section
    assert ("Small-model overhead: wall ratio" in section) == (not met)
