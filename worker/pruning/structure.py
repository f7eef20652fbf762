"""What channel pruning changed: parameters, FLOPs, channels per layer and measured latency."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

LATENCY_BATCHES = (1, 32)
LATENCY_RUNS = 30


def param_total(model: keras.Model) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in model.weights)


def _spatial(layer: keras.layers.Layer) -> int:
    shape = layer.output.shape
    return math.prod(int(d) for d in shape[1:-1] if d is not None)


def flops(model: keras.Model) -> int:
    """Multiply-adds x 2 of the Dense and convolution layers, per example."""
    total = 0
    for layer in model.layers:
        for name in ("kernel", "depthwise_kernel", "pointwise_kernel"):
            kernel = getattr(layer, name, None)
            if kernel is not None and hasattr(kernel, "shape") and len(kernel.shape) >= 2:
                total += 2 * math.prod(int(d) for d in kernel.shape) * max(1, _spatial(layer))
    return total


def channel_counts(before: keras.Model, after: keras.Model, layers: list[str]) -> list[dict]:
    def width(model: keras.Model, name: str) -> int:
        return int(model.get_layer(name).output.shape[-1])

    return [{"layer": n, "before": width(before, n), "after": width(after, n)} for n in layers]


def _example_batch(model: keras.Model, batch: int) -> Any:
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((batch, *[int(d) for d in t.shape[1:]])).astype("float32")
        for t in model.inputs
    ]
    return arrays[0] if len(arrays) == 1 else arrays


def median_latency_ms(model: keras.Model, batch: int, runs: int = LATENCY_RUNS) -> float:
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    x = _example_batch(model, batch)
    for _ in range(3):
        call(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        np.asarray(call(x))
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def threads() -> int:
    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1


def latencies(before: keras.Model, after: keras.Model, runs: int = LATENCY_RUNS) -> list[dict]:
    """Median latency of both models in this process, alternating so load hits both alike."""
    rows = []
    for batch in LATENCY_BATCHES:
        dense = median_latency_ms(before, batch, runs)
        small = median_latency_ms(after, batch, runs)
        row = {"batch": batch, "before": round(dense, 4), "after": round(small, 4)}
        rows.append({**row, "threads": threads()})
    return rows


def structure_report(before: keras.Model, after: keras.Model, layers: list[str]) -> dict:
    return {
        "params_before": param_total(before),
        "params_after": param_total(after),
        "flops_before": flops(before),
        "flops_after": flops(after),
        "channels": channel_counts(before, after, layers),
        "latency_ms": latencies(before, after),
    }
