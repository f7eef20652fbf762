"""README sections on accuracy: Shears against tfmot (quality.json) and large-sparse against
small-dense (large_sparse.json)."""

from __future__ import annotations

from typing import Any

from bench.readme_format import (
    Payload,
    Section,
    count,
    listing,
    percent,
    points,
    sparsity,
    table,
    verdict,
)


def _accuracy(result: Payload) -> str:
    return f"{percent(result['mean'])} ± {percent(result['std'])}"


def _achieved(shears: Payload, tfmot: Payload) -> str:
    achieved = {f"{100 * r['achieved_sparsity']:.1f} %" for r in (shears, tfmot)}
    if len(achieved) == 1:
        return achieved.pop()
    return f"{100 * shears['achieved_sparsity']:.1f} / {100 * tfmot['achieved_sparsity']:.1f} %"


def _quality_setup(q: Payload) -> str:
    s = q["schedule"]
    return (
        f"Setup: {q['data']}; {q['model']} ({count(q['params'])} parameters), trained "
        f"{q['baseline']['steps']} steps, then fine-tuned {s['steps']} steps by each tool from "
        f"the same weights, sparsity ramped (exponent {q['sparsity_exponent']}) from step "
        f"{s['begin']} to {s['end']}, masks updated every {s['frequency']} steps; "
        f"{q['optimizer']}, learning rate {q['learning_rate']}, batch {q['batch_size']}; "
        f"seeds {listing(q['seeds'])}; Shears with threshold_decay={q['shears_threshold_decay']:g} "
        "(tfmot smooths nothing). Accuracy: mean ± std over seeds on the held-out set; "
        "Δ = Shears − tfmot."
    )


def _quality_goals(goals: Payload, rows: list[tuple[float, Payload, Payload]]) -> list[str]:
    lines = []
    if "shears_within_half_point_of_tfmot" in goals and rows:
        worst = min(rows, key=lambda row: row[1]["mean"] - row[2]["mean"])
        gap = 100 * (worst[1]["mean"] - worst[2]["mean"])
        lines.append(
            "Goal: Shears at most 0.5 points below tfmot at every sparsity: "
            f"{verdict(goals['shears_within_half_point_of_tfmot'])} "
            f"(worst Δ {points(gap)} at {sparsity(worst[0])})."
        )
    loss = goals.get("shears_loss_vs_dense_at_0.75_points")
    met = goals.get("shears_within_one_point_of_dense_at_0.75")
    if loss is not None and met is not None:
        lines.append(
            f"Goal: Shears at 75 % within 1 point of dense: {verdict(met)} "
            f"({loss:.2f} points below dense)."
        )
    return lines


def quality(q: Payload) -> Section:
    by = {(r["method"], r["sparsity"]): r for r in q["results"]}
    rows = [
        (s, by[("shears", s)], by[("tfmot", s)])
        for s in sorted({s for _, s in by})
        if ("shears", s) in by and ("tfmot", s) in by
    ]
    lines = [_quality_setup(q), ""]
    lines += table(
        ["target sparsity", "Shears acc. %", "tfmot acc. %", "Δ points", "achieved sparsity"],
        [
            [
                sparsity(s),
                _accuracy(shears),
                _accuracy(tfmot),
                points(100 * (shears["mean"] - tfmot["mean"])),
                _achieved(shears, tfmot),
            ]
            for s, shears, tfmot in rows
        ],
    )
    goal_lines = _quality_goals(q.get("goals", {}), rows)
    lines += [
        "",
        f"- Dense reference ({q['dense_is']}): {_accuracy(q['dense'])} %; "
        f"the baseline before fine-tuning: {percent(q['baseline']['accuracy'])} %.",
        *[f"- {line}" for line in goal_lines],
        "",
    ]
    shortfalls = [f"Accuracy: {line}" for line in goal_lines if "not met" in line]
    return Section(lines, shortfalls)


def _comparison_row(c: Payload) -> list[Any]:
    clear = {True: "yes", False: "no", None: "one seed"}[c.get("clear")]
    return [
        sparsity(c["sparsity"]),
        count(c["large_sparse_nonzero"]),
        count(c["small_dense_params"]),
        percent(c["large_sparse_accuracy"]),
        percent(c["small_dense_accuracy"]),
        points(c["large_minus_small_points"]),
        f"{c['seed_spread_points']:.2f}",
        clear,
    ]


def large_sparse(result: Payload) -> Section:
    budget = result["budget"]
    lines = [
        "Zhu & Gupta's claim: at equal nonzero parameters, a large pruned model beats a small "
        f"dense one. {result['model']}; every model trained {budget['dense_steps']} dense "
        f"steps, then fine-tuned {budget['fine_tune']['steps']} steps by Shears (the large one "
        f"pruned, the small ones at sparsity 0); seeds {listing(result['seeds'])}.",
        "",
        *table(
            [
                "sparsity",
                "large-sparse nonzero",
                "small-dense params",
                "large-sparse acc. %",
                "small-dense acc. %",
                "difference (points)",
                "seed spread (points)",
                "beyond spread",
            ],
            [_comparison_row(c) for c in result["comparisons"]],
        ),
        "",
        result["conclusion"],
        "",
    ]
    unclear = [sparsity(c["sparsity"]) for c in result["comparisons"] if c.get("clear") is False]
    shortfalls = (
        [
            "Large-sparse vs small-dense is inconclusive here: at "
            f"{listing(unclear, ' and ')} the difference lies within the seeds' spread."
        ]
        if unclear
        else []
    )
    return Section(lines, shortfalls)
