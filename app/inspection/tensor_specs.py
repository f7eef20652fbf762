"""Shapes and dtypes as the API shows them: shape a list with None for an unknown dimension (or
None for an unknown rank), dtype a numpy-style name such as "float32"."""

from __future__ import annotations

from typing import Any

from tensorboard.compat.proto import types_pb2

Shape = list[int | None] | None

_IRREGULAR_DTYPES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_HALF": "float16"}


def dtype_name(enum_value: int) -> str:
    try:
        name = types_pb2.DataType.Name(enum_value)
    except ValueError:
        return f"unknown_{enum_value}"
    name = name.removesuffix("_REF")
    return _IRREGULAR_DTYPES.get(name, name.removeprefix("DT_").lower())


def shape_from_proto(shape: Any) -> Shape:
    if shape.unknown_rank:
        return None
    return [d.size if d.size >= 0 else None for d in shape.dim]


def tensor_spec(shape: Shape, dtype: str) -> dict[str, Any]:
    return {"shape": shape, "dtype": dtype}


def element_count(shape: Shape) -> int:
    """Number of elements; 0 when a dimension is unknown."""
    if shape is None:
        return 0
    count = 1
    for dim in shape:
        if dim is None:
            return 0
        count *= dim
    return count


def format_shape(shape: Shape) -> str:
    if shape is None:
        return "(any shape)"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
