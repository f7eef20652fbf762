"""TFLite exports a job may ask for (PRUNING.md section 8), and whether its hparams prune Dense
kernels in the blocks TFLite's sparse kernels run. Plain Python: the API checks at submission.
"""

from __future__ import annotations

from typing import Any

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import PruningHParams

# Export name -> the input-block height (along a Keras (in, out) kernel's input axis) that
# TF 2.21's FULLY_CONNECTED sparse kernels run fast: 1x4 float, 1x16 int8 (block width 1).
EXPORT_BLOCK_HEIGHTS: dict[str, int] = {"tflite": 4, "tflite_int8": 16}
EXPORT_NAMES: tuple[str, ...] = tuple(EXPORT_BLOCK_HEIGHTS)


def parse_exports(value: Any) -> list[str]:
    """The requested exports, deduplicated in the valid names' order; unknown ones are a 422."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidConfig("invalid_exports", "exports must be a list of export names")
    unknown = sorted(set(value) - set(EXPORT_NAMES))
    if unknown:
        raise InvalidConfig(
            "invalid_exports",
            f"unknown exports {', '.join(unknown)}; valid exports are: {', '.join(EXPORT_NAMES)}",
            [{"field": "exports", "message": f"unknown export {name!r}"} for name in unknown],
        )
    return [name for name in EXPORT_NAMES if name in value]


def _accelerated(block: tuple[int, int], height: int) -> bool:
    block_height, block_width = block
    return block_width == 1 and block_height > 0 and block_height % height == 0


def block_warnings(hparams: PruningHParams, exports: list[str]) -> list[str]:
    """Why the requested TFLite exports will store Dense kernels sparse but run them dense."""
    warnings = []
    for name in exports:
        height = EXPORT_BLOCK_HEIGHTS[name]
        blocks = [("block_height/block_width", (hparams.block_height, hparams.block_width))]
        blocks += [(f"block_dims_map {regex.pattern!r}", b) for regex, b in hparams.block_map()]
        slow = [f"{where} {h}x{w}" for where, (h, w) in blocks if not _accelerated((h, w), height)]
        if slow:
            warnings.append(
                f"export {name}: Dense kernels pruned in blocks {', '.join(slow)} are stored "
                f"sparse but run at dense speed; TFLite's sparse FULLY_CONNECTED kernel takes "
                f"1x{height} input blocks: set block_height={height}, block_width=1 (and "
                f"'{height}x1' in block_dims_map) for it to run them; whether that beats the "
                f"dense file on this CPU is in metrics.exports.{name}.latency_ms"
            )
    return warnings
