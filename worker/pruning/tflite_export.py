"""A SavedModel converted to a TFLite export (PRUNING.md section 8): float with pruned kernels
stored in TFLite's sparse format, or full-integer int8 calibrated on training examples with
the sparse format kept. Inputs and outputs stay float so that both files are used alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from worker.pruning.data import Split

CALIBRATION_EXAMPLES = 300


class ExportFailed(Exception):
    """The converter refused the model; `op` names the operation it lacks, when it says."""

    def __init__(self, message: str, op: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.op = op


def _calibration(split: Split, examples: int) -> Iterator[dict[str, np.ndarray]]:
    rows = np.random.default_rng(0).permutation(len(split))[:examples]
    for row in rows:
        yield split.take(np.array([row]))[0]


_OP_PATTERNS = (
    re.compile(r"'(?:tf|tfl)\.(\w+)' op is neither a custom op nor a flex op"),
    re.compile(r"Custom ops: (\w+)"),
    re.compile(r"Flex ops: (\w+)"),
)


def _missing_op(text: str) -> str | None:
    for pattern in _OP_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def convert(saved_model_dir: str, signature: str, export: str, calibration: Split) -> bytes:
    """The .tflite bytes of one export; ExportFailed when the converter refuses the model."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, [signature])
    converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    if export == "tflite_int8":
        converter.optimizations.append(tf.lite.Optimize.DEFAULT)
        converter.representative_dataset = lambda: _calibration(calibration, CALIBRATION_EXAMPLES)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    try:
        return bytes(converter.convert())
    except Exception as exc:  # the converter raises several types, all meaning "refused"
        text = str(exc)
        op = _missing_op(text)
        if op:
            message = (
                f"{export} conversion failed: the model uses the TensorFlow op {op}, which has "
                "no TFLite builtin kernel (select TF ops are not bundled)"
            )
        else:
            first = next((ln for ln in text.splitlines() if "error" in ln.lower()), text)
            message = f"{export} conversion failed: {first.strip()[:500]}"
        raise ExportFailed(message, op) from exc
