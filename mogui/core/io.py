"""Reading and writing project files: versioned JSON, migrations, atomic saves.

Saves write a temporary file beside the target and rename it into place; they write through
symbolic links, keep an existing file's permission bits and clean up after killed saves.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from mogui.core.paths import read_problem
from mogui.core.project import SCHEMA_VERSION, Project
from mogui.core.validation import Problem, ProjectError, parse_project

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: ``MIGRATIONS[n]`` turns a version-``n`` project dict into a version ``n + 1`` one.
MIGRATIONS: dict[int, Migration] = {}


def migrate(data: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Bring raw project data up to :data:`SCHEMA_VERSION`, one step at a time."""
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise ProjectError([Problem("schema_version", f"must be a positive whole number, "
                                    f"got {version!r}")], source)
    if version > SCHEMA_VERSION:
        raise ProjectError([Problem("schema_version", f"is {version}, but this mogui reads up "
                                    f"to {SCHEMA_VERSION}; update mogui to open this project")],
                           source)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
        data["schema_version"] = version
    return data


def project_from_json(text: str, source: str | None = None, *, strict: bool = True) -> Project:
    """Parse project JSON text (migrating old versions) and validate it (see ``parse_project``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = "" if exc.msg.endswith(" at") else " at"  # "…string starting at"
        raise ProjectError([Problem("", f"is not valid JSON: {exc.msg}{where} line {exc.lineno}, "
                                    f"column {exc.colno}")], source) from None
    except RecursionError:
        raise ProjectError([Problem("", "nests lists or objects too deeply to be a project "
                                    "(thousands of levels); check that it is a mogui project "
                                    "file")], source) from None
    if not isinstance(data, dict):
        raise ProjectError([Problem("", "must be a JSON object")], source)
    return parse_project(migrate(data, source), source, strict=strict)


def load_project(path: str | os.PathLike[str], *, strict: bool = True) -> Project:
    """Read and validate a project file; raise :class:`ProjectError` naming the problem.

    ``strict=False`` (the app) also loads projects whose cross-field checks fail.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = read_problem(path, exc)
        if reason.startswith("is a folder"):
            reason = "is a folder, not a project file; give the path of the project's .json file"
        raise ProjectError([Problem("", reason)], str(path)) from None
    if not text.strip():
        raise ProjectError([Problem("", "is empty; a project file holds the project as JSON "
                                    "(restore it from a backup or save the project again)")],
                           str(path))
    if path.suffix.lower() in DATA_SUFFIXES and not text.lstrip().startswith("{"):
        raise ProjectError([Problem("", f"is a data file, not a mogui project; make a project "
                                    f"from it with 'mogui init --data {path.name} --target "
                                    "COLUMN --out project.json' (in the app: File ▸ New ▸ From "
                                    "data…)")], str(path))
    return project_from_json(text, str(path), strict=strict)


#: Data files that are sometimes given where a project belongs.
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".npz", ".npy")


class SaveError(OSError):
    """A save refused before anything was written; ``strerror`` says why and what to do."""

    def __str__(self) -> str:
        return f"cannot save '{self.filename}': {self.strerror}"


#: Temporaries of a save are named ``.<name>.mogui-<8 random>.tmp``, beside the file.
_TEMP_TAG = ".mogui-"
_TEMP_SUFFIX = ".tmp"
#: A temporary this old is left over from a save that was killed, not one in progress.
ORPHAN_AGE_S = 60.0
_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux ``/proc``);
    elsewhere set and restored under a lock (to the strictest value meanwhile, so a file
    another thread creates in between is never more open than intended)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _save_target(path: Path) -> Path:
    """The file a save of ``path`` replaces: the end of its link chain when it is a link."""
    if not path.is_symlink():
        if path.is_dir():
            raise SaveError(errno.EISDIR, "it is a folder; choose a file name", str(path))
        return path
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        raise SaveError(errno.ENOENT, f"it is a symbolic link to '{os.readlink(path)}', which "
                        "does not exist; fix or remove the link, or save under another name",
                        str(path)) from None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise SaveError(errno.ELOOP, "it is a symbolic link that leads back to itself (a "
                        "loop); fix or remove the link, or save under another name",
                        str(path)) from None
    if real.is_dir():
        raise SaveError(errno.EISDIR, f"it is a link to the folder '{real}'; choose a file "
                        "name", str(path))
    return real


def _orphan_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{name}{_TEMP_TAG}") + r"[a-z0-9_]{8}"
                      + re.escape(_TEMP_SUFFIX))


def remove_orphaned_temporaries(target: Path, age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Remove temporaries of saves of ``target`` that were killed (older than ``age_s``);
    only files named as mogui names its own. Returns what was removed."""
    pattern = _orphan_pattern(target.name)
    cutoff = time.time() - age_s
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(
                    follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to remove: the save goes on
    return removed


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike[str], text: str, *,
                      new_mode: int | None = None) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half.

    A symbolic link is written through (its target is replaced; the link stays a link). An
    existing file keeps its permission bits (and group, where allowed); a new one gets
    ``new_mode``, by default ``0o666`` less the umask. Temporaries that killed saves of the
    same file left behind are removed. Raises :class:`SaveError` (an ``OSError``) for a
    dangling link, a link loop or a folder, and ``OSError`` when writing fails.
    """
    target = _save_target(Path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphaned_temporaries(target)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    mode = (stat.S_IMODE(old.st_mode) if old is not None
            else (0o666 & ~current_umask()) if new_mode is None else new_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{_TEMP_TAG}", suffix=_TEMP_SUFFIX,
                               dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            if hasattr(os, "fchmod"):
                if old is not None and hasattr(os, "fchown"):
                    try:
                        os.fchown(fh.fileno(), -1, old.st_gid)
                    except OSError:
                        pass  # not a member of the file's group: it gets the user's
                os.fchmod(fh.fileno(), mode)
            else:
                os.chmod(tmp, mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(target.parent)


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Save atomically (temp file + rename): a crash never leaves a half-written project."""
    atomic_write_text(path, project.to_json())


def example_names() -> list[str]:
    """Names of the example projects shipped with mogui."""
    folder = resources.files("mogui.resources") / "examples"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


def example_path(name: str) -> Path:
    """Path of a shipped example project (``bbox_classification.json`` …)."""
    if not name.endswith(".json"):
        name += ".json"
    ref = resources.files("mogui.resources") / "examples" / name
    if not ref.is_file():
        raise ProjectError([Problem("", f"is not a shipped example; examples are "
                                    f"{example_names()}")], name)
    return Path(str(ref))


def load_example(name: str = "bbox_classification") -> Project:
    """Load a shipped example project."""
    return load_project(example_path(name))


#: The data fields that hold a path, relative to the project file, per data kind.
_DATA_PATH_FIELDS = {"npz": ("path",), "csv": ("path",), "image_folder": ("folder", "labels")}


def anchor_data_paths(project: Project, folder: Path) -> Project:
    """A copy whose relative data paths point into ``folder``: for a project opened from one
    place and kept elsewhere (an example, before it is saved)."""
    copy = project.model_copy(deep=True)
    for name in _DATA_PATH_FIELDS.get(copy.data.kind, ()):
        value = getattr(copy.data, name)
        if not Path(value).is_absolute():
            setattr(copy.data, name, str(Path(folder) / value))
    return copy


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the project format."""
    schema = Project.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mogui project"
    return schema
