"""Which accelerator trains: GPU discovery, memory growth, a readable device name, and the
distribution strategy of a run on several devices."""

from __future__ import annotations

import threading

import tensorflow as tf

from mogui.core.errors import DeviceError
from mogui.engine.plain_keras.distribution import training_devices, training_strategy

_configured = False
_lock = threading.Lock()
#: One strategy per set of devices for the whole process: collective operations of a second
#: MirroredStrategy over the same devices can collide with those of the first.
_strategies: dict[int, tf.distribute.Strategy] = {}


def configure_devices() -> None:
    """Let TensorFlow grow GPU memory as needed instead of taking it all.

    Runs once per process; must come before the first TensorFlow op. When TensorFlow is
    already initialised (memory growth can no longer change) it carries on as it is.
    """
    global _configured
    with _lock:
        if _configured:
            return
        _configured = True
        for gpu in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except (RuntimeError, ValueError):
                pass


def list_gpus() -> list[str]:
    """Names of the visible GPUs, e.g. ``["/physical_device:GPU:0"]``."""
    return [gpu.name for gpu in tf.config.list_physical_devices("GPU")]


def gpu_name(index: int = 0) -> str | None:
    """The model name of GPU ``index`` (e.g. ``"NVIDIA H100 80GB HBM3"``) or ``None``."""
    gpus = tf.config.list_physical_devices("GPU")
    if index >= len(gpus):
        return None
    try:
        details = tf.config.experimental.get_device_details(gpus[index])
    except (RuntimeError, ValueError):
        details = {}
    return str(details.get("device_name") or gpus[index].name)


def device_description(devices: int = 1) -> str:
    """Where Keras trains by default: ``"CPU"`` or ``"GPU:0 (<name>)"``; on several devices
    ``"2 GPUs (<name>)"`` or ``"2 CPU devices"``."""
    name = gpu_name(0)
    if devices > 1:
        return f"{devices} CPU devices" if name is None else f"{devices} GPUs ({name})"
    return "CPU" if name is None else f"GPU:0 ({name})"


def distribution_strategy(devices: int) -> tf.distribute.Strategy | None:
    """``MirroredStrategy`` over ``devices`` GPUs (CPU devices when there is no GPU); ``None``
    for one device. Raises :class:`DeviceError` when the machine has fewer."""
    if devices <= 1:
        return None
    found = training_devices()
    if len(found) < devices:
        gpus = len(tf.config.list_logical_devices("GPU"))
        has = f"{gpus} GPU{'s' if gpus != 1 else ''}" if gpus else "no GPU"
        raise DeviceError(
            f"This run trains on {devices} devices at once (training.devices), but this "
            f"machine has {has}. Set training.devices to {max(1, gpus)} (on the command line: "
            f"--devices {max(1, gpus)}), or train on a machine with {devices} GPUs.")
    with _lock:
        if devices not in _strategies:
            _strategies[devices] = training_strategy(devices)
        return _strategies[devices]
