"""Which accelerator trains: GPU discovery, memory growth and a readable device name."""

from __future__ import annotations

import threading

import tensorflow as tf

_configured = False
_lock = threading.Lock()


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


def device_description() -> str:
    """Where Keras trains by default: ``"CPU"`` or ``"GPU:0 (<name>)"``."""
    name = gpu_name(0)
    return "CPU" if name is None else f"GPU:0 ({name})"
