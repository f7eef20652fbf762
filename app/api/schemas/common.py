"""Schemas every resource shares: lists, times, and the error envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")


def _to_utc(value: datetime) -> datetime:
    # Postgres hands back times in the session's time zone; the API always speaks UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def inline_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written in place: a `#/$defs/...` ref
    inside a field's schema points nowhere once FastAPI moves it under components."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                rest = {key: value for key, value in node.items() if key != "$ref"}
                return resolve({**defs[ref.removeprefix("#/$defs/")], **rest})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="How many items match, across all pages.")


class TensorSpec(BaseModel):
    shape: list[int | None] | None = Field(description="None for an unknown dimension or rank.")
    dtype: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["job_not_found"])
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's error statuses, all in the envelope."""
    return {status: {"model": ErrorEnvelope} for status in (401, *statuses)}


def created_links(
    status: int, path_param: str, operations: tuple[str, ...], job_field: str | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from a creating operation's response to the operations that take the new
    id: as the path parameter `path_param`, and (for models and datasets) as `job_field` of a
    job submission. Clients and fuzzers follow them."""
    new_id = "$response.body#/id"
    links: dict[str, Any] = {
        op: {"operationId": op, "parameters": {path_param: new_id}} for op in operations
    }
    if job_field is not None:
        links["submit_job"] = {"operationId": "submit_job", "requestBody": {job_field: new_id}}
    return {status: {"links": links}}
