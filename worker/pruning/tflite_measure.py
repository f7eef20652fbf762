"""Measuring .tflite files as a user would run them: metrics on the validation split through the
TFLite interpreter, and single-example latency, dense and pruned interleaved in one process."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import tensorflow as tf

from worker.pruning.data import Split
from worker.pruning.objectives import MetricFactory

EVAL_BATCH = 64
WARMUP_RUNS = 10
LATENCY_RUNS = 100


def _interpreter(tflite: bytes) -> Any:
    return tf.lite.Interpreter(model_content=tflite, num_threads=1)


def evaluate_tflite(
    tflite: bytes, signature: str, split: Split, metrics: dict[str, MetricFactory]
) -> dict[str, float]:
    """{metric name: value} of the file's outputs on `split`, batch by batch."""
    runner = _interpreter(tflite).get_signature_runner(signature)
    states = {name: factory() for name, factory in metrics.items()}
    for batch, labels in split.batches(EVAL_BATCH):
        outputs = runner(**batch)
        predicted = outputs[sorted(outputs)[0]].astype(np.float32)
        for state in states.values():
            state.update_state(labels, predicted)
    return {name: float(state.result()) for name, state in states.items()}


def _ready_for_one_example(tflite: bytes, signature: str, split: Split) -> Any:
    """An interpreter with its inputs resized to batch 1 and set to the first example."""
    interpreter = _interpreter(tflite)
    details = interpreter.get_signature_runner(signature).get_input_details()
    first, _ = split.take(slice(0, 1))
    for name, detail in details.items():
        interpreter.resize_tensor_input(detail["index"], [1, *first[name].shape[1:]])
    interpreter.allocate_tensors()
    for name, detail in details.items():
        interpreter.set_tensor(detail["index"], first[name].astype(detail["dtype"]))
    return interpreter


def _seconds(interpreter: Any) -> float:
    start = time.perf_counter()
    interpreter.invoke()
    return time.perf_counter() - start


def latency_ms(
    pruned: bytes, dense: bytes, signature: str, split: Split, runs: int = LATENCY_RUNS
) -> dict[str, Any]:
    """Median milliseconds per single-example invoke, one thread, the two files alternating
    run by run so that both see the same machine load."""
    files = {"pruned": pruned, "dense": dense}
    interpreters = {k: _ready_for_one_example(v, signature, split) for k, v in files.items()}
    for _ in range(WARMUP_RUNS):
        for interpreter in interpreters.values():
            interpreter.invoke()
    times: dict[str, list[float]] = {k: [] for k in files}
    for run in range(runs):
        order = list(interpreters) if run % 2 == 0 else list(reversed(interpreters))
        for key in order:
            times[key].append(_seconds(interpreters[key]))
    result: dict[str, Any] = {k: round(statistics.median(v) * 1000, 4) for k, v in times.items()}
    result.update({"batch": 1, "threads": 1, "runs": runs})
    return result
