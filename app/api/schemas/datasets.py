"""Uploaded datasets as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import UtcDatetime
from app.core.db.models import Dataset


class ArraySpec(BaseModel):
    shape: list[int]
    dtype: str
    min: float | None = Field(None, description="Smallest value; null for an empty array.")
    max: float | None = Field(None, description="Largest value; null for an empty array.")


class DatasetOut(BaseModel):
    id: str
    name: str
    size_bytes: int
    sha256: str
    created_at: UtcDatetime
    arrays: dict[str, ArraySpec] = Field(description="Every array of the .npz: shape and dtype.")
    n_train: int
    n_val: int = Field(
        description="Rows of x_val; 0 means validation_split of x_train is held out."
    )

    @classmethod
    def from_row(cls, row: Dataset) -> DatasetOut:
        described = row.description
        return cls(
            id=row.id,
            name=row.name,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            created_at=row.created_at,
            arrays=described["arrays"],
            n_train=described["n_train"],
            n_val=described["n_val"],
        )
