"""Tables for a sweep (the seed's table, for your model) and a sensitivity job's layers."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from shears_client.render import fmt_bytes, fmt_num, fmt_pct

RECOMMENDED = "★"


def sweep_table(sweep: dict[str, Any]) -> Table:
    """One row per target sparsity, the unpruned baseline first; ★ marks the recommendation."""
    counts = sweep.get("counts") or {}
    done = sum(counts.get(status, 0) for status in ("succeeded", "failed", "cancelled"))
    title = (
        f"Sweep {sweep.get('name') or sweep['id']}: {sweep['status']}, "
        f"{done} of {len(sweep.get('table') or [])} jobs ended"
    )
    table = Table(title=title)
    for header in ("", "target", "achieved", "accuracy", "loss", "nonzero params", "gzip size"):
        table.add_column(header, justify="right")
    table.add_column("status")
    table.add_column("job", no_wrap=True)
    baseline = sweep.get("baseline") or {}
    table.add_row(
        "", "0%", "-", fmt_pct(baseline.get("accuracy")), fmt_num(baseline.get("loss")),
        "-", "-", "unpruned", "-",
    )  # fmt: skip
    for row in sweep.get("table") or []:
        status = row["status"]
        if status == "failed" and row.get("error"):
            status = f"failed: {row['error'].get('code')}"
        table.add_row(
            RECOMMENDED if row["job_id"] == sweep.get("recommended") else "",
            fmt_pct(row["target_sparsity"]),
            fmt_pct(row.get("achieved_sparsity")),
            fmt_pct(row.get("accuracy")),
            fmt_num(row.get("loss")),
            fmt_num(row.get("params_nonzero")),
            fmt_bytes(row.get("pruned_gzip_bytes")),
            status,
            row["job_id"],
        )
    return table


def recommendation_line(sweep: dict[str, Any]) -> str:
    drop = sweep.get("max_accuracy_drop")
    rows = {row["job_id"]: row for row in sweep.get("table") or []}
    best = rows.get(sweep.get("recommended") or "")
    if best is None:
        return f"no job is within {drop} points of the unpruned accuracy (yet)"
    return (
        f"{RECOMMENDED} recommended: job {best['job_id']}, {fmt_pct(best['target_sparsity'])} "
        f"sparsity, accuracy {fmt_pct(best.get('accuracy'))} (within {drop} points)"
    )


def sensitivity_table(metrics: dict[str, Any]) -> Table:
    """Each weight's accuracy drop, in points, at each sparsity tried on it alone."""
    sparsities = metrics.get("sparsities") or []
    baseline = (metrics.get("baseline") or {}).get("accuracy")
    table = Table(title=f"Sensitivity (drop in accuracy points; unpruned {fmt_pct(baseline)})")
    table.add_column("weight", no_wrap=True)
    table.add_column("params", justify="right")
    for sparsity in sparsities:
        table.add_column(fmt_pct(sparsity), justify="right")
    for layer in metrics.get("layers") or []:
        drops = {r["sparsity"]: r.get("drop") for r in layer.get("results") or []}
        cells = [fmt_num(drops.get(s)) for s in sparsities]
        table.add_row(layer["name"], fmt_num(layer.get("params")), *cells)
    return table
