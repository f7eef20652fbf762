"""Upload files made fresh for the tests: a tiny Keras 3 model (exported SavedModel, .keras) packed
as users pack them, and a matching .npz dataset."""

from __future__ import annotations

import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

N_FEATURES = 8
N_CLASSES = 4


@dataclass(frozen=True)
class ModelFiles:
    saved_model_dir: Path
    zip: Path  # files at the archive's root, as `cd dir && zip -r` makes it
    nested_zip: Path  # one top-level folder, as `zip -r model.zip dir` makes it
    tar_gz: Path  # one top-level folder, as `tar czf` makes it
    keras: Path


def tiny_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((N_FEATURES,), name="features"),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(N_CLASSES, name="logits"),
        ]
    )


def zip_dir(source: Path, dest: Path, top: str | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source).as_posix()
            archive.write(path, f"{top}/{relative}" if top else relative)
    return dest


def tar_dir(source: Path, dest: Path, top: str) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(source, arcname=top)
    return dest


def make_model_files(root: Path) -> ModelFiles:
    model = tiny_model()
    saved = root / "exported"
    model.export(str(saved), verbose=False)
    keras_path = root / "tiny.keras"
    model.save(keras_path)
    return ModelFiles(
        saved_model_dir=saved,
        zip=zip_dir(saved, root / "tiny.zip"),
        nested_zip=zip_dir(saved, root / "nested.zip", top="exported"),
        tar_gz=tar_dir(saved, root / "tiny.tar.gz", top="exported"),
        keras=keras_path,
    )


def make_dataset(path: Path, n_train: int = 64, n_val: int = 16, **overrides: np.ndarray) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.normal(size=(n_train, N_FEATURES)).astype("float32"),
        "y_train": rng.integers(0, N_CLASSES, size=n_train),
        "x_val": rng.normal(size=(n_val, N_FEATURES)).astype("float32"),
        "y_val": rng.integers(0, N_CLASSES, size=n_val),
    }
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
