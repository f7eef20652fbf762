"""Uploaded models as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Row

from app.api.schemas.common import TensorSpec, UtcDatetime
from app.core.db.models import Model


class Signature(BaseModel):
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]


class PrunableWeight(BaseModel):
    name: str = Field(description="Use it in do_not_prune and weight_sparsity_map.")
    shape: list[int]
    params: int


class ModelOut(BaseModel):
    id: str
    name: str
    format: Literal["saved_model", "keras"]
    container: Literal["zip", "tar.gz", "keras"] = Field(description="How the upload was packed.")
    size_bytes: int
    sha256: str
    created_at: UtcDatetime
    signatures: dict[str, Signature]
    prunable: list[PrunableWeight]
    params_total: int
    params_prunable: int

    @classmethod
    def from_row(cls, row: Model | Row[Any]) -> ModelOut:
        described = row.description
        return cls(
            id=row.id,
            name=row.name,
            format=row.format,  # type: ignore[arg-type]
            container=row.container,  # type: ignore[arg-type]
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            created_at=row.created_at,
            signatures=described["signatures"],
            prunable=described["prunable"],
            params_total=described["params_total"],
            params_prunable=described["params_prunable"],
        )
