"""The trainer's command line (the worker spawns it; see ARCHITECTURE.md).

    python -m worker.pruning MODEL_PATH DATA.npz [--hparams STR_OR_JSON] [--training JSON] --out DIR
        [--devices first|cpu|all|GPU:0,GPU:1] [--logical-cpus N]
    python -m worker.pruning inspect MODEL_PATH [--signature NAME]
    python -m worker.pruning sensitivity MODEL_PATH DATA.npz --hparams '{"sparsities": [...]}'
        [--training JSON] --out DIR

A job prints JSON lines: "started", "progress"..., then "metrics"; inspect prints one object.
Any failure ends with a line {"event": "error", "code", "message"} and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import traceback
from typing import Any, NoReturn

from worker.pruning.contract.devices import DEFAULT_DEVICES, parse_devices
from worker.pruning.contract.errors import InvalidConfig, PruningError
from worker.pruning.contract.exports import parse_exports
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.contract.training_config import parse_training
from worker.pruning.layer_sensitivity import run_sensitivity
from worker.pruning.loading import inspect_model
from worker.pruning.progress import EventStream
from worker.pruning.pruning_job import run_pruning


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise PruningError("invalid_arguments", f"{message}; usage: {self.format_usage().strip()}")


def _job_parser(
    prog: str = "python -m worker.pruning", description: str = "Prune a model."
) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=description)
    parser.add_argument("model_path")
    parser.add_argument("data_path")
    parser.add_argument("--hparams", default=None, help="JSON object or 'key=value,...'")
    parser.add_argument("--training", default=None, help="JSON object")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--exports", default=None, help='JSON list, e.g. ["tflite"]')
    return parser


def _pruning_parser() -> argparse.ArgumentParser:
    parser = _job_parser()
    parser.add_argument(
        "--devices", default=DEFAULT_DEVICES, help="first, cpu, all, or e.g. GPU:0,GPU:1"
    )
    parser.add_argument("--logical-cpus", type=int, default=1, help="split the CPU in N devices")
    return parser


def _inspect_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m worker.pruning inspect", description="Inspect a model.")
    parser.add_argument("model_path")
    parser.add_argument("--signature", default=None)
    return parser


def _json_object(text: str | None, code: str, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidConfig(code, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidConfig(code, f"{what} must be a JSON object")
    return value


def _hparams_value(text: str | None) -> str | dict[str, Any] | None:
    if text is not None and text.lstrip().startswith("{"):
        return _json_object(text, "invalid_hparams", "--hparams")
    return text


def _sparsities(hparams: dict[str, Any] | None) -> list[float]:
    values = (hparams or {}).get("sparsities")
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, int | float) and 0.0 < v < 1.0 for v in values)
    ):
        raise InvalidConfig(
            "invalid_hparams", '--hparams must be {"sparsities": [numbers in (0, 1)]}'
        )
    return sorted({float(v) for v in values})


def _run(argv: list[str], events: EventStream) -> None:
    if argv[:1] == ["sensitivity"]:
        args = _job_parser(
            "python -m worker.pruning sensitivity", "Measure each weight's sensitivity."
        ).parse_args(argv[1:])
        sparsities = _sparsities(_json_object(args.hparams, "invalid_hparams", "--hparams"))
        config = parse_training(_json_object(args.training, "invalid_training", "--training"))
        run_sensitivity(args.model_path, args.data_path, sparsities, config, args.out, events)
        return
    if argv[:1] == ["inspect"]:
        args = _inspect_parser().parse_args(argv[1:])
        with tempfile.TemporaryDirectory(prefix="shears-inspect-") as scratch:
            events.write(inspect_model(args.model_path, scratch, args.signature))
        return
    args = _pruning_parser().parse_args(argv)
    hparams = parse_hparams(_hparams_value(args.hparams))
    config = parse_training(_json_object(args.training, "invalid_training", "--training"))
    exports = parse_exports(json.loads(args.exports) if args.exports else None)
    devices = parse_devices(args.devices, args.logical_cpus)
    run_pruning(
        args.model_path, args.data_path, hparams, config, args.out, events, exports, devices
    )


def main(argv: list[str], events: EventStream | None = None) -> int:
    events = events or EventStream(sys.stdout)
    try:
        _run(argv, events)
    except PruningError as exc:
        events.emit("error", **exc.to_dict())
        return 1
    except Exception as exc:  # the last line must say what happened, whatever it was
        traceback.print_exc(file=sys.stderr)
        events.emit("error", code="internal_error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0
