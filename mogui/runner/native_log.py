"""TensorFlow's start-up lines on stderr, held back unless asked for.

While it loads and looks for GPUs, TensorFlow's native code writes a few lines to the
process's stderr (oneDNN, CUDA drivers, ``cuInit``) before its own log settings apply; they
would bury the one line a command prints for a bad input. :func:`held_native_stderr` sends them
to a temporary file instead and drops them, or writes them out after all when the load fails.
``MOGUI_TF_LOG=1`` keeps them (e.g. to see why a GPU is not used).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

#: Set (to anything but empty) to see TensorFlow's start-up lines.
SHOW_VARIABLE = "MOGUI_TF_LOG"


@contextmanager
def held_native_stderr() -> Iterator[None]:
    """Hold back what native code writes to stderr (file descriptor 2) inside the block;
    write it out when the block raises. Python's own ``sys.stderr`` writes are held too."""
    if os.environ.get(SHOW_VARIABLE):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                held.seek(0)
                sys.stderr.write(held.read().decode("utf-8", "replace"))
                sys.stderr.flush()


def load_tensorflow_quietly() -> None:
    """Load TensorFlow in this process and find its devices (GPU memory grows on demand),
    the start-up lines held back."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with held_native_stderr():
        from mogui.engine.training.devices import configure_devices

        configure_devices()


def import_tensorflow_quietly() -> None:
    """Import TensorFlow in this process (for a job's result whose classes need it), the
    start-up lines held back; no device is touched."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with held_native_stderr():
        import tensorflow  # noqa: F401
