"""A model's signatures as the API and the engine both see them, and the rules a signature must
meet for a job to train through it. Plain Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from worker.pruning.contract.errors import PruningError

Shape = tuple[int | None, ...] | None


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature: shape with None for unknown dims (None: unknown rank)."""

    name: str
    shape: Shape
    dtype: str

    def to_json(self) -> dict[str, Any]:
        return {"shape": None if self.shape is None else list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> TensorInfo:
        shape = data.get("shape")
        return cls(name, None if shape is None else tuple(shape), str(data["dtype"]))


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": {t.name: t.to_json() for t in self.inputs},
            "outputs": {t.name: t.to_json() for t in self.outputs},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signature:
        return cls(
            tuple(TensorInfo.from_json(n, t) for n, t in data["inputs"].items()),
            tuple(TensorInfo.from_json(n, t) for n, t in data["outputs"].items()),
        )


def unknown_signature(name: str | None, available: list[str]) -> PruningError:
    return PruningError(
        "unknown_signature",
        f"the model has no signature {name!r}; its signatures are: "
        f"{', '.join(available) or 'none'}; set training.signature to one of them",
        {"signatures": available},
    )


def check_signature(signatures: Mapping[str, Signature], name: str) -> Signature:
    """The signature a job trains through: it exists and has exactly one output."""
    if name not in signatures:
        raise unknown_signature(name, sorted(signatures))
    signature = signatures[name]
    if len(signature.outputs) != 1:
        raise PruningError(
            "unsupported_model",
            f"signature {name!r} has {len(signature.outputs)} outputs "
            f"({', '.join(o.name for o in signature.outputs)}); Shears fine-tunes models with "
            "one output",
        )
    for spec in signature.inputs:
        if spec.shape and spec.shape[0] is not None:
            raise PruningError(
                "fixed_batch_dimension",
                f"input {spec.name!r} of signature {name!r} has a fixed batch size of "
                f"{spec.shape[0]}; Shears feeds batches of training.batch_size examples (the "
                "last one smaller), so export the model with a None batch dimension",
                {"input": spec.name, "input_shape": list(spec.shape)},
            )
    return signature
