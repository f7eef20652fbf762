"""The one error the upload checks raise: an HTTP status (413, 415 or 422), a stable code and a
message that tells the user what to fix. The API turns it into its error envelope."""

from __future__ import annotations

from typing import Any

ALLOWED_STATUSES = (413, 415, 422)


class UploadRejected(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        if status not in ALLOWED_STATUSES:
            raise ValueError(f"UploadRejected status must be one of {ALLOWED_STATUSES}")
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"UploadRejected({self.status}, {self.code!r}, {self.message!r})"
