"""TensorFlow's start-up lines on stderr, held back unless asked for.

While it loads and looks for GPUs, TensorFlow's native code writes a few lines to the
process's stderr (oneDNN, CUDA drivers, ``cuInit``) before its own log settings apply; they
would bury the one line a command prints for a bad input. :func:`held_native_stderr` sends them
to a temporary file instead and drops them, or writes them out after all when the load fails.
The app loads TensorFlow on a background thread while its window runs: there only those lines
are dropped, and every other line written meanwhile is passed on (``pass_others``).
``MOGUI_TF_LOG=1`` keeps them (e.g. to see why a GPU is not used).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

#: Set (to anything but empty) to see TensorFlow's start-up lines.
SHOW_VARIABLE = "MOGUI_TF_LOG"


#: A line TensorFlow's native code writes while it loads: absl's log prefix
#: (``I0000 00:00:1796155769.917436   15151 port.cc:153]``), the note absl writes before its
#: log is set up, and the second line of the CPU-instructions notice.
STARTUP_LINE = re.compile(r"[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\]"
                          r"|WARNING: All log messages before absl::InitializeLog\(\)"
                          r"|To enable the following instructions: ")


def other_lines(text: str) -> str:
    """``text`` without TensorFlow's start-up lines (:data:`STARTUP_LINE`)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not STARTUP_LINE.match(line))


@contextmanager
def held_native_stderr(*, pass_others: bool = False) -> Iterator[None]:
    """Hold back what native code writes to stderr (file descriptor 2) inside the block;
    write it out when the block raises. Python's own ``sys.stderr`` writes are held too.

    With ``pass_others``, every line but TensorFlow's start-up lines is written out after the
    block: for a process (the app) whose other threads may write to stderr meanwhile."""
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
            held.seek(0)
            text = held.read().decode("utf-8", "replace")
            if failed or pass_others:
                sys.stderr.write(text if failed else other_lines(text))
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
