"""A sweep started from the app: ``mogui sweep`` as a child process (:class:`SweepProcess`).

The sweep is the command line's (``python -m mogui sweep PROJECT --trials N … --out DIR``), so
a sweep started here is the same as one typed in a terminal: its workers, storage and files,
and it can be resumed from either. The child gets a process group of its own; Stop sends it
what Ctrl-C sends (the sweep ends its trials cleanly and leaves consistent files), then, if
it has not ended after a grace period, terminates and at last kills the group. Nothing here
waits for the child on the GUI thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from mogui.core.io import anchor_data_paths, save_project
from mogui.core.project import Project
from mogui.core.recovery import data_dir

#: After Stop, how long the sweep may take to end its trials before it is terminated, and
#: then killed (milliseconds).
STOP_GRACE_MS = 20_000
KILL_GRACE_MS = 5_000
#: What a sweep may search besides the loss weights (``--search``).
OPTIONAL_SEARCH = ("balancing", "learning_rate")


@dataclass(frozen=True)
class SweepRequest:
    """A sweep to start: the arguments of ``mogui sweep``."""

    project: Path
    out: Path
    trials: int
    epochs: int | None = None
    workers: int = 1
    search: tuple[str, ...] = ("weights",)
    objective: str = ""
    storage: str = ""
    trust: bool = False
    #: Log the sweep and its trials to MLflow (``--mlflow``), in this experiment when given.
    mlflow: bool = False
    mlflow_experiment: str = ""

    def arguments(self) -> list[str]:
        """The command line after ``python -m mogui``."""
        args = ["sweep", str(self.project), "--trials", str(self.trials),
                "--workers", str(self.workers), "--out", str(self.out)]
        if self.epochs is not None:
            args += ["--epochs", str(self.epochs)]
        if tuple(self.search) != ("weights",):
            args += ["--search", ",".join(self.search)]
        if self.objective:
            args += ["--objective", self.objective]
        if self.storage:
            args += ["--storage", self.storage]
        if self.mlflow:
            args.append("--mlflow")
            if self.mlflow_experiment:
                args += ["--mlflow-experiment", self.mlflow_experiment]
        if self.trust:
            args.append("--trust")
        return args

    def command_text(self) -> str:
        """The command as a user would type it."""
        return "mogui " + " ".join(_quoted(a) for a in self.arguments())


def _quoted(text: str) -> str:
    return text if text and all(c.isalnum() or c in "-_./:,=+@{}" for c in text) \
        else "'" + text.replace("'", "'\\''") + "'"


def project_copy_path(out: Path) -> Path:
    """Where the project of a sweep into ``out`` is saved when it has no file of its own (or
    unsaved changes): the same place for the same folder, so that the sweep resumes."""
    key = hashlib.sha256(str(Path(out).absolute()).encode()).hexdigest()[:16]
    return data_dir() / "sweep-projects" / f"{key}.json"


def swept_project_title(project_file: str | Path) -> str:
    """How a sweep's project is named for people: its file name, or for the copy of an
    unsaved project (:func:`project_copy_path`) the project's own name."""
    path = Path(project_file)
    if path.parent.name != "sweep-projects":
        return path.name
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return f"the unsaved project '{name}'" if isinstance(name, str) and name.strip() \
        else "an unsaved project"


def project_file(project: Project, path: Path | None, dirty: bool, out: Path) -> Path:
    """The project file a sweep of ``project`` (saved at ``path``) reads: that file when it
    holds what the editor shows, else a copy (data paths made absolute), saved for it.
    Raises ``OSError`` when the copy cannot be written."""
    if path is not None and not dirty:
        return Path(path).absolute()
    copy = anchor_data_paths(project, Path(path).absolute().parent) if path is not None \
        else project
    target = project_copy_path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_project(copy, target)
    return target


class SweepProcess(QObject):
    """One ``mogui sweep`` child: its output line by line, and how it ended."""

    #: A line the sweep printed (stdout and stderr together).
    output = Signal(str)
    #: The sweep ended: its exit code (0 done, 1 stopped or failed, 2 refused its input),
    #: and whether Stop ended it.
    ended = Signal(int, bool)

    def __init__(self, request: SweepRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.stopping = False
        self.exit_code: int | None = None
        self.lines: list[str] = []
        self._partial = ""
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")  # each trial's line as it is printed
        if not environment.contains("TF_CPP_MIN_LOG_LEVEL"):
            environment.insert("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's notes: not here
        self._process.setProcessEnvironment(environment)
        if hasattr(QProcess, "UnixProcessParameters") and sys.platform != "win32":
            parameters = QProcess.UnixProcessParameters()
            parameters.flags = QProcess.UnixProcessFlag.CreateNewSession
            self._process.setUnixProcessParameters(parameters)
        self._process.readyReadStandardOutput.connect(self._read)
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)
        self._escalation = QTimer(self, singleShot=True)
        self._escalation.timeout.connect(self._escalate)
        self._escalated = 0

    @property
    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    @property
    def pid(self) -> int | None:
        pid = self._process.processId()
        return pid or None

    def start(self) -> None:
        """Start the sweep (returns at once)."""
        self._process.setWorkingDirectory(str(self.request.out.parent))
        self._process.start(sys.executable, ["-m", "mogui", *self.request.arguments()])

    def stop(self) -> None:
        """End the sweep as Ctrl-C would; terminate, then kill it if it does not end."""
        if not self.running or self.stopping:
            return
        self.stopping = True
        self._signal("interrupt")
        self._escalation.start(STOP_GRACE_MS)

    def _escalate(self) -> None:
        if not self.running:
            return
        self._escalated += 1
        if self._escalated == 1:
            self._signal("terminate")
            self._escalation.start(KILL_GRACE_MS)
        else:
            self._signal("kill")

    def _signal(self, kind: str) -> None:
        """Interrupt, terminate or kill the sweep's process group (its workers too); on
        Windows, where there are no groups, terminate or kill the process."""
        pid = self.pid
        if pid is None:
            return
        if sys.platform == "win32":
            (self._process.kill if kind == "kill" else self._process.terminate)()
            return
        sig = {"interrupt": signal.SIGINT, "terminate": signal.SIGTERM,
               "kill": signal.SIGKILL}[kind]
        try:
            os.killpg(pid, sig)  # the child leads a session of its own: its group is its pid
        except OSError:
            try:
                os.kill(pid, sig)
            except OSError:
                pass  # it has ended meanwhile

    def shutdown(self, msecs: int = STOP_GRACE_MS) -> None:
        """Stop the sweep and block until it has ended (the app quits): interrupted, then
        terminated after ``msecs``, then killed."""
        if not self.running:
            return
        if not self.stopping:
            self.stopping = True
            self._signal("interrupt")
        for kind, wait in (("terminate", msecs), ("kill", KILL_GRACE_MS)):
            if self._process.waitForFinished(wait):
                return
            self._signal(kind)
        self._process.waitForFinished(KILL_GRACE_MS)

    def wait(self, msecs: int) -> bool:
        """Block until the sweep ends (shutdown and tests); True when it has."""
        if not self.running:
            return True
        return self._process.waitForFinished(msecs)

    def _read(self) -> None:
        text = self._partial + bytes(self._process.readAllStandardOutput().data()).decode(
            "utf-8", errors="replace")
        *lines, self._partial = text.replace("\r\n", "\n").split("\n")
        for line in lines:
            self.lines.append(line)
            self.output.emit(line)

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._partial:
            self.lines.append(self._partial)
            self.output.emit(self._partial)
            self._partial = ""
        self._escalation.stop()
        crashed = status == QProcess.ExitStatus.CrashExit
        self.exit_code = 1 if crashed and code == 0 else code
        self.ended.emit(self.exit_code, self.stopping)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            message = (f"The sweep could not be started ({self._process.errorString()}): "
                       f"{sys.executable} could not run.")
            self.lines.append(message)
            self.output.emit(message)
            self.exit_code = 1
            self.ended.emit(1, False)
