"""The FastAPI application: `uvicorn --factory app.api.main:create_app` (migrations run first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.body_limit import MAX_JSON_BODY_BYTES, BodySizeLimitMiddleware
from app.api.errors import install_error_handlers
from app.api.prometheus import MetricsMiddleware, new_registry
from app.api.routers import api_router
from app.api.uploads import remove_stale_uploads
from app.core.db.session import get_engine
from app.core.settings import get_settings
from app.ui.router import mount_ui
from app.ui.security import UiSecurityHeadersMiddleware

DESCRIPTION = (
    "Pruning as a service: upload a TensorFlow model and an .npz dataset, submit a job with "
    "gradual magnitude pruning hyperparameters, follow it, and download the pruned SavedModel. "
    "Every /v1 call needs `Authorization: Bearer <api key>`; errors are "
    '`{"error": {"code", "message", "details"}}`.'
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    uploads_dir = get_settings().data_dir / "uploads"
    uploads_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_uploads(uploads_dir)
    yield
    if get_engine.cache_info().currsize:
        get_engine().dispose()


def create_app() -> FastAPI:
    app = FastAPI(
        title="Shears",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Operation ids are the routes' names: what generated clients call their functions.
        generate_unique_id_function=lambda route: route.name,
    )
    registry, http_metrics = new_registry()
    app.state.metrics_registry = registry
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=MAX_JSON_BODY_BYTES,
        streamed_paths=frozenset({"/v1/models", "/v1/datasets"}),
    )
    app.add_middleware(MetricsMiddleware, metrics=http_metrics)
    app.add_middleware(UiSecurityHeadersMiddleware)
    install_error_handlers(app)
    app.include_router(api_router)
    mount_ui(app)
    return app
