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
