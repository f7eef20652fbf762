"""The weights in a .keras file's model.weights.h5: shapes and dtypes only, never the data.

Keras stores each layer's variables as datasets "0", "1", ... of a `vars` group whose `name`
attribute is the layer's name; nested models and wrapped layers nest their groups the same way.
The HDF5 file is read by h5_layout in a bounded child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.inspection.errors import UploadRejected
from app.inspection.keras_layers import KerasLayer
from app.inspection.prunable import Weight
from worker.pruning.contract.model_rules import KERAS_WEIGHT_KINDS, RNN_LAYER_CELLS

LAYOUT_SCRIPT = Path(__file__).with_name("h5_layout.py")
TIMEOUT_SECONDS = 60


def _h5_order(kinds: dict[str, str]) -> tuple[str, ...]:
    """The attributes of a layer's weights in the order Keras numbers them in the .h5 file."""
    if "pointwise_kernel" in kinds:
        return ("depthwise_kernel", "pointwise_kernel", "bias")
    if "recurrent_kernel" in kinds:
        return ("kernel", "recurrent_kernel", "bias")
    if "kernel" in kinds:
        return ("kernel", "bias")
    return tuple(kinds)


_WEIGHT_ATTRIBUTES = {name: _h5_order(kinds) for name, kinds in KERAS_WEIGHT_KINDS.items()}


def read_keras_weights(path: Path, layers: list[KerasLayer]) -> list[Weight]:
    by_path = {layer.path: layer for layer in layers}
    by_name: dict[str, list[KerasLayer]] = {}
    for layer in layers:
        by_name.setdefault(layer.path[-1], []).append(layer)
    position = {layer.path: index for index, layer in enumerate(layers)}
    owned: list[tuple[int, tuple[str, ...], list[Weight]]] = []
    for group in read_h5_layout(path):
        chain = tuple(group["chain"])
        named = by_name.get(chain[-1], [])
        owner = by_path.get(chain) or (named[0] if len(named) == 1 else None)
        # A layer's inner cells and wrapped layers sort with the nearest layer the config knows.
        known = [chain[:n] for n in range(len(chain), 0, -1) if chain[:n] in position]
        order = position[owner.path] if owner else (position[known[0]] if known else len(layers))
        parent = by_path[known[0]] if known and not owner else None
        if (
            parent is not None
            and parent.class_name in RNN_LAYER_CELLS
            and len(known[0]) == len(chain) - 1
        ):
            # The cell an LSTM/GRU/SimpleRNN builds itself: Keras names its weights
            # "<layer>/<cell>/<attribute>" and the config does not describe it.
            weights = _layer_weights(
                "/".join(chain[-2:]), RNN_LAYER_CELLS[parent.class_name], parent.trainable, group
            )
        else:
            layer_class = owner.class_name if owner else ""
            weights = _layer_weights(chain[-1], layer_class, bool(owner and owner.trainable), group)
        owned.append((order, chain, list(weights)))
    owned.sort(key=lambda item: item[:2])  # the config's layer order, as model.weights has it
    return [weight for _order, _chain, weights in owned for weight in weights]


def read_h5_layout(path: Path) -> list[dict[str, Any]]:
    env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(LAYOUT_SCRIPT), str(path)],
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
        result = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        result = None
    if not isinstance(result, dict) or "error" in result:
        why = result["error"] if isinstance(result, dict) else "reading it crashed or timed out"
        raise UploadRejected(
            422,
            "invalid_keras_file",
            f"model.weights.h5 is not a valid Keras weights file: "
            f"{why}; save the model again with model.save('model.keras')",
        )
    return list(result["groups"])


def _layer_weights(
    prefix: str, layer_class: str, trainable: bool, group: dict[str, Any]
) -> Iterator[Weight]:
    # A weight of a layer the config does not describe is never pruned (layer_class "").
    attributes = _WEIGHT_ATTRIBUTES.get(layer_class, ())
    for index, dataset in enumerate(sorted(group["datasets"], key=_variable_order)):
        attribute = attributes[index] if index < len(attributes) else f"weight_{index}"
        yield Weight(
            name=f"{prefix}/{attribute}",
            shape=list(dataset["shape"]),
            dtype=dataset["dtype"],
            trainable=trainable,
            layer_class=layer_class,
            attribute=attribute,
        )


def _variable_order(dataset: dict[str, Any]) -> tuple[int, str]:
    """Keras numbers a layer's variables "0", "1", ...; "10" comes after "9"."""
    key = dataset["key"]
    return (int(key), "") if key.isdigit() else (1 << 30, key)
