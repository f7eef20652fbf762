"""What goes wrong on the client side, reported as one line (`code: message`), never a traceback."""

from __future__ import annotations

from typing import Any

import httpx


class ShearsError(Exception):
    """A failure the user can act on: a bad option, a missing file, an unreachable service."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def one_line(self) -> str:
        return " ".join(f"{self.code}: {self.message}".split())


class ShearsApiError(ShearsError):
    """The API answered 4xx/5xx; carries its error envelope (API.md, "Errors")."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(code, message)
        self.status = status
        self.details = details

    @classmethod
    def from_response(cls, response: httpx.Response) -> ShearsApiError:
        """Read `{"error": {code, message, details}}`, or describe a body that is not one."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "message" in error:
            return cls(
                response.status_code,
                str(error.get("code") or f"http_{response.status_code}"),
                str(error["message"]),
                error.get("details"),
            )
        # Not our envelope: a proxy's page or a server that is not Shears.
        text = " ".join(response.text.split())[:200]
        reason = response.reason_phrase or "error"
        message = f"HTTP {response.status_code} {reason}" + (f": {text}" if text else "")
        return cls(response.status_code, f"http_{response.status_code}", message)
