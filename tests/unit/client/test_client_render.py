"""The metrics tables of `shears jobs show` and the quickstart."""

from __future__ import annotations

from rich.console import Console

from shears_client.render import fmt_bytes, metrics_tables, resource_table
from shears_client.watch import fmt_eta, progress_fields

METRICS = {
    "baseline": {"loss": 0.1234, "accuracy": 0.9722},
    "pruned": {"loss": 0.1567, "accuracy": 0.9611},
    "sparsity": {
        "target": 0.8,
        "achieved": 0.7996,
        "layers": [
            {
                "name": "dense/kernel",
                "shape": [64, 128],
                "params": 8192,
                "nonzero": 1638,
                "target": 0.8,
                "achieved": 0.80004,
            },
            {
                "name": "dense_1/kernel",
                "shape": [128, 10],
                "params": 1280,
                "nonzero": 257,
                "target": 0.8,
                "achieved": 0.7992,
            },
        ],
    },
    "params": {"total": 9610, "prunable": 9472, "nonzero": 2033},
    "size": {
        "dense_bytes": 102400,
        "dense_gzip_bytes": 40960,
        "pruned_bytes": 102400,
        "pruned_gzip_bytes": 12288,
    },
    "training": {"steps": 360, "epochs": 8, "wall_seconds": 12.5, "steps_per_second": 28.8},
}


def render(*tables) -> str:
    console = Console(record=True, width=120)
    for table in tables:
        console.print(table)
    return console.export_text()


def row(text: str, first_cell: str) -> list[str]:
    line = next(line for line in text.splitlines() if f" {first_cell} " in line)
    return [cell.strip() for cell in line.strip()[1:-1].split("│")]


def test_before_and_after_accuracy_and_loss() -> None:
    text = render(*metrics_tables(METRICS))
    assert row(text, "accuracy") == ["accuracy", "97.2%", "96.1%", "-1.1 pts"]
    assert row(text, "loss") == ["loss", "0.1234", "0.1567", "+0.0333"]


def test_per_layer_and_overall_sparsity() -> None:
    text = render(*metrics_tables(METRICS))
    assert row(text, "dense/kernel") == [
        "dense/kernel",
        "64x128",
        "8,192",
        "1,638",
        "80.0%",
        "80.0%",
    ]
    assert row(text, "dense_1/kernel")[-1] == "79.9%"
    assert row(text, "all prunable")[-2:] == ["80.0%", "80.0%"]


def test_parameters_and_sizes_raw_and_gzip() -> None:
    text = render(*metrics_tables(METRICS))
    assert "21.2%" in row(text, "9,610")  # nonzero of total
    assert row(text, "raw") == ["raw", "100.0 KiB", "100.0 KiB", "100.0%"]
    assert row(text, "gzip") == ["gzip", "40.0 KiB", "12.0 KiB", "30.0%"]


def test_missing_metrics_render_as_dashes_not_errors() -> None:
    text = render(*metrics_tables({"baseline": {"loss": 1.0}, "pruned": {}}))
    assert row(text, "loss") == ["loss", "1", "-", ""]


def test_list_tables_show_sizes_and_nested_values() -> None:
    rows = [
        {
            "id": "ds_1",
            "size_bytes": 3 * 1024**2,
            "arrays": {"x_train": {"shape": [None, 8, 8], "dtype": "float32"}},
        }
    ]
    text = render(
        resource_table("Datasets", rows, {"id": "id", "size_bytes": "size", "arrays": "arrays"})
    )
    assert row(text, "ds_1") == ["ds_1", "3.0 MiB", "x_train: ?x8x8 float32"]
    assert fmt_bytes(512) == "512 B"


def test_progress_fields_for_the_live_bar() -> None:
    fields = progress_fields(
        {"loss": 0.41234, "target_sparsity": 0.5, "achieved_sparsity": 0.4321, "eta_seconds": 3725}
    )
    assert fields == {"loss": "0.4123", "target": "50.0%", "achieved": "43.2%", "eta": "1:02:05"}
    assert progress_fields({}) == {"loss": "-", "target": "-", "achieved": "-", "eta": "-"}
    assert fmt_eta(59.6) == "1:00"


EXPORTS = {
    "tflite": {
        "bytes": 120_000,
        "gzip_bytes": 100_000,
        "dense_bytes": 1_000_000,
        "dense_gzip_bytes": 900_000,
        "accuracy": 0.96,
        "dense_accuracy": 0.97,
        "latency_ms": {"pruned": 0.5, "dense": 2.0, "batch": 1, "threads": 1, "runs": 100},
        "sparse_tensors": 3,
        "dense_tensors": 1,
    },
    "tflite_int8": {
        "error": {
            "code": "export_failed",
            "message": "tflite_int8 conversion failed: the model uses the TensorFlow op Erfinv",
            "op": "Erfinv",
        }
    },
}


def test_exports_table_shows_size_latency_and_failures() -> None:
    text = render(*metrics_tables({**METRICS, "exports": EXPORTS}))
    cells = row(text, "tflite")
    assert cells[:7] == ["tflite", "976.6 KiB", "117.2 KiB", "12.0%", "2 ms", "0.5 ms", "4.00x"]
    assert cells[7:] == ["97.0%", "96.0%", "3 of 4"]
    assert "tflite_int8 failed: tflite_int8 conversion failed: the model uses the" in text


def test_no_exports_no_exports_table() -> None:
    assert "TFLite" not in render(*metrics_tables(METRICS))
