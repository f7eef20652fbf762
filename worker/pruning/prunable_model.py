"""The one interface the engine trains through, whatever kind of model was uploaded.

`keras_adapter` and `saved_model_adapter` implement it; `loading.load_prunable_model`
picks one. Nothing here imports TensorFlow, so the shapes and JSON forms are testable alone.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PRUNABLE_VARIABLE_KIND = "variable"  # a prunable variable of a model that is not Keras
# What a candidate weight is; decides default prunability and the N:M input axis.
PRUNABLE_KINDS = frozenset(
    {"dense", "conv", "conv_transpose", "separable_pointwise", "embedding", PRUNABLE_VARIABLE_KIND}
)
DEPTHWISE_KIND = "depthwise"
# Last name components that mark a variable as a bias or normalization parameter.
NEVER_PRUNED_NAMES = frozenset({"bias", "gamma", "beta", "moving_mean", "moving_variance"})


def saved_variable_kind(name: str, rank: int, feeds_depthwise: bool) -> str | None:
    """What a trainable float variable of a non-Keras SavedModel is, by PRUNING.md section 4:
    "variable" (prunable), DEPTHWISE_KIND, or None (never pruned). Shared with the API."""
    if rank < 2 or name.rsplit("/", 1)[-1] in NEVER_PRUNED_NAMES:
        return None
    if feeds_depthwise or "depthwise" in name.lower():
        return DEPTHWISE_KIND
    return PRUNABLE_VARIABLE_KIND


def param_count(variable: Any) -> int:
    return math.prod(int(d) for d in variable.shape)


def unique_weight_names(
    own_names: Sequence[str], object_paths: Callable[[], Sequence[str | None]]
) -> list[str]:
    """Names for a non-Keras SavedModel's variables, shared with the API's inspection.

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


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature: shape with None for unknown dims (None: unknown rank)."""

    name: str
    shape: tuple[int | None, ...] | None
    dtype: str

    def to_json(self) -> dict[str, Any]:
        return {"shape": None if self.shape is None else list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": {t.name: t.to_json() for t in self.inputs},
            "outputs": {t.name: t.to_json() for t in self.outputs},
        }


@dataclass(frozen=True, eq=False)
class CandidateWeight:
    """A weight that section 4 of PRUNING.md may prune.

    `variable` is whatever the model trains (a keras.Variable or a tf.Variable): it has
    `.numpy()`, `.assign()`, `.shape` and `.dtype`. `layer` is the layer's (or owning object's)
    name, matched by `do_not_prune` and the maps alongside `name`.
    """

    name: str
    layer: str
    kind: str
    variable: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.variable.shape)

    @property
    def params(self) -> int:
        return param_count(self.variable)

    @property
    def input_axis(self) -> int:
        """The input-channel axis N:M groups run along."""
        if self.kind == "conv_transpose":
            return -1  # Keras keeps transpose kernels as (..., out_channels, in_channels).
        if self.kind in ("conv", "separable_pointwise") or len(self.shape) > 2:
            return -2
        return 0


class PrunableModel(ABC):
    """A loaded model, seen through the signature the job trains."""

    format: str  # "keras" or "saved_model"
    signature_name: str

    @abstractmethod
    def signatures(self) -> dict[str, Signature]:
        """Every signature the exported SavedModel has (or will have), by name."""

    @property
    def signature(self) -> Signature:
        return self.signatures()[self.signature_name]

    @abstractmethod
    def candidate_weights(self) -> list[CandidateWeight]:
        """Prunable-by-default weights plus depthwise kernels (kind "depthwise")."""

    @abstractmethod
    def trainable_variables(self) -> list[Any]:
        """Everything the fine-tune updates."""

    @abstractmethod
    def all_variables(self) -> list[Any]:
        """Every floating-point weight of the model, for parameter counts."""

    @abstractmethod
    def forward(self, inputs: dict[str, Any], training: bool) -> Any:
        """The model's single output for a dict of input tensors keyed by signature input name."""

    def extra_losses(self) -> list[Any]:
        """Regularization losses to add to the training loss (Keras models)."""
        return []

    @abstractmethod
    def export(self, saved_model_dir: str) -> None:
        """Write a SavedModel with `signatures()`, holding the current weights."""

    def save_keras(self, path: str) -> bool:
        """Write a `.keras` file if the model is a Keras model; return whether it did."""
        return False
