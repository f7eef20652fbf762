"""What a sweep shows, read from its jobs: status, counts, baseline, table, recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.api.schemas.sweeps import Baseline, SweepCounts, SweepRow
from app.core.db.models import ACTIVE_STATUSES, Job

# Accuracies are fractions, max_accuracy_drop is in points; a float's last bits decide nothing.
POINTS_TOLERANCE = 1e-9


def sweep_status(statuses: Sequence[str], cancelled: bool) -> str:
    if any(status in ACTIVE_STATUSES for status in statuses):
        if cancelled or any(status != "queued" for status in statuses):
            return "running"
        return "queued"
    if cancelled:
        return "cancelled"
    return "succeeded" if "succeeded" in statuses else "failed"


def counts_of(statuses: Sequence[str]) -> SweepCounts:
    counts = SweepCounts()
    for status in statuses:
        setattr(counts, status, getattr(counts, status) + 1)
    return counts


def _number(metrics: dict[str, Any], *path: str) -> Any:
    value: Any = metrics
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def baseline_of(jobs: Sequence[Job]) -> Baseline | None:
    """Every job measures the same unpruned model on the same data: the first one measured."""
    for job in jobs:
        if job.metrics and isinstance(job.metrics.get("baseline"), dict):
            return Baseline(
                loss=_number(job.metrics, "baseline", "loss"),
                accuracy=_number(job.metrics, "baseline", "accuracy"),
            )
    return None


def row_of(job: Job) -> SweepRow:
    metrics = job.metrics if job.status == "succeeded" and job.metrics else {}
    return SweepRow(
        target_sparsity=job.hparams["target_sparsity"],
        job_id=job.id,
        status=job.status,  # type: ignore[arg-type]
        achieved_sparsity=_number(metrics, "sparsity", "achieved"),
        accuracy=_number(metrics, "pruned", "accuracy"),
        loss=_number(metrics, "pruned", "loss"),
        params_nonzero=_number(metrics, "params", "nonzero"),
        pruned_gzip_bytes=_number(metrics, "size", "pruned_gzip_bytes"),
        exports=metrics.get("exports"),
        error=job.error if job.status == "failed" else None,  # type: ignore[arg-type]
    )


def table_of(jobs: Sequence[Job]) -> list[SweepRow]:
    return sorted((row_of(job) for job in jobs), key=lambda row: row.target_sparsity)


def recommended_job(
    table: Sequence[SweepRow], baseline: Baseline | None, max_accuracy_drop: float
) -> str | None:
    """The highest sparsity whose accuracy is within max_accuracy_drop points of the baseline."""
    if baseline is None or baseline.accuracy is None:
        return None
    floor = baseline.accuracy - max_accuracy_drop / 100.0 - POINTS_TOLERANCE
    within = [
        row
        for row in table
        if row.status == "succeeded" and row.accuracy is not None and row.accuracy >= floor
    ]
    return max(within, key=lambda row: row.target_sparsity).job_id if within else None
