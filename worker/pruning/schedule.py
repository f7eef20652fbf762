"""When masks are updated and to which sparsity: PRUNING.md section 2 (contrib's code).

Pure Python, no TensorFlow: the trainer asks it at every optimizer step, the API can
preview it, and it round-trips through a plain dict like tfmot's schedules.
"""

from __future__ import annotations

from typing import Any

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.hparams import PruningHParams, parse_hparams

SCHEDULE_FIELDS: tuple[str, ...] = (
    "begin_pruning_step",
    "end_pruning_step",
    "pruning_frequency",
    "initial_sparsity",
    "target_sparsity",
    "sparsity_function_begin_step",
    "sparsity_function_end_step",
    "sparsity_function_exponent",
)


class PruningSchedule:
    """s(t) = target + (initial - target) * (1 - p) ** exponent, p the clipped ramp position."""

    def __init__(self, hparams: PruningHParams) -> None:
        self.begin_pruning_step = hparams.begin_pruning_step
        self.end_pruning_step = hparams.end_pruning_step
        self.pruning_frequency = hparams.pruning_frequency
        self.initial_sparsity = hparams.initial_sparsity
        self.target_sparsity = hparams.target_sparsity
        self.sparsity_function_begin_step = hparams.sparsity_function_begin_step
        self.sparsity_function_end_step = hparams.sparsity_function_end_step
        self.sparsity_function_exponent = hparams.sparsity_function_exponent

    def ramp_position(self, step: int) -> float:
        """p of PRUNING.md section 2: 0 before the ramp, 1 from its end on."""
        begin, end = self.sparsity_function_begin_step, self.sparsity_function_end_step
        return min(1.0, max(0.0, (step - begin) / (end - begin)))

    def ramp_fraction(self, step: int) -> float:
        """How far s(t) has moved from initial to target: 1 - (1 - p) ** exponent."""
        return 1.0 - (1.0 - self.ramp_position(step)) ** self.sparsity_function_exponent

    def sparsity(self, step: int) -> float:
        remaining = (1.0 - self.ramp_position(step)) ** self.sparsity_function_exponent
        return self.target_sparsity + (self.initial_sparsity - self.target_sparsity) * remaining

    def layer_sparsity(self, step: int, layer_target: float | None) -> float:
        """Sparsity of a layer whose weight_sparsity_map value is `layer_target` (None: no entry).

        contrib's rule s(t) * v / target_sparsity. With target_sparsity == 0 that ratio is
        undefined; the layer then follows the same ramp shape from 0 to v, v * ramp_fraction(t)
        (the rule's limit for initial_sparsity == 0). Clipped to [0, 1] because an
        initial_sparsity above target_sparsity can push the ratio past 1.
        """
        if layer_target is None:
            return self.sparsity(step)
        if self.target_sparsity == 0.0:
            scaled = layer_target * self.ramp_fraction(step)
        else:
            scaled = self.sparsity(step) * layer_target / self.target_sparsity
        return min(1.0, max(0.0, scaled))

    def mask_update_due(self, step: int, last_update_step: int | None) -> bool:
        """Whether masks are updated at `step`; `last_update_step` None = never updated yet."""
        if step < self.begin_pruning_step:
            return False
        if self.end_pruning_step != -1 and step > self.end_pruning_step:
            return False
        return last_update_step is None or step - last_update_step >= self.pruning_frequency

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SCHEDULE_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PruningSchedule:
        """Inverse of to_dict; validated like hparams (InvalidConfig naming the field)."""
        unknown = sorted(set(values) - set(SCHEDULE_FIELDS))
        if unknown:
            raise InvalidConfig(
                "invalid_hparams",
                f"unknown schedule fields {', '.join(unknown)}; "
                f"valid names are: {', '.join(SCHEDULE_FIELDS)}",
                [{"field": name, "message": "unknown name"} for name in unknown],
            )
        return cls(parse_hparams(dict(values)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PruningSchedule) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"PruningSchedule({fields})"


def layer_target_for(hparams: PruningHParams, weight_name: str) -> float | None:
    """The weight_sparsity_map value whose regex matches `weight_name` (re.search), if any.

    Like contrib, more than one matching entry is an error: raised when the trainer sets up
    its layers, before any step, so the user learns it at once.
    """
    matches = [value for regex, value in hparams.sparsity_map() if regex.search(weight_name)]
    if len(matches) > 1:
        raise InvalidConfig(
            "invalid_hparams",
            f"weight_sparsity_map has {len(matches)} entries matching {weight_name!r}; "
            "make the regexes match at most one each",
            [{"field": "weight_sparsity_map", "message": f"several entries match {weight_name}"}],
        )
    return matches[0] if matches else None
