"""The one interface the engine trains through, whatever kind of model was uploaded.

`keras_adapter` and `saved_model_adapter` implement it; `loading.load_prunable_model`
picks one. Which weights are candidates is decided by `contract.model_rules`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from worker.pruning.contract.signatures import Signature


def param_count(variable: Any) -> int:
    return math.prod(int(d) for d in variable.shape)


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
        """The input-channel axis N:M groups run along: the rows of a 2-D kernel (Dense, an
        Embedding table, an RNN cell's kernel and recurrent kernel, whose gates sit side by side
        along the columns)."""
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
