"""Recovery files: the unsaved state of an open project, kept so a crash loses nothing.

The app writes one file per open document to ``recovery_dir()``, named after its process id
and the document's identity, holding the project, the file it came from (``None`` while
untitled) and when it was written. A clean quit, a save or discarding the changes removes it;
a file left by a process that is no longer running is what the next start offers to restore.
Reading a recovery file runs nothing: it only parses the project.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mogui.core.errors import MoguiError
from mogui.core.io import atomic_write_text, project_from_json
from mogui.core.project import Project

#: Marks a mogui recovery file, and its format version.
FORMAT = "mogui-recovery"
FORMAT_VERSION = 1
#: ``<pid>-<document identity>.json``
_NAME = re.compile(r"(\d+)-([0-9a-f]{32})\.json")
#: The temporary of a write of one (see ``mogui.core.io.atomic_write_text``).
_TEMP = re.compile(r"\.\d+-[0-9a-f]{32}\.json\.mogui-[a-z0-9_]{8}\.tmp")


class RecoveryError(MoguiError):
    """A recovery file cannot be read; the message names it."""


def data_dir() -> Path:
    """mogui's per-user data folder: ``$MOGUI_DATA_DIR``, else the platform's usual place.

    Linux ``$XDG_DATA_HOME/mogui`` (``~/.local/share/mogui``), macOS ``~/Library/Application
    Support/mogui``, Windows ``%LOCALAPPDATA%\\mogui``.
    """
    if os.environ.get("MOGUI_DATA_DIR"):
        return Path(os.environ["MOGUI_DATA_DIR"]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "mogui"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "mogui"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share") / "mogui"


def recovery_dir() -> Path:
    """Where recovery files live: ``<data dir>/recovery``."""
    return data_dir() / "recovery"


def recovery_file(identity: str, pid: int | None = None) -> Path:
    """The recovery file of the document ``identity`` in process ``pid`` (this one)."""
    return recovery_dir() / f"{os.getpid() if pid is None else pid}-{identity}.json"


def _boot_id() -> str:
    """This boot of the machine (Linux), so a process id from before a restart counts as gone."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine (a zombie counts as running)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill would end the process there
        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel.OpenProcess(0x00100000, False, pid)  # SYNCHRONIZE
        if not handle:
            return False
        try:
            return kernel.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT
        finally:
            kernel.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@dataclass(frozen=True)
class Recovery:
    """One recovery file, read."""

    file: Path
    pid: int
    host: str
    boot: str
    path: Path | None
    saved_at: datetime
    project_json: str

    def project(self) -> Project:
        """The recovered project (leniently validated, as the app opens files)."""
        return project_from_json(self.project_json, str(self.file), strict=False)

    def name(self) -> str:
        """The file's name, else the project's name, for the question to the user."""
        if self.path is not None:
            return self.path.name
        try:
            data = json.loads(self.project_json)
        except ValueError:
            data = {}
        name = data.get("name") if isinstance(data, dict) else None
        return f'the untitled project "{name.strip()}"' if isinstance(name, str) \
            and name.strip() else "an untitled project"

    def orphaned(self) -> bool:
        """True when the process that wrote it is gone (so nobody else will save it)."""
        if self.host != socket.gethostname():
            return False  # a shared home folder: that machine's process may be running
        if self.boot and self.boot != _boot_id():
            return True
        return self.pid != os.getpid() and not pid_alive(self.pid)


def write_recovery(project: Project, path: Path | None, identity: str) -> Path:
    """Write (atomically, readable only by the user) the recovery file of a document."""
    file = recovery_file(identity)
    record: dict[str, Any] = {
        "format": FORMAT, "version": FORMAT_VERSION, "pid": os.getpid(),
        "host": socket.gethostname(), "boot": _boot_id(),
        "path": str(Path(path).absolute()) if path is not None else None,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": json.loads(project.to_json()),
    }
    atomic_write_text(file, json.dumps(record, indent=1) + "\n", new_mode=0o600)
    return file


def read_recovery(file: Path) -> Recovery:
    """Read one recovery file; :class:`RecoveryError` says what is wrong with it."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecoveryError(f"The recovery file '{file}' cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RecoveryError(f"'{file}' is not a mogui recovery file")
    if data.get("version") != FORMAT_VERSION:
        raise RecoveryError(f"The recovery file '{file}' has format version "
                            f"{data.get('version')!r}; this mogui reads {FORMAT_VERSION}")
    try:
        path = data["path"]
        return Recovery(
            file=Path(file), pid=int(data["pid"]), host=str(data["host"]),
            boot=str(data.get("boot", "")), path=Path(path) if path is not None else None,
            saved_at=datetime.fromisoformat(data["saved_at"]),
            project_json=json.dumps(data["project"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RecoveryError(f"The recovery file '{file}' is incomplete or damaged "
                            f"({type(exc).__name__}: {exc})") from None


def orphaned_recoveries() -> list[Recovery]:
    """Recovery files left by processes that are no longer running, newest first.

    Files that cannot be read are skipped (and kept); temporaries of killed writes older
    than a minute are removed.
    """
    folder = recovery_dir()
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        file = folder / name
        if _TEMP.fullmatch(name):
            _remove_if_stale(file)
            continue
        if not _NAME.fullmatch(name):
            continue
        try:
            recovery = read_recovery(file)
        except RecoveryError:
            continue
        if recovery.orphaned():
            found.append(recovery)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _remove_if_stale(file: Path, age_s: float = 60.0) -> None:
    try:
        if file.is_file() and file.stat().st_mtime < time.time() - age_s:
            file.unlink()
    except OSError:
        pass


def remove_recovery(file: Path | None) -> None:
    """Delete a recovery file (gone already is fine)."""
    if file is None:
        return
    try:
        Path(file).unlink()
    except FileNotFoundError:
        pass
