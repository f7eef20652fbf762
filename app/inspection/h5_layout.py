"""Print the layout of a Keras weights file as JSON: for every `vars` group, the chain of layer
names leading to it and its datasets' shapes and dtypes. Data is never read.

Run as a script in a child process (see keras_weights): libhdf5 can hang or exhaust memory on
a hostile file, and a child can be bounded and killed where the API process cannot. It imports
nothing but the standard library and h5py, and caps its own memory and CPU time first.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

MAX_GROUPS = 100_000
MEMORY_BYTES = 2 * 1024**3
CPU_SECONDS = 30


class LayoutError(Exception):
    pass


def read_layout(path: str) -> list[dict[str, Any]]:
    import h5py  # after the limits are set, so that loading libhdf5 counts against them

    found: list[dict[str, Any]] = []
    with h5py.File(path, "r") as weights_file:
        pending: list[tuple[Any, list[str]]] = [(weights_file, [])]
        while pending:
            if len(found) + len(pending) > MAX_GROUPS:
                raise LayoutError("model.weights.h5 has too many groups")
            group, chain = pending.pop()
            children = _hard_children(h5py, group)
            variables = children.pop("vars", None)
            if isinstance(variables, h5py.Group):
                name = variables.attrs.get("name")
                chain = [*chain, name.decode() if isinstance(name, bytes) else str(name or "")]
                datasets = [
                    {"key": key, "shape": [int(d) for d in item.shape], "dtype": item.dtype.name}
                    for key, item in _hard_children(h5py, variables).items()
                    if isinstance(item, h5py.Dataset)
                ]
                found.append({"chain": chain, "datasets": datasets})
            for key, child in children.items():
                # The model's own tree only: not the optimizer's state at the top level.
                if isinstance(child, h5py.Group) and (group != weights_file or key == "layers"):
                    pending.append((child, chain))
    return found


def _hard_children(h5py: Any, group: Any) -> dict[str, Any]:
    children = {}
    for key in group:
        if not isinstance(group.get(key, getlink=True), h5py.HardLink):
            raise LayoutError(f"it contains a soft or external link ({group.name}/{key})")
        children[key] = group[key]
    return children


def main(path: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    try:
        result: dict[str, Any] = {"groups": read_layout(path)}
    except LayoutError as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001  any libhdf5 failure means "not a readable file"
        result = {"error": f"it cannot be read as HDF5 ({type(exc).__name__}: {exc})"}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
