"""From an uploaded path to a PrunableModel: a SavedModel directory (or a .zip / .tar.gz of
one) or a Keras 3 `.keras` file, and what the model page shows of it."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path
from typing import Any

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.model_rules import DEPTHWISE_KIND
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.prunable_model import CandidateWeight, PrunableModel, param_count
from worker.pruning.saved_model_adapter import SavedModelPrunableModel

KERAS_FILE_MEMBERS = frozenset({"config.json", "metadata.json"})


def _is_keras_file(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return KERAS_FILE_MEMBERS <= set(archive.namelist())


def is_keras_upload(path: str) -> bool:
    """A .keras file (anything else is a SavedModel, or no model)."""
    return Path(path).is_file() and _is_keras_file(Path(path))


def _saved_model_root(directory: Path) -> Path | None:
    """The directory holding saved_model.pb: `directory` itself or its only subdirectory."""
    if (directory / "saved_model.pb").is_file():
        return directory
    children = [p for p in directory.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and (children[0] / "saved_model.pb").is_file():
        return children[0]
    return None


UNPACKED_DIR = "unpacked_model"


def _unpack(archive: Path, scratch_dir: Path) -> Path:
    target = scratch_dir / UNPACKED_DIR
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(target)  # zipfile drops absolute paths and ".." components
    else:
        with tarfile.open(archive) as tarred:
            tarred.extractall(target, filter="data")  # refuses links and paths outside target
    return target


def resolve_model(path: str, scratch_dir: str) -> tuple[str, Path]:
    """("keras" | "saved_model", the path to load), unpacking an archive into scratch_dir."""
    candidate = Path(path)
    if not candidate.exists():
        raise PruningError("invalid_model", f"model path {path} does not exist")
    if candidate.is_file() and _is_keras_file(candidate):
        return "keras", candidate
    if candidate.is_file():
        try:
            candidate = _unpack(candidate, Path(scratch_dir))
        except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
            raise PruningError(
                "invalid_model",
                f"the model is neither a .keras file nor a .zip/.tar.gz of a SavedModel: {exc}",
            ) from exc
    root = _saved_model_root(candidate)
    if root is None:
        raise PruningError(
            "invalid_model",
            "no saved_model.pb found at the top of the model (or of its only folder); upload a "
            "SavedModel directory as .zip or .tar.gz, or a Keras 3 .keras file",
        )
    return "saved_model", root


def load_prunable_model(path: str, signature: str | None, scratch_dir: str) -> PrunableModel:
    """`signature` None: the default one (serving_default, or the first there is)."""
    kind, resolved = resolve_model(path, scratch_dir)
    if kind == "keras":
        return KerasPrunableModel(str(resolved), signature)
    return SavedModelPrunableModel(str(resolved), signature)


def _weight_json(weight: CandidateWeight) -> dict[str, Any]:
    return {"name": weight.name, "shape": list(weight.shape), "params": weight.params}


def inspect_model(path: str, scratch_dir: str, signature: str | None = None) -> dict[str, Any]:
    """{"format", "signatures", "signature", "prunable", "depthwise", "params_total",
    "params_prunable"}: prunable weights of `signature` (default: serving_default) with
    default hparams; depthwise kernels are listed apart, prunable only when named in
    weight_sparsity_map."""
    model = load_prunable_model(path, signature, scratch_dir)
    candidates = model.candidate_weights()
    prunable = [w for w in candidates if w.kind != DEPTHWISE_KIND]
    return {
        "format": model.format,
        "signatures": {name: sig.to_json() for name, sig in model.signatures().items()},
        "signature": model.signature_name,
        "prunable": [_weight_json(w) for w in prunable],
        "depthwise": [_weight_json(w) for w in candidates if w.kind == DEPTHWISE_KIND],
        "params_total": sum(param_count(v) for v in model.all_variables()),
        "params_prunable": sum(w.params for w in prunable),
    }
