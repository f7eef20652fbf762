"""Distillation from the frozen uploaded model (PRUNING.md section 10).

Classification: (1 - alpha) * task + alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)),
on logits or on probabilities (turned back into logits) as from_logits says; a sigmoid output
is a two-class softmax over [z, 0]. Regression: (1 - alpha) * task + alpha * mse(teacher,
student). The teacher is a second load of the upload, never trained, never exported.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from worker.pruning.contract.training_config import TrainingConfig
from worker.pruning.prunable_model import PrunableModel

_EPSILON = 1e-7


def _as_logits(outputs: tf.Tensor, from_logits: bool, binary: bool) -> tf.Tensor:
    if binary:
        if not from_logits:
            p = tf.clip_by_value(outputs, _EPSILON, 1.0 - _EPSILON)
            outputs = tf.math.log(p) - tf.math.log1p(-p)
        return tf.stack([outputs, tf.zeros_like(outputs)], axis=-1)
    if from_logits:
        return outputs
    return tf.math.log(tf.clip_by_value(outputs, _EPSILON, 1.0))


def soft_kl(teacher_logits: tf.Tensor, student_logits: tf.Tensor, temperature: float) -> tf.Tensor:
    """Mean KL(softmax(teacher/T) || softmax(student/T)) over everything but the class axis."""
    teacher_log = tf.nn.log_softmax(teacher_logits / temperature, axis=-1)
    student_log = tf.nn.log_softmax(student_logits / temperature, axis=-1)
    kl = tf.reduce_sum(tf.exp(teacher_log) * (teacher_log - student_log), axis=-1)
    return tf.reduce_mean(kl)


class Distiller:
    def __init__(self, teacher: PrunableModel, config: TrainingConfig, from_logits: bool) -> None:
        assert config.distillation is not None
        self._teacher = teacher
        self._alpha = config.distillation.alpha
        self._temperature = config.distillation.temperature
        self._classification = config.is_classification
        self._binary = config.loss == "binary_crossentropy"
        self._from_logits = from_logits

    def soft_loss(self, teacher: tf.Tensor, student: tf.Tensor) -> tf.Tensor:
        if not self._classification:
            return tf.reduce_mean(tf.square(teacher - student))
        t = _as_logits(teacher, self._from_logits, self._binary)
        s = _as_logits(student, self._from_logits, self._binary)
        return self._temperature**2 * soft_kl(t, s, self._temperature)

    def blend(self, task_loss: tf.Tensor, student: tf.Tensor, x: dict[str, Any]) -> tf.Tensor:
        teacher = tf.stop_gradient(tf.cast(self._teacher.forward(x, training=False), tf.float32))
        return (1.0 - self._alpha) * task_loss + self._alpha * self.soft_loss(teacher, student)
