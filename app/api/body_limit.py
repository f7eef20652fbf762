"""A cap on request bodies outside the upload routes (which stream to disk with their own cap):
a job request is a few kilobytes of JSON, and a huge one must not be read into memory."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import ApiError

MAX_JSON_BODY_BYTES = 1024 * 1024


def _message(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, streamed_paths: frozenset[str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed_paths = streamed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") in self.streamed_paths:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = ApiError(413, "payload_too_large", _message(self.max_bytes))
            await error.response()(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Starlette's HTTPException passes through FastAPI's body parsing as itself.
                    raise HTTPException(413, _message(self.max_bytes))
            return message

        await self.app(scope, receive_within_limit, send)
