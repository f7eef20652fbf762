"""report.png: target and achieved sparsity and the loss against step, from progress events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _series(progress: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    points = [
        (p["step"], p[key])
        for p in progress
        if p.get("step") is not None and isinstance(p.get(key), int | float)
    ]
    return [float(s) for s, _ in points], [float(v) for _, v in points]


def render_report(progress: Sequence[dict[str, Any]], dest: Path, title: str) -> Path:
    """Two panels sharing the step axis; an empty history still gives a (labelled) image."""
    figure = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(figure)
    sparsity_ax, loss_ax = figure.subplots(2, 1, sharex=True)
    for key, label, style in (
        ("target_sparsity", "target sparsity", "--"),
        ("achieved_sparsity", "achieved sparsity", "-"),
    ):
        sparsity_ax.plot(*_series(progress, key), style, label=label)
    sparsity_ax.set_ylabel("sparsity")
    sparsity_ax.set_ylim(0, 1)
    sparsity_ax.legend(loc="lower right")
    sparsity_ax.grid(alpha=0.3)
    loss_ax.plot(*_series(progress, "loss"), color="tab:red")
    loss_ax.set_ylabel("training loss")
    loss_ax.set_xlabel("step")
    loss_ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.savefig(dest, format="png")
    return dest


def render_sensitivity_report(metrics: dict[str, Any], dest: Path, title: str) -> Path:
    """A sensitivity job's accuracy against sparsity, one line per prunable weight, with the
    unpruned baseline dashed."""
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    for layer in metrics.get("layers") or []:
        points = [
            (r["sparsity"], r["accuracy"])
            for r in layer.get("results") or []
            if isinstance(r.get("sparsity"), int | float)
            and isinstance(r.get("accuracy"), int | float)
        ]
        ax.plot([s for s, _ in points], [a for _, a in points], "o-", label=str(layer.get("name")))
    baseline = (metrics.get("baseline") or {}).get("accuracy")
    if isinstance(baseline, int | float):
        ax.axhline(baseline, linestyle="--", color="gray", label="unpruned")
    ax.set_xlabel("sparsity of that weight alone (magnitude, no fine-tuning)")
    ax.set_ylabel("validation accuracy")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    figure.suptitle(title)
    figure.savefig(dest, format="png")
    return dest
