"""Text that Postgres cannot store: a NUL character (text and JSONB refuse it) or an unpaired
surrogate (not encodable as UTF-8). Found in user input before it reaches a query, so the user
gets a 4xx that names the field instead of a database error."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationInfo, field_validator

PROBLEM = "contains a NUL character or invalid Unicode (an unpaired surrogate)"


def is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_location(value: Any, where: str = "") -> str | None:
    """The path (e.g. `hparams.do_not_prune[2]`) of the first unstorable key or string in a JSON
    value, or None when every string can be stored."""
    if isinstance(value, str):
        return None if is_storable(value) else where or "value"
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and not is_storable(key):
                return f"{where or 'object'} (a key)"
            found = unstorable_location(item, path)
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable_location(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def storable_fields(*fields: str) -> Any:
    """A pydantic validator refusing, with the path of the offending value, any of `fields`
    whose text Postgres cannot store. Use as `_storable = storable_fields("name", ...)`."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        where = unstorable_location(value, info.field_name or "")
        if where is not None:
            raise ValueError(f"{where} {PROBLEM}")
        return value

    return field_validator(*fields)(check)
