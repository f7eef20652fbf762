"""/v1/models: upload a SavedModel archive or .keras file, read its description, download it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.auth import CurrentTenant, SentApiKey
from app.api.deps import (
    DbSession,
    IfNoneMatch,
    PageParams,
    ReadDbSession,
    SessionReleasingRoute,
    SettingsDep,
)
from app.api.downloads import binary_response, blob_response
from app.api.json_body import json_response
from app.api.schemas.common import ListResponse, created_links, error_responses
from app.api.schemas.models import ModelOut
from app.api.services.inputs import delete_input, model_filename, store_model
from app.api.services.ownership import get_owned, read_owned_by_key, read_owned_page
from app.api.services.quotas import precheck_storage_quota
from app.api.uploads import multipart_openapi, receive_upload
from app.core.db.models import Model

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=SessionReleasingRoute)

UPLOAD_DOC = (
    "A .zip or .tar.gz of a SavedModel directory (files at the root or in one top-level folder), "
    "or a Keras 3 .keras file."
)


@router.post(
    "",
    status_code=201,
    summary="Upload a model",
    openapi_extra=multipart_openapi(UPLOAD_DOC),
    responses={
        **error_responses(400, 413, 415, 422, 429),
        **created_links(
            201, "model_id", ("get_model", "download_model", "delete_model"), "model_id"
        ),
    },
)
async def upload_model(
    request: Request, tenant: CurrentTenant, db: DbSession, settings: SettingsDep
) -> ModelOut:
    """Streamed to disk with a size cap, hashed, checked (archive safety, op allow-list,
    signatures) and stored. A bad file is rejected with the reason, and nothing is kept."""
    await run_in_threadpool(precheck_storage_quota, db, tenant.id, settings)
    async with receive_upload(request, settings) as upload:
        model = await run_in_threadpool(store_model, db, tenant.id, upload, settings)
    return ModelOut.from_row(model)


@router.get(
    "",
    summary="List models",
    response_model=ListResponse[ModelOut],
    responses=error_responses(422),
)
def list_models(tenant: CurrentTenant, db: ReadDbSession, page: PageParams) -> Response:
    rows, count = read_owned_page(db, Model, tenant.id, page.limit, page.offset)
    return json_response(ListResponse(data=[ModelOut.from_row(row) for row in rows], count=count))


@router.get(
    "/{model_id}",
    summary="Get a model",
    response_model=ModelOut,
    responses=error_responses(404),
)
def get_model(model_id: str, key: SentApiKey, db: ReadDbSession) -> Response:
    return json_response(ModelOut.from_row(read_owned_by_key(db, Model, key, model_id)))


@router.get(
    "/{model_id}/download",
    summary="Download the uploaded file",
    response_class=Response,
    responses={**binary_response("application/zip", "application/gzip"), **error_responses(404)},
)
def download_model(
    model_id: str,
    tenant: CurrentTenant,
    db: DbSession,
    if_none_match: IfNoneMatch = None,
) -> Response:
    model = get_owned(db, Model, tenant.id, model_id)
    return blob_response(db, model.blob_id, model_filename(model), if_none_match)


@router.delete(
    "/{model_id}",
    status_code=204,
    summary="Delete a model and its stored file",
    response_class=Response,
    responses=error_responses(404, 409),
)
def delete_model(
    model_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep
) -> Response:
    """409 while a queued or running job uses it; finished jobs keep their results."""
    delete_input(db, Model, tenant.id, model_id, settings)
    return Response(status_code=204)
