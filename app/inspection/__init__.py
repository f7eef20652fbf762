"""Checks the API runs on untrusted uploads before any TensorFlow runtime sees them.

Nothing here imports tensorflow or keras: SavedModels are read from their protobufs (with the
protos the `tensorboard` package ships), .keras files from their JSON config and HDF5 weights,
datasets from their .npy headers.
"""

from app.inspection.archive_members import ExtractLimits
from app.inspection.archives import extract_archive, find_saved_model_root, safe_extract
from app.inspection.dataset_fit import check_dataset_fits
from app.inspection.datasets import describe_dataset
from app.inspection.descriptions import DatasetDescription, ModelDescription
from app.inspection.errors import UploadRejected
from app.inspection.models import inspect_model_upload

__all__ = [
    "DatasetDescription",
    "ExtractLimits",
    "ModelDescription",
    "UploadRejected",
    "check_dataset_fits",
    "describe_dataset",
    "extract_archive",
    "find_saved_model_root",
    "inspect_model_upload",
    "safe_extract",
]
