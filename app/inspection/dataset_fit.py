"""Does a described dataset fit a described model? The engine's rule book
(`worker.pruning.contract.model_rules`) applied to what the uploads' descriptions say, when a job
is created: a mismatch is a 422 then, never a failed job an hour later."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.inspection.descriptions import DatasetDescription, ModelDescription
from app.inspection.errors import UploadRejected
from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import ArrayFacts, check_data_fits
from worker.pruning.contract.signatures import Signature, check_signature


@contextmanager
def refusals_as_422() -> Iterator[None]:
    try:
        yield
    except PruningError as exc:
        raise UploadRejected(422, exc.code, exc.message, exc.details) from exc


def check_dataset_fits(
    model: ModelDescription,
    data: DatasetDescription,
    signature: str,
    loss: str,
    validation_split: float,
) -> int:
    """The rows a job trains on; a 422 unless the data fits the signature."""
    signatures = {name: Signature.from_json(spec) for name, spec in model.signatures.items()}
    with refusals_as_422():
        chosen = check_signature(signatures, signature)
        arrays = {key: ArrayFacts.from_json(facts) for key, facts in data.arrays.items()}
        return check_data_fits(chosen, arrays, loss, validation_split)
