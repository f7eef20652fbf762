"""The `training` object of a job (PRUNING.md section 7). Plain pydantic, no TensorFlow."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from worker.pruning.contract.errors import InvalidConfig
from worker.pruning.contract.json_scalars import Bool, Float, Int

CLASSIFICATION_LOSSES = frozenset(
    {
        "sparse_categorical_crossentropy",
        "categorical_crossentropy",
        "binary_crossentropy",
    }
)
REGRESSION_LOSSES = frozenset(
    {"mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "log_cosh"}
)
LOSSES = CLASSIFICATION_LOSSES | REGRESSION_LOSSES
METRICS = frozenset({"accuracy", "mse", "mae", "mean_squared_error", "mean_absolute_error"})

ADAMW_WEIGHT_DECAY = 0.004  # Keras's default

# Bounds that keep one job finite; a serious run fits well inside them.
MAX_STEPS = 10_000_000
MAX_EPOCHS = 100_000


class Distillation(BaseModel):
    """PRUNING.md section 10: the frozen uploaded model teaches the pruned one."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    alpha: Float = Field(0.5, ge=0.0, le=1.0, description="Weight of the teacher's loss term.")
    temperature: Float = Field(
        4.0, gt=0.0, le=100.0, description="Softens both softmaxes (classification)."
    )


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # Each description reaches users through /openapi.json and the dashboard's form.
    loss: str = Field("sparse_categorical_crossentropy", description="A Keras loss name.")
    from_logits: Bool | Literal["auto"] = Field(
        "auto", description='true, false, or "auto" = decided from the output range on a batch.'
    )
    metrics: list[str] | None = Field(
        None, description='Metrics to report; null = ["accuracy"] for classification losses.'
    )
    optimizer: Literal["sgd", "adam", "adamw", "rmsprop"] = Field(
        "adam", description="The fine-tuning optimizer."
    )
    learning_rate: Float = Field(1e-3, gt=0.0, le=10.0, description="The optimizer's step size.")
    momentum: Float = Field(0.0, ge=0.0, lt=1.0, description="Momentum (sgd and rmsprop).")
    # None: Keras's AdamW default for "adamw", no decay for the others (Adam stays Adam).
    weight_decay: Float | None = Field(
        None, ge=0.0, lt=1.0, description="null = 0.004 for adamw, no decay for the others."
    )
    batch_size: Int = Field(32, ge=1, le=65536, description="Examples per optimizer step.")
    epochs: Int | None = Field(
        None, ge=1, le=MAX_EPOCHS, description="Passes over the training data (or give steps)."
    )
    steps: Int | None = Field(
        None, ge=1, le=MAX_STEPS, description="Optimizer steps (or give epochs); null = 1 epoch."
    )
    seed: Int = Field(0, ge=0, le=2**31 - 1, description="Seed for shuffling and the split.")
    signature: str = Field("serving_default", description="The signature to fine-tune through.")
    validation_split: Float = Field(
        0.1,
        gt=0.0,
        lt=1.0,
        description="Share of the training data held out when there is no x_val/y_val.",
    )
    distillation: Distillation | None = Field(
        None,
        description="The frozen upload teaches the pruned model: alpha weighs its loss, "
        "temperature softens classification outputs.",
    )

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, loss: str) -> str:
        if loss not in LOSSES:
            raise ValueError(f"loss {loss!r} is not supported; use one of {sorted(LOSSES)}")
        return loss

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str] | None) -> list[str] | None:
        unknown = sorted(set(metrics or []) - METRICS)
        if unknown:
            raise ValueError(f"metrics {unknown} are not supported; use some of {sorted(METRICS)}")
        return metrics

    @field_validator("steps")
    @classmethod
    def _epochs_or_steps(cls, steps: int | None, info: ValidationInfo) -> int | None:
        if steps is not None and info.data.get("epochs") is not None:
            raise ValueError("give epochs or steps, not both")
        return steps

    @model_validator(mode="after")
    def _accuracy_needs_classes(self) -> TrainingConfig:
        if "accuracy" in (self.metrics or []) and not self.is_classification:
            raise ValueError(
                f"metric 'accuracy' needs a classification loss, not {self.loss!r}; "
                "use mse or mae for a regression"
            )
        return self

    @property
    def is_classification(self) -> bool:
        return self.loss in CLASSIFICATION_LOSSES

    def resolved_metrics(self) -> list[str]:
        if self.metrics is not None:
            return list(self.metrics)
        return ["accuracy"] if self.is_classification else []

    def steps_per_epoch(self, n_train: int) -> int:
        return max(1, math.ceil(n_train / self.batch_size))

    def total_steps(self, n_train: int) -> int:
        if self.steps is not None:
            return self.steps
        return (self.epochs or 1) * self.steps_per_epoch(n_train)

    def resolved_weight_decay(self) -> float:
        if self.weight_decay is not None:
            return self.weight_decay
        return ADAMW_WEIGHT_DECAY if self.optimizer == "adamw" else 0.0

    def resolved(self) -> dict[str, Any]:
        """What the job stores: every default filled in, metrics decided."""
        out = self.model_dump()
        out["metrics"] = self.resolved_metrics()
        out["weight_decay"] = self.resolved_weight_decay()
        if out["steps"] is None and out["epochs"] is None:
            out["epochs"] = 1
        return out


def parse_training(value: dict[str, Any] | None) -> TrainingConfig:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidConfig("invalid_training", "training must be a JSON object")
    try:
        return TrainingConfig.model_validate(value)
    except ValidationError as exc:
        raise InvalidConfig.from_validation("invalid_training", "training config", exc) from None
