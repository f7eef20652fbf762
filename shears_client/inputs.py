"""Command-line values that carry JSON: inline, or `@file.json`; hparams may also be the contrib
string form (`target_sparsity=0.9,do_not_prune=[conv1]`), which the API parses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shears_client.errors import ShearsError


def read_option_text(value: str, option: str) -> str:
    """The value itself, or the contents of the file it names with a leading `@`."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShearsError("bad_option", f"{option}: cannot read {path}: {exc.strerror}") from None


def parse_json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ShearsError(
            "bad_option",
            f"{option} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        ) from None
    if not isinstance(value, dict):
        raise ShearsError(
            "bad_option", f"{option} must be a JSON object, such as '{{\"epochs\": 2}}'"
        )
    return value


def parse_hparams_option(value: str | None) -> str | dict[str, Any] | None:
    """A JSON object as a dict; anything else is the contrib string, passed on for the API."""
    if value is None:
        return None
    text = read_option_text(value, "--hparams").strip()
    if not text:
        return None
    return parse_json_object(text, "--hparams") if text.startswith("{") else text


def parse_training_option(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    text = read_option_text(value, "--training").strip()
    return parse_json_object(text, "--training") if text else None
