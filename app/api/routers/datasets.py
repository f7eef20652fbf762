"""/v1/datasets: upload an .npz of training data, read its description, download it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.auth import CurrentTenant
from app.api.deps import (
    DbSession,
    IfNoneMatch,
    PageParams,
    SessionReleasingRoute,
    SettingsDep,
)
from app.api.downloads import binary_response, blob_response
from app.api.schemas.common import ListResponse, created_links, error_responses
from app.api.schemas.datasets import DatasetOut
from app.api.services.inputs import dataset_filename, delete_input, store_dataset
from app.api.services.ownership import get_owned, list_owned
from app.api.services.quotas import precheck_storage_quota
from app.api.uploads import multipart_openapi, receive_upload
from app.core.db.models import Dataset

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], route_class=SessionReleasingRoute)

UPLOAD_DOC = (
    "An .npz with x_train and y_train, optionally x_val and y_val (x_train__<input> for a model "
    "with several inputs); loaded without pickles."
)


@router.post(
    "",
    status_code=201,
    summary="Upload a dataset",
    openapi_extra=multipart_openapi(UPLOAD_DOC),
    responses={
        **error_responses(400, 413, 415, 422, 429),
        **created_links(
            201, "dataset_id", ("get_dataset", "download_dataset", "delete_dataset"), "dataset_id"
        ),
    },
)
async def upload_dataset(
    request: Request, tenant: CurrentTenant, db: DbSession, settings: SettingsDep
) -> DatasetOut:
    await run_in_threadpool(precheck_storage_quota, db, tenant.id, settings)
    async with receive_upload(request, settings) as upload:
        dataset = await run_in_threadpool(store_dataset, db, tenant.id, upload, settings)
    return DatasetOut.from_row(dataset)


@router.get("", summary="List datasets", responses=error_responses(422))
def list_datasets(
    tenant: CurrentTenant, db: DbSession, page: PageParams
) -> ListResponse[DatasetOut]:
    rows, count = list_owned(db, Dataset, tenant.id, page.limit, page.offset)
    return ListResponse(data=[DatasetOut.from_row(row) for row in rows], count=count)


@router.get("/{dataset_id}", summary="Get a dataset", responses=error_responses(404))
def get_dataset(dataset_id: str, tenant: CurrentTenant, db: DbSession) -> DatasetOut:
    return DatasetOut.from_row(get_owned(db, Dataset, tenant.id, dataset_id))


@router.get(
    "/{dataset_id}/download",
    summary="Download the uploaded .npz",
    response_class=Response,
    responses={**binary_response("application/octet-stream"), **error_responses(404)},
)
def download_dataset(
    dataset_id: str,
    tenant: CurrentTenant,
    db: DbSession,
    if_none_match: IfNoneMatch = None,
) -> Response:
    dataset = get_owned(db, Dataset, tenant.id, dataset_id)
    return blob_response(db, dataset.blob_id, dataset_filename(dataset), if_none_match)


@router.delete(
    "/{dataset_id}",
    status_code=204,
    summary="Delete a dataset and its stored file",
    response_class=Response,
    responses=error_responses(404, 409),
)
def delete_dataset(
    dataset_id: str, tenant: CurrentTenant, db: DbSession, settings: SettingsDep
) -> Response:
    """409 while a queued or running job uses it; finished jobs keep their results."""
    delete_input(db, Dataset, tenant.id, dataset_id, settings)
    return Response(status_code=204)
