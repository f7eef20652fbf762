"""A sweep's report.png, drawn in the API process from its jobs' stored metrics: accuracy and
loss against target sparsity, the unpruned baseline as a dashed line, the recommendation marked."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from app.api.schemas.sweeps import SweepOut


def render_sweep_report(sweep: SweepOut) -> bytes:
    done = [row for row in sweep.table if row.status == "succeeded"]
    figure = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(figure)
    accuracy_ax, loss_ax = figure.subplots(2, 1, sharex=True)
    for ax, key, label in ((accuracy_ax, "accuracy", "accuracy"), (loss_ax, "loss", "loss")):
        points = [(row.target_sparsity, getattr(row, key)) for row in done]
        points = [(x, y) for x, y in points if y is not None]
        ax.plot([x for x, _ in points], [y for _, y in points], "o-", label=f"pruned {label}")
        base = getattr(sweep.baseline, key, None) if sweep.baseline else None
        if base is not None:
            ax.axhline(base, linestyle="--", color="gray", label=f"unpruned {label}")
        ax.set_ylabel(f"validation {label}")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    best = next((row for row in done if row.job_id == sweep.recommended), None)
    if best is not None and best.accuracy is not None:
        accuracy_ax.plot(
            [best.target_sparsity], [best.accuracy], "*", markersize=16, label="recommended"
        )
        accuracy_ax.legend(loc="best")
    loss_ax.set_xlabel("target sparsity")
    loss_ax.set_xlim(-0.02, 1.0)
    figure.suptitle(f"sweep {sweep.name or sweep.id}: {len(done)} of {len(sweep.table)} jobs done")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
