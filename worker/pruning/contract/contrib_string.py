"""contrib's `--pruning_hparams` string form, read into a plain dict for PruningHParams."""

from __future__ import annotations

from typing import Any

from worker.pruning.contract.errors import InvalidConfig


def parse_contrib_string(text: str) -> dict[str, Any]:
    """contrib's `--pruning_hparams` form: `a=1,b=[x,y]` (lists in brackets)."""
    values: dict[str, Any] = {}
    for item in _split_top_level(text):
        if not item.strip():
            continue
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidConfig(
                "invalid_hparams",
                f"{item.strip()!r} is not a key=value pair; write e.g. 'target_sparsity=0.9'",
                [{"field": key or item.strip(), "message": "expected key=value"}],
            )
        raw = raw.strip()
        if raw.startswith("[") and raw.endswith("]"):
            values[key] = [v.strip() for v in raw[1:-1].split(",") if v.strip()]
        elif raw.lower() in ("none", "null"):
            values[key] = None
        else:
            values[key] = raw
    return values


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
