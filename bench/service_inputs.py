"""What the service benchmarks upload: the digits CNN (.keras) with its .npz data for real jobs,
and a real tiny SavedModel padded to any size with an incompressible file in its assets/."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from bench.datasets import digits, write_npz
from bench.models import digits_cnn

PADDING_MEMBER = "assets/padding.bin"
WRITE_CHUNK = 4 * 1024**2
FEATURES, CLASSES = 64, 10


def digits_job_inputs(folder: Path) -> tuple[Path, Path]:
    """The benchmarks' digits CNN, untrained (the jobs time the service, not accuracy), saved as
    .keras, and scikit-learn's digits as .npz."""
    keras.utils.set_random_seed(0)
    model_path = folder / "digits_cnn.keras"
    digits_cnn(keras).save(model_path)
    return model_path, write_npz(digits(), folder / "digits.npz")


class _Linear(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.kernel = tf.Variable(rng.normal(0, 0.1, (FEATURES, CLASSES)).astype("float32"))
        self.bias = tf.Variable(np.zeros(CLASSES, "float32"))

    @tf.function(input_signature=[tf.TensorSpec([None, FEATURES], tf.float32, name="x")])
    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"logits": tf.matmul(x, self.kernel) + self.bias}


def padded_saved_model_zip(dest: Path, size_bytes: int) -> Path:
    """A zip of a real SavedModel plus `size_bytes` of random bytes in assets/ (stored, since
    they do not compress): an archive the upload checks accept, as big as asked."""
    saved = dest.parent / f"{dest.stem}_saved_model"
    module = _Linear()
    tf.saved_model.save(module, str(saved), signatures={"serving_default": module.__call__})
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in saved.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(saved).as_posix())
        info = zipfile.ZipInfo(PADDING_MEMBER)
        info.compress_type = zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=True) as padding:
            for offset in range(0, size_bytes, WRITE_CHUNK):
                padding.write(os.urandom(min(WRITE_CHUNK, size_bytes - offset)))
    return dest
