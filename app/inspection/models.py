"""Inspect an uploaded model file: unpack it safely, tell a SavedModel from a .keras file by
content, check it and describe it."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from app.inspection.archive_members import ExtractLimits
from app.inspection.archives import (
    SAVED_MODEL_FILE,
    extract_archive,
    find_saved_model_root,
    keep_all,
)
from app.inspection.containers import ZIP, promised_suffix, sniff_container
from app.inspection.descriptions import ModelDescription
from app.inspection.errors import UploadRejected
from app.inspection.keras_file import describe_keras_file, looks_like_keras_file
from app.inspection.saved_model import describe_saved_model

__all__ = ["ModelDescription", "inspect_model_upload"]


def inspect_model_upload(
    path: Path, workdir: Path, limits: ExtractLimits | None = None, filename: str | None = None
) -> ModelDescription:
    """Describes the upload at `path`, unpacked under `workdir` (which the caller deletes).

    `filename` is the name the user gave the file; its suffix must not contradict the content.
    """
    limits = limits or ExtractLimits()
    name = filename or path.name
    is_keras = sniff_container(path, name) == ZIP and _zip_holds_keras_model(path)
    if promised_suffix(name) == ".keras" and not is_keras:
        raise UploadRejected(
            422,
            "invalid_keras_file",
            "the file is named .keras but holds no config.json and model.weights.h5; save it "
            "with model.save('model.keras')",
        )
    # The SavedModel checks read saved_model.pb alone: its variables (most of a big upload) are
    # checked as archive members but not written out.
    keep = keep_all if is_keras else _is_saved_model_proto
    container = extract_archive(path, workdir, limits, name, keep)
    if is_keras:
        return describe_keras_file(workdir)
    return describe_saved_model(find_saved_model_root(workdir), container)


def _is_saved_model_proto(relative: PurePosixPath) -> bool:
    return relative.name == SAVED_MODEL_FILE


def _zip_holds_keras_model(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return looks_like_keras_file(set(zf.namelist()))
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise UploadRejected(422, "corrupt_archive", f"the zip archive is damaged: {exc}") from exc
