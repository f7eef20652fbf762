"""One pruning job from start to finish: load and check everything (refusing early), measure
the dense model, fine-tune with pruning, measure again, export, write metrics.json."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from worker.pruning.channel_groups import ChannelGraph
from worker.pruning.channel_job import channel_graph_for, finish_channels, make_pruner
from worker.pruning.contract.devices import ONE_DEVICE, DeviceChoice
from worker.pruning.contract.exports import block_warnings
from worker.pruning.contract.hparams import PruningHParams
from worker.pruning.contract.signatures import check_signature
from worker.pruning.contract.training_config import TrainingConfig
from worker.pruning.data import JobData, load_npz, prepare_data
from worker.pruning.distillation import Distiller
from worker.pruning.loading import UNPACKED_DIR, is_keras_upload, load_prunable_model
from worker.pruning.objectives import (
    MetricFactory,
    build_loss,
    metric_factories,
    resolve_from_logits,
)
from worker.pruning.progress import EventStream, json_safe
from worker.pruning.prunable_model import PrunableModel
from worker.pruning.pruner import Pruner
from worker.pruning.replicas import training_strategy
from worker.pruning.results import (
    PruningSummaries,
    build_metrics,
    directory_sizes,
    evaluate,
    raw_bytes,
)
from worker.pruning.tflite_exports import ExportInputs, run_exports
from worker.pruning.train_step import TrainStep, build_optimizer, variables_with_gradients
from worker.pruning.training_loop import ProgressReporter, TrainingStats, batches, fine_tune
from worker.pruning.weight_selection import PrunedWeight, select_weights

SAVED_MODEL_DIR = "saved_model"
KERAS_FILE = "model.keras"
METRICS_FILE = "metrics.json"
TENSORBOARD_DIR = "tensorboard"


@dataclass
class CheckedJob:
    """Everything decided before the first step; building it is where refusals happen."""

    model: PrunableModel
    data: JobData
    weights: list[PrunedWeight]
    variables: list[Any]  # the trainable variables that get a gradient
    loss_fn: Any
    metrics: dict[str, MetricFactory]
    from_logits: bool
    train_batches: tf.data.Dataset
    val_batches: tf.data.Dataset
    total_steps: int
    channels: ChannelGraph | None = None  # pruning_unit "channel"
    distiller: Distiller | None = None  # training.distillation


def check_job(
    model_path: str, data_path: str, hparams: PruningHParams, config: TrainingConfig, scratch: str
) -> CheckedJob:
    model = load_prunable_model(model_path, config.signature, scratch)
    check_signature(model.signatures(), model.signature_name)
    arrays = load_npz(data_path, scratch)
    data = prepare_data(arrays, model.signature, config.loss, config.validation_split)
    weights = select_weights(model.candidate_weights(), hparams)
    channels = channel_graph_for(model, hparams)
    teacher = None
    if config.distillation is not None:  # a second, frozen load of the upload
        teacher_scratch = Path(scratch) / "teacher"
        teacher_scratch.mkdir()
        teacher = load_prunable_model(model_path, config.signature, str(teacher_scratch))
    train_batches = batches(data.train, config.batch_size, shuffle_seed=config.seed)
    x, y = next(iter(train_batches))
    from_logits = resolve_from_logits(config, model.forward(x, training=False).numpy())
    loss_fn = build_loss(config, from_logits)
    variables = variables_with_gradients(
        model, loss_fn, x, y, [(w.name, w.weight.variable) for w in weights]
    )
    return CheckedJob(
        model=model,
        data=data,
        weights=weights,
        variables=variables,
        loss_fn=loss_fn,
        metrics=metric_factories(config, from_logits),
        from_logits=from_logits,
        train_batches=train_batches,
        val_batches=batches(data.val, config.batch_size),
        total_steps=config.total_steps(len(data.train)),
        channels=channels,
        distiller=None if teacher is None else Distiller(teacher, config, from_logits),
    )


def _upload_bytes(model_path: str, scratch: str) -> int:
    """The upload as loaded: the .keras file, or the SavedModel directory (unpacked if archived)."""
    unpacked = Path(scratch) / UNPACKED_DIR
    return raw_bytes(unpacked if unpacked.is_dir() else model_path)


def _export_sizes(model: PrunableModel, directory: Path) -> tuple[int, int]:
    model.export(str(directory))
    return directory_sizes(directory)


@dataclass(frozen=True)
class PruningRun:
    """What fine-tuning a checked job needs, built one way for the engine and its benchmark."""

    pruner: Pruner
    train_step: TrainStep
    summaries: PruningSummaries
    reporter: ProgressReporter


def prepare_pruning(
    job: CheckedJob,
    hparams: PruningHParams,
    config: TrainingConfig,
    tensorboard_dir: Path,
    events: EventStream,
) -> PruningRun:
    pruner = make_pruner(job.model, job.channels, job.weights, hparams)
    train_step = TrainStep(
        job.model,
        job.loss_fn,
        build_optimizer(config),
        job.variables,
        pruner.masked_variables(),
        job.train_batches.element_spec,
        job.distiller,
    )
    summaries = PruningSummaries(str(tensorboard_dir), hparams.name)
    reporter = ProgressReporter(
        events,
        summaries,
        pruner,
        train_step,
        job.total_steps,
        config.steps_per_epoch(len(job.data.train)),
    )
    return PruningRun(pruner, train_step, summaries, reporter)


def _prune(
    job: CheckedJob, hparams: PruningHParams, config: TrainingConfig, out: Path, events: EventStream
) -> tuple[Pruner, TrainingStats]:
    run = prepare_pruning(job, hparams, config, out / TENSORBOARD_DIR, events)
    try:
        fine_tune(run.pruner, run.train_step, job.train_batches, job.total_steps, run.reporter)
    finally:
        run.summaries.close()
    return run.pruner, run.reporter.stats(job.total_steps)


def _training_summary(config: TrainingConfig, job: CheckedJob, replicas: int) -> dict[str, Any]:
    return {
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "learning_rate": config.learning_rate,
        "loss": config.loss,
        "from_logits": job.from_logits,
        "train_examples": len(job.data.train),
        "validation_examples": len(job.data.val),
        "validation_source": job.data.val_source,
        "replicas": replicas,
    }


def run_pruning(
    model_path: str,
    data_path: str,
    hparams: PruningHParams,
    config: TrainingConfig,
    out_dir: str,
    events: EventStream,
    exports: list[str] | None = None,
    devices: DeviceChoice = ONE_DEVICE,
) -> dict[str, Any]:
    """Write out_dir/{saved_model, model.keras (Keras input), metrics.json, tensorboard} and
    out_dir/<export>.tflite for each requested export that converted."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    strategy, device_warnings = training_strategy(devices, is_keras_upload(model_path))
    keras.utils.set_random_seed(config.seed)
    # The scratch directory holds an unpacked upload, which the export may still read (assets).
    with tempfile.TemporaryDirectory(prefix="shears-job-") as scratch:
        with strategy.scope():  # model, teacher, optimizer and masks: mirrored on every device
            job = check_job(model_path, data_path, hparams, config, scratch)
        warnings = (
            device_warnings
            + hparams.schedule_warnings(job.total_steps)
            + block_warnings(hparams, exports or [])
        )
        events.emit("started", total_steps=job.total_steps, warnings=warnings)
        upload_bytes = _upload_bytes(model_path, scratch)

        dense_dir = Path(scratch) / "dense_saved_model"
        dense_bytes, dense_gzip = _export_sizes(job.model, dense_dir)
        if not exports:
            shutil.rmtree(dense_dir)
        baseline = evaluate(job.model, job.loss_fn, job.metrics, job.val_batches)

        with strategy.scope():
            pruner, stats = _prune(job, hparams, config, out, events)

        pruned = evaluate(job.model, job.loss_fn, job.metrics, job.val_batches)
        structure = None
        if job.channels is not None:  # the rebuilt model replaces the masked one from here
            structure = finish_channels(job.model, pruner, job.data.val)
        pruned_bytes, pruned_gzip = _export_sizes(job.model, out / SAVED_MODEL_DIR)
        job.model.save_keras(str(out / KERAS_FILE))
        if exports:
            inputs = ExportInputs(
                str(dense_dir),
                str(out / SAVED_MODEL_DIR),
                job.model.signature_name,
                job.data,
                job.metrics,
            )
            exported = run_exports(exports, inputs, out)
    report = build_metrics(
        baseline=baseline,
        pruned=pruned,
        pruner=pruner,
        model=job.model,
        sizes={
            "upload_bytes": upload_bytes,
            "dense_bytes": dense_bytes,
            "dense_gzip_bytes": dense_gzip,
            "pruned_bytes": pruned_bytes,
            "pruned_gzip_bytes": pruned_gzip,
        },
        stats=stats.to_json(),
        training=_training_summary(config, job, strategy.num_replicas_in_sync),
        warnings=warnings,
    )
    if exports:
        report["exports"] = exported
    if structure is not None:
        report["structure"] = structure
    (out / METRICS_FILE).write_text(json.dumps(json_safe(report), indent=2, allow_nan=False))
    events.emit("metrics", **report)
    return report
