"""The tf.distribute strategy a job trains under, and how one global batch is split over it.

TensorFlow's default device keeps its default strategy (nothing changes for a one-GPU worker),
another single device gets a OneDeviceStrategy, and several get a MirroredStrategy (Keras models
only): every variable, mask included, is mirrored, the gradients are summed across replicas,
and every replica applies the same update.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from worker.pruning.contract.devices import DeviceChoice

SAVED_MODEL_ON_ONE_DEVICE = (
    "trained on one device ({}): a SavedModel upload trains on one device only; upload a Keras "
    "3 .keras file to train on all the devices this worker has"
)


def _short_name(device: Any) -> str:
    """ "/physical_device:GPU:0" or "/job:localhost/.../device:CPU:1" -> "GPU:0", "CPU:1"."""
    return ":".join(device.name.split(":")[-2:])


def _split_cpu(logical_cpus: int) -> None:
    # Must run before TensorFlow initializes its devices: the trainer calls it first.
    (cpu,) = tf.config.list_physical_devices("CPU")
    if len(tf.config.get_logical_device_configuration(cpu) or []) == logical_cpus:
        return
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(logical_cpus)]
    )


def training_strategy(
    choice: DeviceChoice, keras_model: bool
) -> tuple[tf.distribute.Strategy, list[str]]:
    """The strategy, and a warning when the job cannot have every device it was given."""
    if choice.keyword == "cpu":
        tf.config.set_visible_devices([], "GPU")
    if choice.logical_cpus > 1:
        _split_cpu(choice.logical_cpus)
    gpus = [_short_name(d) for d in tf.config.list_logical_devices("GPU")]
    cpus = [_short_name(d) for d in tf.config.list_logical_devices("CPU")]
    devices = choice.pick(gpus, cpus)
    if len(devices) > 1 and keras_model:
        return tf.distribute.MirroredStrategy(devices), []
    # A SavedModel's restored functions were traced outside any replica and refuse to run in one.
    warnings = [] if len(devices) == 1 else [SAVED_MODEL_ON_ONE_DEVICE.format(devices[0])]
    if devices[0] == (gpus or cpus)[0]:
        return tf.distribute.get_strategy(), warnings  # TensorFlow's default device already
    return tf.distribute.OneDeviceStrategy(devices[0]), warnings


def split_batch(strategy: tf.distribute.Strategy, batch: Any) -> Any:
    """One global batch as per-replica slices of (nearly) equal size, in order."""
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        return batch
    rows = tf.shape(tf.nest.flatten(batch)[0])[0]

    def replica_slice(context: tf.distribute.InputContext) -> Any:
        index = context.replica_id_in_sync_group
        start, end = rows * index // replicas, rows * (index + 1) // replicas
        return tf.nest.map_structure(lambda tensor: tensor[start:end], batch)

    return strategy.experimental_distribute_values_from_function(replica_slice)


def share_of_global_batch(local_rows: tf.Tensor) -> tf.Tensor:
    """This replica's rows over the global batch's: a replica's mean loss times this is its
    part of the global mean, so the summed gradients are those of one device on the batch."""
    local = tf.cast(local_rows, tf.float32)
    context = tf.distribute.get_replica_context()
    return local / context.all_reduce(tf.distribute.ReduceOp.SUM, local)
