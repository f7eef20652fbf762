"""What every README result section shares: its shape, Markdown tables and number styles.

Numbers are only ever rounded here, never made up: every formatter takes a value that a
result file holds (or a ratio of two such values, which the caller labels as one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Payload = dict[str, Any]


@dataclass
class Section:
    """One benchmark's Markdown lines, and what it found short of its goals or worth a caveat."""

    lines: list[str]
    shortfalls: list[str] = field(default_factory=list)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + [
        "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows
    ]


def percent(fraction: float, digits: int = 2) -> str:
    """0.991643 -> '99.16' (the column or sentence says it is a percentage)."""
    return f"{100 * fraction:.{digits}f}"


def sparsity(fraction: float) -> str:
    """A target sparsity: 0.75 -> '75 %', 0.900001 -> '90 %'."""
    return f"{100 * fraction:.4g} %"


def points(value: float) -> str:
    """A signed difference in percentage points: 0.371 -> '+0.37'."""
    return f"{value:+.2f}"


def ms(value: float) -> str:
    """Milliseconds: one decimal below 100, whole (with thousands separators) above."""
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.3f}"


def times(value: float) -> str:
    """A speed-up or slow-down factor: 25.08 -> '25×', 1.555 -> '1.6×'."""
    return f"{value:.0f}×" if value >= 10 else f"{value:.1f}×"


def count(value: int | float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def declared_goals(part: Payload) -> list[tuple[str, bool]]:
    """A `goals` object's verdicts: `{"name": true}` or `{"name": {"goal": "...", "met": true}}`;
    other entries (the numbers behind a verdict) are left to the section that knows them."""
    verdicts = []
    for name, value in part.get("goals", {}).items():
        if isinstance(value, dict) and isinstance(value.get("met"), bool):
            verdicts.append((str(value.get("goal", name.replace("_", " "))), value["met"]))
        elif isinstance(value, bool):
            verdicts.append((name.replace("_", " "), value))
    return verdicts


def listing(values: Sequence[Any], last: str = ", ") -> str:
    """'1, 2, 3', or with `last=" and "`: '1, 2 and 3'."""
    words = [str(v) for v in values]
    return last.join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)
