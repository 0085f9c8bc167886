"""The child process: receive one job, run it, stream its events back, exit.

Messages, parent → child: ``("job", name, args, allowed_code)`` once, then commands (strings:
``"cancel"`` or a job's own, such as ``"pause"``; or ``(name, payload)`` tuples, such as
``("loss_weights", {head: weight})``). Child → parent: ``("ready",)`` once the
engine is imported, ``("event", obj)`` any number of times, then exactly one outcome:
``("result", value)``, ``("cancelled",)`` or ``("error", ErrorInfo)``. If the parent goes away
the child ends at once.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

from mogui.core.jobs import JobCancelled, JobHandle
from mogui.core.trust import allow_in_process
from mogui.runner.native_log import held_native_stderr
from mogui.runner.scratch import use_scratch


@dataclass(frozen=True)
class ErrorInfo:
    """A job's exception as it crosses the pipe: the object when it pickles, always its text."""

    type_name: str
    message: str
    traceback: str
    pickled: bytes | None = None

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            pickled = pickle.dumps(exc)
            pickle.loads(pickled)  # some exceptions pickle but cannot be rebuilt
        except Exception:  # noqa: BLE001 - the text is enough then
            pickled = None
        return cls(type(exc).__name__, str(exc), text, pickled)

    def exception(self) -> BaseException:
        """The original exception, or a RuntimeError that carries its type and message."""
        if self.pickled is not None:
            try:
                return pickle.loads(self.pickled)
            except Exception:  # noqa: BLE001 - e.g. a class only the child's code defines
                pass
        return RuntimeError(f"{self.type_name}: {self.message}")

    def __str__(self) -> str:
        return str(self.exception())


class ChildHandle(JobHandle):
    """The job's handle in the child: events go to the pipe, commands come from it."""

    def __init__(self, events: Connection) -> None:
        super().__init__()
        self.send_lock = threading.Lock()
        self._events = events

    def send(self, message: tuple) -> None:
        with self.send_lock:
            self._events.send(message)

    def report(self, event: object) -> None:
        self.send(("event", event))


def _listen(commands: Connection, handle: ChildHandle) -> None:
    while True:
        try:
            message = commands.recv()
        except (EOFError, OSError):
            os._exit(0)  # the parent is gone: nobody wants the result
        except Exception:  # noqa: BLE001 - a message that cannot be rebuilt: skip it
            traceback.print_exc()
            continue
        name, payload = message if isinstance(message, tuple) and len(message) == 2 \
            else (message, None)
        try:
            handle.deliver(str(name), payload)
        except Exception:  # noqa: BLE001 - a bad command must not stop the listening
            traceback.print_exc()


def serve(commands: Connection, events: Connection, niceness: int = 0,
          scratch: str | None = None) -> None:
    """The child's entry point (``multiprocessing`` target). With ``niceness`` the child runs
    at a lower OS priority, every thread it starts included; its temporary files go to
    ``scratch``, which the parent removes (:mod:`mogui.runner.scratch`)."""
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)  # first: the threads TensorFlow starts inherit it
    if scratch is not None:
        use_scratch(scratch)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Imported here, in the child only: the parent names this function without loading the
    # engine (TensorFlow); a waiting child has it loaded, and its devices found, before it
    # says "ready".
    with held_native_stderr():
        jobs = importlib.import_module("mogui.runner.jobs")
        jobs.configure_devices()

    handle = ChildHandle(events)
    handle.send(("ready",))
    try:
        message = commands.recv()
    except (EOFError, OSError):
        return
    _kind, name, args, allowed = message
    allow_in_process(allowed)
    threading.Thread(target=_listen, args=(commands, handle), name="mogui-commands",
                     daemon=True).start()
    try:
        outcome: tuple = ("result", jobs.JOBS[name](handle, *args))
    except JobCancelled:
        outcome = ("cancelled",)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = ("error", ErrorInfo.of(exc))
    try:
        handle.send(outcome)
    except Exception as exc:  # noqa: BLE001 - e.g. a result that does not pickle
        handle.send(("error", ErrorInfo.of(exc)))
    events.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # everything is written; skip TensorFlow's slow teardown
