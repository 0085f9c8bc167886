"""Device discovery and set-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
import tensorflow as tf

from mogui.engine.training import devices


def test_configure_devices_is_idempotent_and_safe_after_tensorflow_started():
    tf.constant(1.0) + 1.0  # TensorFlow is running: memory growth can no longer change
    devices.configure_devices()
    devices.configure_devices()
    assert devices._configured


def test_device_description_names_the_device_in_use():
    gpus = devices.list_gpus()
    description = devices.device_description()
    if gpus:
        assert description.startswith("GPU:0 (") and description.endswith(")")
        assert devices.gpu_name(0) in description
    else:
        assert description == "CPU"
        assert devices.gpu_name(0) is None
    assert all("GPU" in name for name in gpus)


@pytest.mark.skipif(not tf.config.list_physical_devices("GPU"), reason="needs a GPU")
def test_memory_growth_is_on_for_every_gpu():
    script = (
        "import tensorflow as tf\n"
        "from mogui.engine.training.devices import configure_devices\n"
        "configure_devices()\n"
        "gpus = tf.config.list_physical_devices('GPU')\n"
        "assert gpus and all(tf.config.experimental.get_memory_growth(g) for g in gpus)\n"
        "tf.constant(1.0) + 1.0\n"
        "print('growth', len(gpus))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "growth" in done.stdout
