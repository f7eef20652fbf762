"""Scalars in a request, read as JSON means them. Pydantic's lax mode would read `false` as the
number 0 and `1` as true, so a slip like `"begin_pruning_step": false` would quietly become a
setting."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict
from pydantic_core import PydanticCustomError


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


Int = Annotated[int, BeforeValidator(_not_a_boolean)]
Float = Annotated[float, BeforeValidator(_not_a_boolean)]
Bool = Annotated[bool, Strict()]
