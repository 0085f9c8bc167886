"""Training on several devices at once: ``tf.distribute.MirroredStrategy`` (data parallel)."""

import tensorflow as tf


def training_devices():
    """The devices a model can train on at once: the GPUs, or without any the CPU's logical
    devices (one, unless set with ``tf.config.set_logical_device_configuration``)."""
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def training_strategy(devices):
    """A ``MirroredStrategy`` over the first ``devices`` devices; ``None`` for one device.

    Each batch is split between the devices; each computes the gradients of its part and the
    gradients are added before every step, so the steps are those of one device.
    """
    if devices <= 1:
        return None
    found = training_devices()
    if len(found) < devices:
        raise ValueError(
            f"training on {devices} devices needs {devices} GPUs, but this machine has "
            f"{len(found)} device(s): {', '.join(found)}"
        )
    return tf.distribute.MirroredStrategy(found[:devices])
