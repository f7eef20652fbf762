"""The engine's one error type: a stable snake_case code and a message a user can act on.

The API maps it to a 422; the trainer's command line prints it as its last JSON line.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class PruningError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


class InvalidConfig(PruningError):
    """hparams or training config that break a rule of PRUNING.md sections 1 and 7."""

    @classmethod
    def from_validation(cls, code: str, what: str, exc: ValidationError) -> InvalidConfig:
        fields = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or what
            message = str(err["msg"]).removeprefix("Value error, ")
            fields.append({"field": field, "message": message})
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return cls(code, f"invalid {what}: {summary}", fields)
