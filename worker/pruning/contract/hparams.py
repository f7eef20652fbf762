"""Pruning hyperparameters: contrib's names and defaults, parsed from JSON or contrib's string form.

Plain pydantic, no TensorFlow: the API validates with this at submit time and the
engine executes the same resolved object.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from worker.pruning.contract.channel_rules import channel_unit_clashes
from worker.pruning.contract.contrib_string import parse_contrib_string
from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.json_scalars import Float, Int


class PruningHParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # The seed's table (contrib). Descriptions: PRUNING.md's, for /openapi.json and the dashboard.
    begin_pruning_step: Int = Field(0, ge=0, description="First step where masks may be updated.")
    end_pruning_step: Int = Field(
        -1,
        validate_default=True,
        description="Last step at which masks may be updated; -1 = until training ends.",
    )
    do_not_prune: list[str] = Field(
        [], description="Layer/variable names or regexes that are never pruned."
    )
    threshold_decay: Float = Field(
        0.9, ge=0.0, lt=1.0, description="Exponential smoothing of each layer's threshold."
    )
    pruning_frequency: Int = Field(10, ge=1, description="Steps between mask updates.")
    initial_sparsity: Float = Field(
        0.0, ge=0.0, lt=1.0, description="Sparsity at sparsity_function_begin_step."
    )
    target_sparsity: Float = Field(
        0.5, ge=0.0, lt=1.0, description="Sparsity from sparsity_function_end_step on."
    )
    sparsity_function_begin_step: Int = Field(0, description="Start of the sparsity ramp.")
    sparsity_function_end_step: Int = Field(
        100, validate_default=True, description="End of the sparsity ramp."
    )
    sparsity_function_exponent: Float = Field(
        3.0, gt=0.0, description="1 = linear ramp; >1 = fast first, slow later."
    )
    # contrib's later versions.
    name: str = Field("model_pruning", description="Label used in summaries.")
    weight_sparsity_map: list[str] = Field(
        [], description='"regex:sparsity" pairs: per-layer target sparsity.'
    )
    block_height: Int = Field(
        1, description="Block sparsity for rank-2 weights: block height; -1 = the whole dimension."
    )
    block_width: Int = Field(
        1, description="Block sparsity for rank-2 weights: block width; -1 = the whole dimension."
    )
    block_pooling_function: Literal["AVG", "MAX"] = Field(
        "AVG", description="How a block's magnitude is pooled."
    )
    block_dims_map: list[str] = Field([], description='"regex:HxW" pairs: per-layer block shape.')
    nbins: Int = Field(256, ge=1, description="Accepted for compatibility; thresholds are exact.")
    # Beyond contrib.
    pruning_scope: Literal["layer", "global"] = Field(
        "layer",
        description="One threshold per layer (contrib), or one threshold over all prunable "
        "weights together.",
    )
    sparsity_m_by_n: str | None = Field(
        None,
        description='N-out-of-M structured sparsity (e.g. "2:4"): in every group of M '
        "consecutive weights along the input-channel axis, keep the N largest.",
    )
    # Section 9: remove whole output channels.
    pruning_unit: Literal["weight", "channel"] = Field(
        "weight",
        description='"weight" (contrib), or "channel": whole output channels are removed and '
        "the model is rebuilt smaller (.keras uploads).",
    )
    channel_criterion: Literal["l2", "l1"] = Field(
        "l2", description="The norm that scores a channel."
    )

    @field_validator("do_not_prune", "weight_sparsity_map", "block_dims_map", mode="before")
    @classmethod
    def _drop_empty_names(cls, value: Any) -> Any:
        # contrib's own default for do_not_prune is [""]: an empty entry means nothing.
        if isinstance(value, list):
            return [v for v in value if not (isinstance(v, str) and v.strip() == "")]
        return value

    @field_validator("do_not_prune")
    @classmethod
    def _regexes_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            _compile(pattern)
        return patterns

    @field_validator("weight_sparsity_map")
    @classmethod
    def _sparsity_pairs(cls, pairs: list[str]) -> list[str]:
        for regex, value in (_split_pair(p) for p in pairs):
            _compile(regex)
            try:
                sparsity = float(value)
            except ValueError:
                raise ValueError(f"{value!r} in weight_sparsity_map is not a number") from None
            if not 0.0 <= sparsity < 1.0:
                raise ValueError(f"sparsity {sparsity} for {regex!r} must be in [0, 1)")
        return pairs

    @field_validator("block_dims_map")
    @classmethod
    def _block_pairs(cls, pairs: list[str]) -> list[str]:
        for regex, value in (_split_pair(p) for p in pairs):
            _compile(regex)
            _parse_block_dims(value)
        return pairs

    @field_validator("block_height", "block_width")
    @classmethod
    def _block_dim(cls, value: int) -> int:
        if value != -1 and value < 1:
            raise ValueError("must be >= 1, or -1 for the whole dimension")
        return value

    @field_validator("sparsity_m_by_n")
    @classmethod
    def _m_by_n(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_m_by_n(value)
        return value

    @field_validator("pruning_unit")
    @classmethod
    def _unit_alone(cls, unit: str, info: ValidationInfo) -> str:
        if unit == "channel":
            clashes = channel_unit_clashes(info.data)
            if clashes:
                raise ValueError(f"'channel' does not combine with {', '.join(clashes)}")
        return unit

    # Checked on the "end" field (validated after its "begin", and even when left at its
    # default) so the 422 names a field; info.data lacks a "begin" that failed its own check.
    @field_validator("end_pruning_step")
    @classmethod
    def _end_after_begin(cls, end: int, info: ValidationInfo) -> int:
        begin = info.data.get("begin_pruning_step")
        if begin is not None and end != -1 and end <= begin:
            raise ValueError(
                "must be -1 (until training ends) or greater than begin_pruning_step "
                f"({begin}), got {end}"
            )
        return end

    @field_validator("sparsity_function_end_step")
    @classmethod
    def _ramp_in_order(cls, end: int, info: ValidationInfo) -> int:
        begin = info.data.get("sparsity_function_begin_step")
        if begin is not None and end <= begin:
            raise ValueError(
                f"must be greater than sparsity_function_begin_step ({begin}), got {end}"
            )
        return end

    # Derived views the engine uses; the stored object stays the user's strings.
    def sparsity_map(self) -> list[tuple[re.Pattern[str], float]]:
        pairs = (_split_pair(p) for p in self.weight_sparsity_map)
        return [(_compile(regex), float(value)) for regex, value in pairs]

    def block_map(self) -> list[tuple[re.Pattern[str], tuple[int, int]]]:
        pairs = (_split_pair(p) for p in self.block_dims_map)
        return [(_compile(regex), _parse_block_dims(value)) for regex, value in pairs]

    def m_by_n(self) -> tuple[int, int] | None:
        return None if self.sparsity_m_by_n is None else _parse_m_by_n(self.sparsity_m_by_n)

    def last_mask_update_step(self, total_steps: int) -> int | None:
        """The last step (0-based) at which masks are updated in `total_steps` steps, if any."""
        last_step = total_steps - 1
        if self.end_pruning_step != -1:
            last_step = min(last_step, self.end_pruning_step)
        if last_step < self.begin_pruning_step:
            return None
        # Updates fall on begin, begin + frequency, ... (PRUNING.md section 2).
        updates_after_first = (last_step - self.begin_pruning_step) // self.pruning_frequency
        return self.begin_pruning_step + updates_after_first * self.pruning_frequency

    def schedule_warnings(self, total_steps: int) -> list[str]:
        """Why this schedule cannot reach its target within `total_steps` optimizer steps, if so."""
        last_update = self.last_mask_update_step(total_steps)
        if last_update is None:
            return [
                f"begin_pruning_step ({self.begin_pruning_step}) is past the job's last training "
                f"step ({total_steps - 1}): no weight will be pruned"
            ]
        if self.sparsity_function_end_step > last_update:
            return [
                f"the sparsity ramp ends at step {self.sparsity_function_end_step}, but the last "
                f"mask update happens at step {last_update} of {total_steps}: target_sparsity "
                f"{self.target_sparsity} will not be reached; lower sparsity_function_end_step or "
                "train for more steps"
            ]
        return []


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None


def _split_pair(pair: str) -> tuple[str, str]:
    regex, sep, value = pair.rpartition(":")
    if not sep or not regex:
        raise ValueError(f"{pair!r} must have the form 'regex:value'")
    return regex, value.strip()


def _parse_block_dims(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(-?\d+)\s*x\s*(-?\d+)\s*", value)
    if not match:
        raise ValueError(f"block dims {value!r} must have the form 'HxW', such as '1x4'")
    height, width = int(match.group(1)), int(match.group(2))
    for dim in (height, width):
        if dim != -1 and dim < 1:
            raise ValueError(f"block dims {value!r}: each must be >= 1 or -1")
    return height, width


def _parse_m_by_n(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", value)
    if not match:
        raise ValueError(f"{value!r} must have the form 'N:M', such as '2:4'")
    n, m = int(match.group(1)), int(match.group(2))
    if not 1 <= n < m:
        raise ValueError(f"{value!r}: N must be at least 1 and less than M")
    return n, m


FIELD_NAMES: tuple[str, ...] = tuple(PruningHParams.model_fields)


def parse_hparams(value: str | dict[str, Any] | None) -> PruningHParams:
    """Resolve either form to a validated object, or raise InvalidConfig naming each bad field."""
    if value is None:
        raw: dict[str, Any] = {}
    elif isinstance(value, str):
        raw = parse_contrib_string(value)
    elif isinstance(value, dict):
        raw = dict(value)
    else:
        raise InvalidConfig(
            "invalid_hparams", "hparams must be a JSON object or a contrib string 'key=value,...'"
        )
    unknown = sorted(set(raw) - set(FIELD_NAMES))
    if unknown:
        raise InvalidConfig(
            "invalid_hparams",
            f"unknown hparams {', '.join(unknown)}; valid names are: {', '.join(FIELD_NAMES)}",
            [{"field": name, "message": "unknown name"} for name in unknown],
        )
    try:
        return PruningHParams.model_validate(raw)
    except ValidationError as exc:
        raise InvalidConfig.from_validation("invalid_hparams", "hparams", exc) from None
