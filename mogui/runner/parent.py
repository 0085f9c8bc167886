"""The parent's side of a child process: start it, give it one job, read its events, stop it.

:class:`ChildProcess` is Qt-free: the app reads :meth:`ChildProcess.messages` on a reader
thread and turns them into signals, the command line reads them in its main thread. A child
is started as soon as the object is made and imports the engine while it waits, so a spare
child makes the next job start without TensorFlow's import time.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mogui.core.errors import MoguiError
from mogui.core.jobs import JobCancelled
from mogui.runner.child import ErrorInfo, serve
from mogui.runner.scratch import make_scratch, remove_scratch

#: After a cooperative cancel, how long the job may stay silent before it is terminated (a loss
#: stuck in a loop says nothing; a job finishing its batch, validating and saving reports).
STOP_GRACE_S = 1.0
#: The longest a job that keeps reporting after the cancel may take to end.
RESPONSIVE_GRACE_S = 20.0
#: After terminate (SIGTERM), how long before kill (SIGKILL).
TERMINATE_GRACE_S = 0.3


class ChildProcessError(MoguiError):
    """The child process ended without sending an outcome (crash, exit, killed)."""


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``result`` (with ``value``), ``cancelled`` or ``error``."""

    kind: str
    value: Any = None
    error: ErrorInfo | None = None


def describe_exit(code: int | None) -> str:
    """Why a child process ended, in words."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return (f"was killed ({name}); the system may have run out of memory. Lower the "
                    "batch size or make the model smaller")
        if -code == signal.SIGSEGV:
            return f"crashed ({name}, a segmentation fault)"
        return f"was ended by {name}"
    return (f"exited with code {code} (the loss code may call sys.exit or os._exit; remove "
            "that call)" if code else "exited before it finished")


class ChildProcess:
    """One ``spawn`` child that runs one job; see :mod:`mogui.runner.child` for the messages."""

    def __init__(self, niceness: int = 0) -> None:
        """Start the child; ``niceness`` > 0 runs it below this process's OS priority."""
        self.niceness = niceness
        #: The child's temporary folder, removed with everything in it once the child ended.
        self.scratch = make_scratch()
        context = multiprocessing.get_context("spawn")
        command_reader, self._commands = context.Pipe(duplex=False)
        self._events, event_writer = context.Pipe(duplex=False)
        self.process = context.Process(target=serve,
                                       args=(command_reader, event_writer, niceness,
                                             str(self.scratch)),
                                       name="mogui-worker", daemon=True)
        self.process.start()
        command_reader.close()
        event_writer.close()
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._last_heard = time.monotonic()
        self._started = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def start_job(self, name: str, args: tuple, allowed_code: Iterable[str] = ()) -> None:
        """Hand the child job ``name`` of :data:`mogui.runner.jobs.JOBS` with ``args``."""
        if self._started:
            raise RuntimeError("a child process runs one job")
        self._started = True
        self._send(("job", name, tuple(args), list(allowed_code)))

    def command(self, name: str | tuple[str, Any]) -> None:
        """Send a command to the job (``"pause"``, ``"resume"``…, or ``(name, payload)`` such
        as ``("loss_weights", {head: weight})``); ignored once it has ended."""
        self._send(name)

    def _send(self, message: object) -> None:
        with self._send_lock:
            try:
                self._commands.send(message)
            except (BrokenPipeError, OSError):
                pass

    def messages(self) -> Iterator[tuple[str, Any]]:
        """The job's events as ``("event", obj)``, then one ``("outcome", JobOutcome)``.

        Blocks between messages; ends after the outcome. A child that ends without one gives
        an ``error`` outcome carrying a :class:`ChildProcessError` (``cancelled`` after
        :meth:`stop`).
        """
        while True:
            try:
                message = self._events.recv()
            except (EOFError, OSError):
                yield "outcome", self._lost()
                return
            except Exception as exc:  # noqa: BLE001 - a message this process cannot rebuild
                self.close()
                error = ChildProcessError(f"A message from the worker process could not be "
                                          f"read ({type(exc).__name__}: {exc}); it was stopped.")
                yield "outcome", JobOutcome("error", error=ErrorInfo.of(error))
                return
            kind = message[0]
            self._last_heard = time.monotonic()
            if kind == "event":
                yield "event", message[1]
            elif kind == "result":
                yield "outcome", JobOutcome("result", value=message[1])
                break
            elif kind == "cancelled":
                yield "outcome", JobOutcome("cancelled")
                break
            elif kind == "error":
                yield "outcome", JobOutcome("error", error=message[1])
                break
        self.process.join(STOP_GRACE_S + TERMINATE_GRACE_S)

    def _lost(self) -> JobOutcome:
        self.process.join(TERMINATE_GRACE_S)
        if self._stopping.is_set():
            return JobOutcome("cancelled")
        error = ChildProcessError(
            f"The worker process that ran the job {describe_exit(self.process.exitcode)}. "
            "The app is unaffected; results reported before it ended are kept.")
        return JobOutcome("error", error=ErrorInfo.of(error))

    def stop(self, grace_s: float = STOP_GRACE_S) -> bool:
        """Cancel the job; terminate, then kill, the child if it has not ended in time.

        The job may end by itself as long as it keeps reporting (while :meth:`messages` is
        read): it is terminated once silent for ``grace_s``, or after
        :data:`RESPONSIVE_GRACE_S` in all; then killed if need be. True once it has ended.
        """
        self._stopping.set()
        self._last_heard = time.monotonic()
        self.command("cancel")
        deadline = self._last_heard + RESPONSIVE_GRACE_S
        while self.process.is_alive():
            now = time.monotonic()
            until = min(self._last_heard + grace_s, deadline)
            if now >= until:
                break
            self.process.join(until - now)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(TERMINATE_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(TERMINATE_GRACE_S)
        return not self.process.is_alive()

    def close(self) -> None:
        """End the child (if it still runs), release the pipes and remove its scratch
        folder."""
        if self.process.is_alive():
            self._stopping.set()
            self.process.kill()
            self.process.join(TERMINATE_GRACE_S)
        self._commands.close()
        self._events.close()
        if not self.process.is_alive():
            remove_scratch(self.scratch)


def run_to_end(child: ChildProcess, on_event: Callable[[object], None] | None = None) -> Any:
    """Read ``child``'s messages until its outcome; return the job's result.

    A failed job raises its own exception again here (with the child's traceback text as
    ``child_traceback``); a cancelled one raises :class:`JobCancelled`.
    """
    for kind, value in child.messages():
        if kind == "event":
            if on_event is not None:
                on_event(value)
            continue
        if value.kind == "result":
            return value.value
        if value.kind == "cancelled":
            raise JobCancelled
        error = value.error.exception()
        if not isinstance(error, Exception):  # SystemExit and the like end the child, not us
            error = RuntimeError(f"{value.error.type_name}: {value.error.message}")
        error.child_traceback = value.error.traceback
        raise error
    raise JobCancelled  # pragma: no cover - messages() always ends with an outcome
