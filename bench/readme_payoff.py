"""The README's TFLite payoff section (bench/payoff.py): pruned/dense file size and latency of
each export, the accuracy of each file, and the goal row against its limits."""

from __future__ import annotations

from typing import Any

from bench.readme_format import Payload, Section, percent, sparsity, table

EXPORT_NAMES = {"tflite": "float", "tflite_int8": "int8"}


def _cells(export: dict[str, Any]) -> list[str]:
    if "error" in export:
        return ["failed", "", "", ""]
    return [
        f"{export['size_ratio']:.2f}",
        f"{export['latency_ratio']:.2f}",
        percent(export["accuracy"]),
        f"{export['sparse_tensors']} of {export['sparse_tensors'] + export['dense_tensors']}",
    ]


def _goal_lines(goal: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    if goal is None:
        return [], ["TFLite payoff: the goal row was not measured."]
    measured, limits, met = goal["measured"], goal["limits"], goal["met"]
    labels = {
        "latency_ratio": "float latency pruned/dense",
        "size_ratio": "float file pruned/dense",
        "float_points": "float file accuracy, points from the pruned SavedModel",
        "int8_points": "int8 file accuracy, points from the pruned SavedModel",
    }
    parts = [
        f"{labels[k]} {measured[k]:.3g} (goal <= {limits[k]:g}: {'met' if met[k] else 'missed'})"
        for k in labels
    ]
    shortfalls = [
        f"TFLite payoff, {goal['row']}: {labels[k]} {measured[k]:.3g}, over the goal of "
        f"{limits[k]:g}."
        for k in labels
        if not met[k]
    ]
    return [f"Goal row ({goal['row']}): " + "; ".join(parts) + ".", ""], shortfalls


def payoff(s: Payload) -> Section:
    rows = []
    for r in s["rows"]:
        for name, label in EXPORT_NAMES.items():
            rows.append(
                [
                    r["model"],
                    r["blocks"],
                    sparsity(r["sparsity"]),
                    label,
                    *_cells(r["exports"][name]),
                ]
                + [percent(r["savedmodel_accuracy"])]
            )
    header = ["model", "blocks", "sparsity", "export", "file pruned/dense"]
    header += ["latency pruned/dense", "file accuracy %", "sparse tensors", "SavedModel accuracy %"]
    goal_lines, shortfalls = _goal_lines(s.get("goal"))
    lines = [
        "The TFLite exports of each job against the same export of the dense upload, measured "
        "in one run on the worker (latency: median of single-example runs, one thread, dense "
        "and pruned interleaved). Accuracy is that of each file, run by the TFLite interpreter.",
        "",
        *goal_lines,
        *table(header, rows),
        "",
    ]
    if not s.get("complete", True):
        shortfalls.append("TFLite payoff: the run stopped early; the table shows what it measured.")
    return Section(lines, shortfalls)
