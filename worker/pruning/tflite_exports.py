"""A job's TFLite exports (PRUNING.md section 8): each requested export of the pruned and of the
dense SavedModel, measured side by side; the pruned file written as out/<export>.tflite.

A model the converter refuses fails only that export: its entry names the error and the op."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.pruning.data import JobData
from worker.pruning.objectives import MetricFactory
from worker.pruning.results import GZIP_LEVEL
from worker.pruning.tflite_export import ExportFailed, convert
from worker.pruning.tflite_format import stored_weights
from worker.pruning.tflite_measure import evaluate_tflite, latency_ms


def tflite_file_name(export: str) -> str:
    return f"{export}.tflite"


@dataclass(frozen=True)
class ExportInputs:
    dense_saved_model: str
    pruned_saved_model: str
    signature: str
    data: JobData
    metrics: dict[str, MetricFactory]


def _gzip_bytes(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def _measure(export: str, pruned: bytes, dense: bytes, inputs: ExportInputs) -> dict[str, Any]:
    val = inputs.data.val
    pruned_metrics = evaluate_tflite(pruned, inputs.signature, val, inputs.metrics)
    dense_metrics = evaluate_tflite(dense, inputs.signature, val, inputs.metrics)
    weights = stored_weights(pruned)
    return {
        "file": tflite_file_name(export),
        "bytes": len(pruned),
        "gzip_bytes": _gzip_bytes(pruned),
        "dense_bytes": len(dense),
        "dense_gzip_bytes": _gzip_bytes(dense),
        "accuracy": pruned_metrics.get("accuracy"),
        "dense_accuracy": dense_metrics.get("accuracy"),
        "metrics": pruned_metrics,
        "dense_metrics": dense_metrics,
        "latency_ms": latency_ms(pruned, dense, inputs.signature, val),
        "sparse_tensors": sum(w.sparse for w in weights),
        "dense_tensors": sum(not w.sparse for w in weights),
    }


def _one_export(export: str, inputs: ExportInputs, out: Path) -> dict[str, Any]:
    train = inputs.data.train
    try:
        dense = convert(inputs.dense_saved_model, inputs.signature, export, train)
        pruned = convert(inputs.pruned_saved_model, inputs.signature, export, train)
    except ExportFailed as exc:
        return {"error": {"code": "export_failed", "message": exc.message, "op": exc.op}}
    try:
        entry = _measure(export, pruned, dense, inputs)
    except (RuntimeError, ValueError) as exc:  # the interpreter cannot run what was converted
        message = f"{export} converted but the TFLite interpreter could not run it: {exc}"
        return {"error": {"code": "export_unrunnable", "message": message[:800], "op": None}}
    (out / tflite_file_name(export)).write_bytes(pruned)
    return entry


def run_exports(exports: list[str], inputs: ExportInputs, out: Path) -> dict[str, Any]:
    """Export name -> its metrics entry, or {"error": {code, message, op}}."""
    return {export: _one_export(export, inputs, out) for export in exports}
