"""Rich tables for what the API returns: resource lists, a job, and a job's metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

# Metrics that are fractions in [0, 1] and read best as percentages.
FRACTION_METRICS = frozenset({"accuracy"})


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def fmt_pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def fmt_num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.4g}"


def fmt_time(iso: str) -> str:
    """`2025-01-02T03:04:05.678Z` -> `2025-01-02 03:04:05Z`: UTC to the second."""
    date, _, time = iso.partition("T")
    return f"{date} {time[:8]}Z" if time else iso


def fmt_shape(shape: list[int | None] | None) -> str:
    if not shape:
        return "scalar" if shape == [] else "-"
    return "x".join("?" if dim is None else str(dim) for dim in shape)


def fmt_metric(name: str, value: Any) -> str:
    return fmt_pct(value) if name in FRACTION_METRICS else fmt_num(value)


def fmt_change(name: str, before: Any, after: Any) -> str:
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return ""
    delta = after - before
    if name in FRACTION_METRICS:
        return f"{100 * delta:+.1f} pts"
    return f"{delta:+.4g}"


def resource_table(title: str, rows: Sequence[dict[str, Any]], columns: dict[str, str]) -> Table:
    """One row per resource; `columns` maps each field to its header."""
    table = Table(title=title)
    for column, header in columns.items():
        # Ids stay whole so they can be copied.
        table.add_column(header, overflow="fold", no_wrap=column == "id")
    for row in rows:
        table.add_row(*(_cell(column, row.get(column)) for column in columns))
    return table


def _cell(column: str, value: Any) -> str:
    if column.endswith("bytes"):
        return fmt_bytes(value)
    if column.endswith("_at") and isinstance(value, str):
        return fmt_time(value)
    return _compact(value)


def _compact(value: Any) -> str:
    """Nested API values on one line: `{"x": {"shape": [9, 8], "dtype": "f4"}}` -> `x: 9x8 f4`."""
    if isinstance(value, dict):
        if set(value) == {"shape", "dtype"}:
            return f"{_compact(value['shape'])} {value['dtype']}"
        return "; ".join(f"{key}: {_compact(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list):
        if all(item is None or isinstance(item, int) for item in value):
            return fmt_shape(value)
        return ", ".join(_compact(item) for item in value) or "-"
    return fmt_num(value)


def details_table(title: str, fields: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in fields.items():
        table.add_row(key, _cell(key, value))
    return table


def prunable_table(model: dict[str, Any]) -> Table:
    """A model's prunable weights: the names do_not_prune and weight_sparsity_map match."""
    table = Table(title="Prunable weights")
    for column in ("name", "shape", "params"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for weight in model.get("prunable") or []:
        table.add_row(
            str(weight.get("name")), fmt_shape(weight.get("shape")), fmt_num(weight.get("params"))
        )
    return table


def before_after_table(metrics: dict[str, Any]) -> Table:
    baseline, pruned = metrics.get("baseline") or {}, metrics.get("pruned") or {}
    table = Table(title="Before and after pruning (validation split)")
    for column in ("metric", "before", "after", "change"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    names = list(dict.fromkeys([*baseline, *pruned]))
    for name in names:
        before, after = baseline.get(name), pruned.get(name)
        table.add_row(
            name, fmt_metric(name, before), fmt_metric(name, after), fmt_change(name, before, after)
        )
    return table


def sparsity_table(metrics: dict[str, Any]) -> Table:
    sparsity = metrics.get("sparsity") or {}
    table = Table(title="Sparsity per prunable weight")
    for column in ("weight", "shape", "params", "nonzero", "target", "achieved"):
        table.add_column(column, justify="left" if column in ("weight", "shape") else "right")
    for layer in sparsity.get("layers") or []:
        table.add_row(
            str(layer.get("name")),
            fmt_shape(layer.get("shape")),
            fmt_num(layer.get("params")),
            fmt_num(layer.get("nonzero")),
            fmt_pct(layer.get("target")),
            fmt_pct(layer.get("achieved")),
        )
    table.add_section()
    table.add_row(
        "all prunable",
        "",
        "",
        "",
        fmt_pct(sparsity.get("target")),
        fmt_pct(sparsity.get("achieved")),
    )
    return table


def params_table(metrics: dict[str, Any]) -> Table:
    params = metrics.get("params") or {}
    total, nonzero = params.get("total"), params.get("nonzero")
    table = Table(title="Parameters")
    for column in ("total", "prunable", "nonzero", "nonzero of total"):
        table.add_column(column, justify="right")
    share = (
        nonzero / total
        if isinstance(total, int | float) and total and nonzero is not None
        else None
    )
    table.add_row(fmt_num(total), fmt_num(params.get("prunable")), fmt_num(nonzero), fmt_pct(share))
    return table


def size_table(metrics: dict[str, Any]) -> Table:
    size = metrics.get("size") or {}
    table = Table(title="SavedModel size (sparsity pays off once compressed)")
    for column in ("", "dense", "pruned", "pruned / dense"):
        table.add_column(column, justify="left" if not column else "right")
    for label, key in (("raw", "bytes"), ("gzip", "gzip_bytes")):
        dense, pruned = size.get(f"dense_{key}"), size.get(f"pruned_{key}")
        ratio = pruned / dense if dense and pruned is not None else None
        table.add_row(label, fmt_bytes(dense), fmt_bytes(pruned), fmt_pct(ratio))
    return table


def fmt_ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g} ms"


def exports_table(metrics: dict[str, Any]) -> Table | None:
    """Each TFLite export, dense against pruned: file size, latency and accuracy."""
    exports = metrics.get("exports") or {}
    if not exports:
        return None
    table = Table(title="TFLite exports, pruned against dense (1 thread, batch 1)")
    failures: list[str] = []
    columns = ("export", "file dense", "file pruned", "size", "latency dense", "latency pruned")
    for column in (*columns, "speed-up", "accuracy dense", "accuracy pruned", "sparse tensors"):
        table.add_column(column, justify="left" if column == "export" else "right")
    for name, entry in exports.items():
        if "error" in entry:
            failures.append(f"{name} failed: {entry['error'].get('message')}")
            continue
        latency = entry.get("latency_ms") or {}
        dense, pruned = latency.get("dense"), latency.get("pruned")
        table.add_row(
            name,
            fmt_bytes(entry.get("dense_bytes")),
            fmt_bytes(entry.get("bytes")),
            fmt_pct(entry["bytes"] / entry["dense_bytes"] if entry.get("dense_bytes") else None),
            fmt_ms(dense),
            fmt_ms(pruned),
            f"{dense / pruned:.2f}x" if dense and pruned else "-",
            fmt_pct(entry.get("dense_accuracy")),
            fmt_pct(entry.get("accuracy")),
            f"{entry.get('sparse_tensors')} of "
            f"{(entry.get('sparse_tensors') or 0) + (entry.get('dense_tensors') or 0)}",
        )
    table.caption = "\n".join(failures) or None
    return table


def training_line(metrics: dict[str, Any]) -> str:
    training = metrics.get("training") or {}
    return (
        f"{fmt_num(training.get('steps'))} steps, {fmt_num(training.get('epochs'))} epochs, "
        f"{fmt_num(training.get('wall_seconds'))} s, "
        f"{fmt_num(training.get('steps_per_second'))} steps/s"
    )


def metrics_tables(metrics: dict[str, Any]) -> list[Table]:
    tables = [
        before_after_table(metrics),
        sparsity_table(metrics),
        params_table(metrics),
        size_table(metrics),
    ]
    exports = exports_table(metrics)
    return tables if exports is None else [*tables, exports]
