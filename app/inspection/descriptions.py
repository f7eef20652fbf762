"""What an inspected upload is, as the API stores and shows it. Both round-trip through plain
dicts (to_dict/from_dict) so they can live in a JSON column."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# {name: {"inputs": {name: {"shape": [...], "dtype": "float32"}}, "outputs": {...}}}
Signatures = dict[str, dict[str, dict[str, dict[str, Any]]]]


@dataclass
class _JsonRecord:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class ModelDescription(_JsonRecord):
    format: str  # "saved_model" | "keras"
    signatures: Signatures
    prunable: list[dict[str, Any]]  # [{"name", "shape", "params"}]
    params_total: int
    params_prunable: int
    container: str = ""  # "zip" | "tar.gz" | "keras": how the upload was packed
    # {"layer", "message"}: why pruning_unit "channel" cannot trace this .keras model, if so
    channel_refusal: dict[str, str] | None = None


@dataclass
class DatasetDescription(_JsonRecord):
    # {key: {"shape": [...], "dtype": "float32", "min": ..., "max": ...}}; min/max are None for
    # an empty array. They let a job check labels against the model without reading the data.
    arrays: dict[str, dict[str, Any]]
    n_train: int
    n_val: int
