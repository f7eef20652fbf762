"""Operations: liveness, readiness (Postgres, Redis, schema at head) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.errors import ApiError
from app.api.readiness import readiness
from app.api.schemas.common import ErrorEnvelope

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process serves")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Postgres and Redis answer and the schema is at the migrations' head",
    responses={503: {"model": ErrorEnvelope}},
)
def readyz() -> dict[str, str]:
    checks = readiness()
    failing = {name: state for name, state in checks.items() if state != "ok"}
    if failing:
        summary = "; ".join(f"{name}: {state}" for name, state in failing.items())
        raise ApiError(503, "not_ready", f"not ready: {summary}", checks)
    return {"status": "ready", **checks}


@router.get(
    "/metrics",
    name="prometheus_metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST
    )
