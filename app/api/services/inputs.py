"""Models and datasets, the inputs of jobs: checked uploads stored as blobs, deleted with them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.downloads import safe_filename
from app.api.errors import ApiError
from app.api.services.ownership import KINDS, get_owned
from app.api.services.quotas import check_storage_quota, lock_tenant_storage
from app.api.storable_text import PROBLEM, unstorable_location
from app.api.uploads import ReceivedUpload
from app.core.db.models import ACTIVE_STATUSES, Blob, Dataset, Job, Model
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.inspection import (
    DatasetDescription,
    ExtractLimits,
    ModelDescription,
    check_dataset_fits,
    describe_dataset,
    inspect_model_upload,
)
from worker.pruning.contract.training_config import TrainingConfig

Input = TypeVar("Input", Model, Dataset)

CONTAINER_SUFFIXES = {"zip": ".zip", "tar.gz": ".tar.gz", "keras": ".keras"}


def storable_description(described: ModelDescription | DatasetDescription) -> dict[str, Any]:
    """The description as stored; a 422 when a name read from the file cannot be stored."""
    data = described.to_dict()
    where = unstorable_location(data)
    if where is not None:
        raise ApiError(
            422,
            "unstorable_name",
            f"a name in the uploaded file ({where}) {PROBLEM}; rename it and save the file again",
        )
    return data


def _display_name(upload: ReceivedUpload, suffixes: tuple[str, ...]) -> str:
    given = upload.fields.get("name", "").strip()
    if given:
        return given[:200]
    base = PurePosixPath(upload.filename.replace("\\", "/")).name
    base = "".join(char for char in base if char.isprintable())  # no NUL or control characters
    for suffix in suffixes:
        base = base.removesuffix(suffix)
    return base[:200] or "unnamed"


def store_model(
    session: Session, tenant_id: str, upload: ReceivedUpload, settings: Settings
) -> Model:
    described = inspect_model_upload(
        upload.path,
        upload.workdir / "inspect",
        ExtractLimits.from_settings(settings),
        upload.filename,
    )
    description = storable_description(described)
    return _store(
        session,
        tenant_id,
        upload,
        settings,
        lambda blob: Model(
            tenant_id=tenant_id,
            name=_display_name(upload, tuple(CONTAINER_SUFFIXES.values()) + (".tgz",)),
            format=described.format,
            container=described.container,
            blob_id=blob.id,
            size_bytes=blob.size_bytes,
            sha256=blob.sha256,
            description=description,
        ),
    )


def store_dataset(
    session: Session, tenant_id: str, upload: ReceivedUpload, settings: Settings
) -> Dataset:
    description = storable_description(describe_dataset(upload.path, settings.max_extracted_bytes))
    return _store(
        session,
        tenant_id,
        upload,
        settings,
        lambda blob: Dataset(
            tenant_id=tenant_id,
            name=_display_name(upload, (".npz",)),
            blob_id=blob.id,
            size_bytes=blob.size_bytes,
            sha256=blob.sha256,
            description=description,
        ),
    )


def _store(
    session: Session,
    tenant_id: str,
    upload: ReceivedUpload,
    settings: Settings,
    row_for: Callable[[Blob], Input],
) -> Input:
    """Within the tenant's quota, the upload's bytes as a blob and the row that points at it,
    committed together."""
    lock_tenant_storage(session, tenant_id)
    check_storage_quota(session, tenant_id, upload.size_bytes, settings)
    store = BlobStore(session, settings.blob_chunk_bytes)
    blob = store.put_file(upload.path, tenant_id, upload.sha256)
    row = row_for(blob)
    session.add(row)
    session.commit()
    return row


def delete_input(
    session: Session,
    table: type[Input],
    tenant_id: str,
    resource_id: str,
    settings: Settings,
) -> None:
    """The row and its blob; a 409 while a queued or running job uses it."""
    row = get_owned(session, table, tenant_id, resource_id, lock=True)
    column = Job.model_id if table is Model else Job.dataset_id
    active = session.scalars(
        select(Job.id).where(column == row.id, Job.status.in_(ACTIVE_STATUSES))
    ).all()
    if active:
        kind = KINDS[table]
        raise ApiError(
            409,
            f"{kind}_in_use",
            f"{kind} {row.id} is used by queued or running jobs {', '.join(active)}; "
            "cancel them or wait for them to finish",
            {"jobs": list(active)},
        )
    blob_id = row.blob_id
    session.delete(row)
    session.flush()
    BlobStore(session, settings.blob_chunk_bytes).delete(blob_id)
    session.commit()


def check_data_fits_model(model: Model, dataset: Dataset, training: TrainingConfig) -> int:
    """422 unless the data fits the model's signature; else the rows that training steps over."""
    return check_dataset_fits(
        ModelDescription.from_dict(model.description),
        DatasetDescription.from_dict(dataset.description),
        training.signature,
        training.loss,
        training.validation_split,
    )


def model_filename(model: Model) -> str:
    return safe_filename(model.name, CONTAINER_SUFFIXES[model.container])


def dataset_filename(dataset: Dataset) -> str:
    return safe_filename(dataset.name, ".npz")
