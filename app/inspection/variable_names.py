"""The names the engine gives a SavedModel's variables, computed from the SavedObjectGraph.

A variable's own name when no other signature variable shares it (Keras: "dense/kernel"),
otherwise its shortest attribute path from the root object ("encoder/w"), as the children's
local names spell it; `worker.pruning.contract.weight_names.unique_weight_names` holds the rule.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from worker.pruning.contract.weight_names import unique_weight_names


def variable_names(object_graph: Any, variable_ids: list[int]) -> dict[int, str]:
    """node id -> weight name for the variables at `variable_ids` (in signature order)."""
    nodes = object_graph.nodes
    own = [nodes[i].variable.name.split(":")[0] for i in variable_ids]

    def paths() -> list[str | None]:
        by_id = _object_paths(object_graph)
        return [by_id.get(i) for i in variable_ids]

    return dict(zip(variable_ids, unique_weight_names(own, paths), strict=True))


def _object_paths(object_graph: Any) -> dict[int, str]:
    """variable node id -> shortest "a/b/c" path of child local names from the root (node 0);
    among paths of one length, the first in breadth-first child order."""
    nodes = object_graph.nodes
    paths: dict[int, str] = {}
    seen = {0}
    queue: deque[tuple[int, str]] = deque([(0, "")])
    while queue:
        node_id, prefix = queue.popleft()
        for child in nodes[node_id].children:
            if child.node_id in seen or child.node_id >= len(nodes):
                continue
            seen.add(child.node_id)
            path = f"{prefix}/{child.local_name}" if prefix else child.local_name
            if nodes[child.node_id].WhichOneof("kind") == "variable":
                paths[child.node_id] = path
            else:
                queue.append((child.node_id, path))
    return paths
