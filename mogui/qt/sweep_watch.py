"""A sweep folder as the Sweep view sees it: read once (:func:`read_sweep`) or watched while
trials finish (:class:`SweepWatcher`).

The sweep rewrites ``trials.csv`` whole after every trial (:mod:`mogui.core.sweep_results`), so
the folder is watched, not the file (a rename replaces the file the watcher held); a timer
looks again every few seconds too, for file systems that send no change notices (network
folders). A state is sent only when the files changed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from mogui.core.sweep_results import (
    MANIFEST_FILE,
    TRIALS_FILE,
    SweepManifest,
    SweepTrial,
    non_dominated,
    read_manifest,
    read_trials,
)

#: How often the folder is looked at without a change notice (milliseconds).
POLL_MS = 2000


@dataclass(frozen=True)
class SweepState:
    """What a sweep folder holds now; ``problem`` says why it cannot be shown (then
    ``manifest`` is ``None`` or the trials could not be read)."""

    folder: Path
    manifest: SweepManifest | None = None
    trials: tuple[SweepTrial, ...] = ()
    #: The trial numbers on the Pareto front (complete trials no other complete trial
    #: dominates), in trial order.
    front: tuple[int, ...] = ()
    problem: str = ""
    #: No manifest yet (a sweep that is starting), as opposed to a folder that is no sweep.
    missing: bool = False
    #: The files' identity when read (see :func:`_signature`).
    signature: dict[str, tuple[int, int, int]] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problem

    def trial(self, number: int) -> SweepTrial | None:
        return next((t for t in self.trials if t.number == number), None)

    def run_folder(self, number: int) -> Path | None:
        """The run folder of trial ``number`` (``None`` when it has none)."""
        trial = self.trial(number)
        if trial is None or not trial.run:
            return None
        path = Path(trial.run)
        return path if path.is_absolute() else self.folder / path

    def counts(self) -> dict[str, int]:
        """How many trials are in each state (``COMPLETE``, ``FAIL``…)."""
        counts: dict[str, int] = {}
        for trial in self.trials:
            counts[trial.state] = counts.get(trial.state, 0) + 1
        return counts


def _signature(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(modification time, size, inode) of the files a sweep rewrites (a rewrite renames a new
    file into place); missing ones are left out."""
    found = {}
    for name in (MANIFEST_FILE, TRIALS_FILE):
        try:
            stat = (folder / name).stat()
        except OSError:
            continue
        found[name] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return found


def read_sweep(folder: Path) -> SweepState:
    """The sweep in ``folder`` now; a folder that is not a sweep gives a state whose
    ``problem`` says so and how to go on."""
    folder = Path(folder)
    signature = _signature(folder)
    if not folder.is_dir():
        return SweepState(folder, problem=f"The folder '{folder}' does not exist.",
                          missing=True, signature=signature)
    if MANIFEST_FILE not in signature:
        return SweepState(
            folder, missing=True, signature=signature,
            problem=f"'{folder}' is not a sweep folder: it holds no {MANIFEST_FILE}. Choose "
            "the folder a sweep writes its results to (the one given to 'mogui sweep --out'), "
            "or start a new sweep.")
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError) as exc:
        return SweepState(folder, problem=f"{exc}. The sweep cannot be shown; choose another "
                          "folder, or start the sweep again in a new one.", signature=signature)
    if TRIALS_FILE not in signature:
        return SweepState(folder, manifest, signature=signature)
    try:
        trials = tuple(read_trials(folder / TRIALS_FILE))
    except FileNotFoundError:
        return SweepState(folder, manifest, signature=signature)
    except (OSError, UnicodeDecodeError, KeyError, ValueError, TypeError, csv.Error) as exc:
        return SweepState(folder, manifest, signature=signature,
                          problem=f"{folder / TRIALS_FILE} cannot be read "
                          f"({type(exc).__name__}: {exc}); it is rewritten after the next "
                          "trial.")
    front = non_dominated(trials, manifest.objectives, manifest.directions)
    return SweepState(folder, manifest, trials, tuple(t.number for t in front), signature=signature)


class SweepWatcher(QObject):
    """Sends the state of one sweep folder whenever its files change."""

    updated = Signal(object)  # SweepState

    def __init__(self, folder: Path, parent: QObject | None = None, *,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.state = read_sweep(self.folder)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._soon)
        self._watcher.fileChanged.connect(self._soon)
        # Notices come in bursts (a temporary file written, then renamed): read once after.
        self._debounce = QTimer(self, singleShot=True, interval=100)
        self._debounce.timeout.connect(self.check)
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self.check)
        self._poll.start()
        self._watch()

    def _watch(self) -> None:
        wanted = [str(self.folder)] if self.folder.is_dir() else []
        wanted += [str(self.folder / name) for name in (MANIFEST_FILE, TRIALS_FILE)
                   if (self.folder / name).is_file()]
        missing = [path for path in wanted if path not in self._watcher.files()
                   and path not in self._watcher.directories()]
        if missing:
            self._watcher.addPaths(missing)

    def _soon(self, _path: str = "") -> None:
        self._debounce.start()

    def check(self) -> bool:
        """Read the folder again if its files changed; True when a new state was sent."""
        self._watch()
        if _signature(self.folder) == self.state.signature:
            return False
        state = read_sweep(self.folder)
        changed = state != self.state
        self.state = state
        if changed:
            self.updated.emit(state)
        return changed

    def stop(self) -> None:
        """Watch no more (the view closes)."""
        self._poll.stop()
        self._debounce.stop()
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)
