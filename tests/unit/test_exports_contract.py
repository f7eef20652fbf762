"""The exports a job may ask for, and the block-shape warning the API gives at submission."""

from __future__ import annotations

import pytest

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.exports import block_warnings, parse_exports
from worker.pruning.contract.hparams import parse_hparams


def test_exports_are_deduplicated_in_a_fixed_order() -> None:
    assert parse_exports(None) == []
    assert parse_exports(["tflite_int8", "tflite", "tflite"]) == ["tflite", "tflite_int8"]


@pytest.mark.parametrize("value", [["onnx"], "tflite", [1]])
def test_bad_exports_are_refused_naming_the_valid_ones(value: object) -> None:
    with pytest.raises(InvalidConfig) as raised:
        parse_exports(value)
    assert raised.value.code == "invalid_exports"
    if value == ["onnx"]:
        assert "onnx" in raised.value.message and "tflite, tflite_int8" in raised.value.message


@pytest.mark.parametrize(
    ("hparams", "exports", "warned"),
    [
        ({}, ["tflite"], ["tflite"]),
        ({"block_height": 4}, ["tflite", "tflite_int8"], ["tflite_int8"]),
        ({"block_height": 16}, ["tflite", "tflite_int8"], []),
        ({"block_height": 4, "block_width": 4}, ["tflite"], ["tflite"]),
        ({"block_height": 4, "block_dims_map": ["fc1:1x1"]}, ["tflite"], ["tflite"]),
        ({}, [], []),
    ],
)
def test_blocks_tflite_does_not_run_sparse_are_warned(hparams, exports, warned) -> None:
    warnings = block_warnings(parse_hparams(hparams), exports)
    assert [w.split(":")[0].removeprefix("export ") for w in warnings] == warned
    for warning, export in zip(warnings, warned, strict=True):
        height = 4 if export == "tflite" else 16
        assert f"block_height={height}, block_width=1" in warning
