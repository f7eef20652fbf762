"""README section on channel pruning and distillation (channels.json)."""

from __future__ import annotations

from statistics import fmean

from bench.readme_format import Payload, Section, percent, points, ratio, sparsity, table


def _speed_rows(result: Payload) -> list[list[str]]:
    return [
        [
            sparsity(r["channels_removed"]),
            ratio(r["params_ratio"]),
            ratio(r["flops_ratio"]),
            ratio(r["latency_ratio_batch1"]),
            ratio(r["latency_ratio_batch32"]),
        ]
        for r in result["speed"]
    ]


def _accuracy_rows(result: Payload) -> list[list[str]]:
    rows = []
    for model, block in result["accuracy"].items():
        for fraction in sorted({r["channels_removed"] for r in block["runs"]}):
            runs = [r for r in block["runs"] if r["channels_removed"] == fraction]
            rows.append(
                [
                    model,
                    sparsity(fraction),
                    ratio(fmean(r["params_ratio"] for r in runs)),
                    percent(block["dense_accuracy"]),
                    percent(fmean(r["channel_accuracy"] for r in runs)),
                    percent(fmean(r["weight_accuracy"] for r in runs)),
                    percent(fmean(r["narrow_accuracy"] for r in runs)),
                ]
            )
    return rows


def _distillation_rows(result: Payload) -> list[list[str]]:
    by = {(r["method"], r["sparsity"]): r for r in result["distillation"]["results"]}
    rows = []
    for level in sorted({s for _, s in by}):
        cells = [
            f"{percent(by[(m, level)]['mean'])} ± {percent(by[(m, level)]['std'])}"
            for m in ("shears", "shears_distilled", "tfmot")
        ]
        rows.append([sparsity(level), *cells])
    return rows


def channels(result: Payload) -> Section:
    goals = result["goals"]
    settings = result["distillation"]["settings"]
    lines = [
        f"Speed: {result['speed_model']}; ratios are pruned / dense, latency the median of "
        "model calls in one process (batch 1 and 32, dense and pruned alternated).",
        "",
        *table(
            ["channels removed", "params", "FLOPs", "latency, batch 1", "latency, batch 32"],
            _speed_rows(result),
        ),
        "",
        f"Accuracy on {result['accuracy_data']} (test accuracy %): channel pruning against "
        "weight pruning at the same nonzero count and a dense model of the pruned shape trained "
        "from the start for as many steps.",
        "",
        *table(
            ["model", "channels removed", "params", "dense", "channels", "weights", "narrow"],
            _accuracy_rows(result),
        ),
        "",
        f"Distillation (alpha {settings['alpha']}, temperature {settings['temperature']}) on the "
        f"digits CNN, seeds {', '.join(map(str, result['distillation']['seeds']))}, test "
        "accuracy % (mean ± std), tfmot on the same schedule:",
        "",
        *table(
            ["sparsity", "Shears", "Shears + distillation", "tfmot"], _distillation_rows(result)
        ),
        "",
    ]
    shortfalls = []
    if not goals["latency_at_most_0.55_of_dense"]:
        shortfalls.append(
            "Channel pruning: at 50 % channels the batch-32 latency is "
            f"{ratio(goals['latency_ratio_batch32_at_half_channels'])} of dense (goal ≤ 0.55)."
        )
    if not goals["distilled_half_point_above_tfmot_at_0.95_and_0.98"]:
        margins = ", ".join(
            f"{points(v)} at {sparsity(float(k))}"
            for k, v in goals["distilled_minus_tfmot_points"].items()
        )
        shortfalls.append(
            f"Distillation: Shears + distillation minus tfmot is {margins} points "
            "(goal: +0.5 at 95 % and 98 %)."
        )
    return Section(lines, shortfalls)
