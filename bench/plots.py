"""The README's plots: accuracy lines with one-standard-deviation error bars, as PNG files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402

# Lines that coincide stay distinguishable.
MARKERS = ("o", "s", "^", "D")
LINE_STYLES = ("-", "--", "-.")


@dataclass(frozen=True)
class Series:
    label: str
    x: list[float]
    mean: list[float]  # accuracies as fractions; drawn in percent
    std: list[float]


def series_by_method(rows: list[dict], methods: tuple[str, ...]) -> list[Series]:
    """One line per method from rows holding `method`, `sparsity`, `mean` and `std`."""
    lines = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        lines.append(
            Series(
                method,
                [r["sparsity"] for r in mine],
                [r["mean"] for r in mine],
                [r["std"] for r in mine],
            )
        )
    return lines


def accuracy_plot(
    path: Path,
    title: str,
    xlabel: str,
    series: list[Series],
    references: dict[str, float] | None = None,
    log_x: bool = False,
) -> Path:
    """One line per series; each reference (label: accuracy) as a horizontal dashed line."""
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for i, line in enumerate(series):
        axes.errorbar(
            line.x,
            [100 * m for m in line.mean],
            yerr=[100 * s for s in line.std],
            marker=MARKERS[i % len(MARKERS)],
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            capsize=3,
            label=line.label,
        )
    for i, (label, accuracy) in enumerate((references or {}).items()):
        axes.axhline(100 * accuracy, linestyle=":", color=f"C{len(series) + i}", label=label)
    if log_x:
        axes.set_xscale("log")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("test accuracy (%)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
