"""The trainer's output directory turned into the job's downloadable artifacts.

The trainer runs uploaded code, so its output is untrusted too: only regular files and
directories are packed (a symlink to a secret must not become a download), and the total
size is capped.
"""

from __future__ import annotations

import json
import os
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SAVED_MODEL_DIR = "saved_model"


class ArtifactError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _walk(root: Path) -> list[tuple[Path, bool]]:
    """(path, is_dir) for every directory and regular file under root, symlinks skipped."""
    found: list[tuple[Path, bool]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (base / d).is_symlink())
        found.extend((base / d, True) for d in dirnames)
        found.extend((base / f, False) for f in sorted(filenames) if _is_regular(base / f))
    return found


def _is_regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def pack_zip(source: Path, dest: Path, top: str) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, is_dir in _walk(source):
            name = f"{top}/{path.relative_to(source).as_posix()}"
            if is_dir:
                archive.writestr(name + "/", b"")
            else:
                archive.write(path, name)
    return dest


def pack_tar_gz(source: Path, dest: Path, top: str) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(source, arcname=top, recursive=False)
        for path, _is_dir in _walk(source):
            archive.add(
                path, arcname=f"{top}/{path.relative_to(source).as_posix()}", recursive=False
            )
    return dest


def read_metrics(out_dir: Path, max_bytes: int = 16 * 1024 * 1024) -> dict[str, Any]:
    path = out_dir / "metrics.json"
    if not _is_regular(path) or path.stat().st_size > max_bytes:
        raise ArtifactError("trainer_output_invalid", "the trainer wrote no usable metrics.json")
    try:
        metrics = json.loads(path.read_text())
    except ValueError as exc:
        raise ArtifactError("trainer_output_invalid", f"metrics.json is not JSON: {exc}") from exc
    if not isinstance(metrics, dict):
        raise ArtifactError("trainer_output_invalid", "metrics.json is not a JSON object")
    return metrics


def package_outputs(
    out_dir: Path, dest: Path, keras_upload: bool, max_bytes: int, exports: Sequence[str] = ()
) -> dict[str, Path]:
    """Artifact kind -> file, for everything the trainer produced (report.png comes later)."""
    saved_model = out_dir / SAVED_MODEL_DIR
    if not (saved_model / "saved_model.pb").is_file() or saved_model.is_symlink():
        raise ArtifactError("trainer_output_invalid", "the trainer wrote no SavedModel")
    dest.mkdir(parents=True, exist_ok=True)
    files = {
        "saved_model.zip": pack_zip(saved_model, dest / "saved_model.zip", SAVED_MODEL_DIR),
        "saved_model.tar.gz": pack_tar_gz(
            saved_model, dest / "saved_model.tar.gz", SAVED_MODEL_DIR
        ),
        "metrics.json": out_dir / "metrics.json",
    }
    tensorboard = out_dir / "tensorboard"
    if tensorboard.is_dir() and not tensorboard.is_symlink():
        files["tensorboard.tar.gz"] = pack_tar_gz(
            tensorboard, dest / "tensorboard.tar.gz", "tensorboard"
        )
    keras_file = out_dir / "model.keras"
    if keras_upload:
        if not _is_regular(keras_file):
            raise ArtifactError("trainer_output_invalid", "the trainer wrote no model.keras")
        files["model.keras"] = keras_file
    for export in exports:  # a requested export whose conversion failed has no file
        tflite = out_dir / f"{export}.tflite"
        if _is_regular(tflite):
            files[f"{export}.tflite"] = tflite
    total = sum(path.stat().st_size for path in files.values())
    if total > max_bytes:
        raise ArtifactError(
            "artifacts_too_large", f"the job's outputs are {total} bytes, over the {max_bytes} cap"
        )
    return files
