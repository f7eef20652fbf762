"""Save a loaded SavedModel again with each variable written once.

Keras 3's `model.export()` tracks every variable twice (once per Keras variable, once in its
variable lists), and re-saving the loaded object keeps both copies. A fresh `tf.Module` that
tracks only the variables its functions capture, plus the resources and assets they need,
serves the same signatures from half the bytes.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import tensorflow as tf


def _reachable(root: Any) -> list[Any]:
    """Every object tracked under `root`, breadth first, each once."""
    found: list[Any] = []
    seen = {id(root)}
    queue: deque[Any] = deque([root])
    while queue:
        for child in queue.popleft()._trackable_children().values():
            if id(child) not in seen:
                seen.add(id(child))
                found.append(child)
                queue.append(child)
    return found


def _captured_variables(functions: list[Any]) -> list[tf.Variable]:
    once: dict[Any, tf.Variable] = {}
    for function in functions:
        for variable in function.variables:
            once.setdefault(variable.ref(), variable)
    return list(once.values())


def save_once(root: Any, directory: str) -> None:
    """Save `root`'s signatures and tf.function attributes under the same names, tracking the
    variables they capture once, and the root's resources (lookup tables) and assets."""
    signatures = dict(root.signatures)
    methods = {
        name: child
        for name, child in root._trackable_children().items()
        if isinstance(child, tf.types.experimental.PolymorphicFunction)
    }
    concrete = list(signatures.values())
    for method in methods.values():
        concrete.extend(method.concrete_functions)
    reachable = _reachable(root)
    module = tf.Module()
    module.shears_variables = _captured_variables(concrete)
    module.shears_resources = [
        obj
        for obj in reachable
        if isinstance(obj, tf.saved_model.experimental.TrackableResource)
        and not isinstance(obj, tf.Variable)
    ]
    module.shears_assets = [obj for obj in reachable if isinstance(obj, tf.saved_model.Asset)]
    for name, method in methods.items():
        if not hasattr(module, name):
            setattr(module, name, method)
    tf.saved_model.save(module, directory, signatures=signatures)
