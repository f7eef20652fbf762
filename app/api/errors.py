"""One error type, and one family of handlers that turn every failure into the API's envelope:
`{"error": {"code": ..., "message": ..., "details": ...}}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.inspection import UploadRejected
from worker.pruning.contract.errors import PruningError

log = logging.getLogger(__name__)

HTTP_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "service_unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    @classmethod
    def not_found(cls, kind: str, resource_id: str) -> ApiError:
        return cls(404, f"{kind}_not_found", f"{kind} {resource_id!r} does not exist")

    def response(self) -> JSONResponse:
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def from_validation(exc: RequestValidationError) -> ApiError:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return ApiError(400, "malformed_json", "the request body is not valid JSON")
    fields = [
        {
            "field": ".".join(str(p) for p in err["loc"]),
            "message": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return ApiError(422, "invalid_request", f"invalid request: {summary}", fields)


def from_http_exception(exc: StarletteHTTPException) -> ApiError:
    code = HTTP_STATUS_CODES.get(exc.status_code, "http_error")
    return ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers)


def as_api_error(exc: Exception) -> ApiError:
    """The envelope for any exception; an unknown one is a bug, so a logged 500."""
    match exc:
        case ApiError():
            return exc
        case UploadRejected():
            return ApiError(exc.status, exc.code, exc.message, exc.details)
        case PruningError():
            return ApiError(422, exc.code, exc.message, exc.details)
        case RequestValidationError():
            return from_validation(exc)
        case StarletteHTTPException():
            return from_http_exception(exc)
        case OperationalError() | InterfaceError():
            log.warning("database unavailable: %s", exc)
            return ApiError(
                503,
                "database_unavailable",
                "the database is not answering; retry shortly",
                headers={"Retry-After": "5"},
            )
        case redis.ConnectionError() | redis.TimeoutError():
            log.warning("redis unavailable: %s", exc)
            return ApiError(
                503,
                "redis_unavailable",
                "Redis is not answering; retry shortly",
                headers={"Retry-After": "5"},
            )
    log.exception("unhandled error", exc_info=exc)
    return ApiError(500, "internal_error", "an unexpected error occurred; it has been logged")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document gives `path`: a 405's Allow header (RFC 9110)."""
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    error = as_api_error(exc)
    if error.status == 405:
        allow = ", ".join(allowed_methods(request.app, request.url.path))
        error.headers = {**(error.headers or {}), "Allow": allow}
    return error.response()


def install_error_handlers(app: FastAPI) -> None:
    for exc_type in (
        ApiError,
        UploadRejected,
        PruningError,
        RequestValidationError,
        StarletteHTTPException,
        OperationalError,
        InterfaceError,
        redis.ConnectionError,
        redis.TimeoutError,
        Exception,
    ):
        app.add_exception_handler(exc_type, _handle)
