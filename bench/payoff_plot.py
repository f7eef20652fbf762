"""bench/results/payoff.png: pruned/dense ratios of file size and latency against sparsity, one
line per model and block shape, for each TFLite export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

from bench.plots import LINE_STYLES, MARKERS  # noqa: E402

PANELS = (("size_ratio", "file size, pruned / dense"), ("latency_ratio", "latency, pruned / dense"))
EXPORT_TITLES = {"tflite": "float TFLite", "tflite_int8": "int8 TFLite"}


def payoff_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    figure, axes = plt.subplots(2, 2, figsize=(10, 7.5), dpi=100, sharex=True)
    lines = sorted({(r["model"], r["blocks"]) for r in rows})
    for row_axes, (export, title) in zip(axes, EXPORT_TITLES.items(), strict=True):
        for ax, (key, label) in zip(row_axes, PANELS, strict=True):
            for i, (model, blocks) in enumerate(lines):
                points = sorted(
                    (r["sparsity"], r["exports"][export].get(key))
                    for r in rows
                    if (r["model"], r["blocks"]) == (model, blocks)
                )
                points = [(x, y) for x, y in points if y is not None]
                ax.plot(
                    [x for x, _ in points],
                    [y for _, y in points],
                    marker=MARKERS[i % len(MARKERS)],
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                    label=f"{model}, {blocks}",
                )
            ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
            ax.set_title(f"{title}: {label}", fontsize=10)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("target sparsity")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
