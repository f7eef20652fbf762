"""How the API and the engine name the variables of a SavedModel that is not Keras, so that
`do_not_prune` and `weight_sparsity_map` written from the model page match what the engine
prunes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence


def unique_weight_names(
    own_names: Sequence[str], object_paths: Callable[[], Sequence[str | None]]
) -> list[str]:
    """Names for a non-Keras SavedModel's variables.

    A variable keeps its own name ("dense/kernel") when no other variable has it; otherwise
    it takes its shortest attribute path from the root ("encoder/w"; `object_paths()` gives
    one per variable, None if unknown), and a remaining clash gets a "_1", "_2", ... suffix.
    """
    counts = Counter(own_names)
    clashing = [i for i, name in enumerate(own_names) if counts[name] > 1]
    names = list(own_names)
    if not clashing:
        return names
    paths = object_paths()
    taken = {name for name in own_names if counts[name] == 1}
    for i in clashing:
        base = paths[i] or own_names[i]
        unique, suffix = base, 1
        while unique in taken:
            unique, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(unique)
        names[i] = unique
    return names
