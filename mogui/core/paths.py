"""Why a file or folder cannot be used, in words: missing, a folder where a file belongs, a
symlink loop or a broken link, no permission, not UTF-8 text.

Each function returns the end of a sentence about the path (``"is a symlink loop: …"``), so a
caller can put its own subject in front: ``f"The table '{path}' {problem}"``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Literal

Kind = Literal["file", "folder"]


def path_problem(path: str | os.PathLike[str], kind: Kind = "file") -> str | None:
    """Why ``path`` cannot be opened as a ``kind``; ``None`` when nothing is wrong with it."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        return _stat_problem(path, exc)
    if kind == "file" and path.is_dir():
        return "is a folder, not a file; give the path of the file itself"
    if kind == "folder" and not path.is_dir():
        return "is a file, not a folder; give the folder that holds the files"
    wanted = os.R_OK | (os.X_OK if kind == "folder" else 0)
    if not os.access(path, wanted):
        return (f"cannot be read: permission denied (mode {info.st_mode & 0o777:03o}); allow "
                "yourself to read it (chmod u+r) or use a copy you can read")
    return None


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return ("is a symlink loop: it links back to itself, directly or through other "
                "links; point the link at a real file or folder")
    if path.is_symlink():
        return (f"is a symbolic link to '{os.readlink(path)}', which does not exist; fix or "
                "remove the link")
    if exc.errno == errno.ENOTDIR:
        blocker = next((p for p in path.parents if p.is_file()), path.parent)
        return f"cannot exist: '{blocker}' is a file, not a folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be reached: permission denied on a folder above it"
    if exc.errno == errno.ENOENT and not path.parent.is_dir():
        return f"does not exist: nor does its folder '{path.parent}'"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    return f"cannot be opened ({exc.strerror or exc})"


def read_problem(path: str | os.PathLike[str], exc: OSError | UnicodeDecodeError,
                 kind: Kind = "file") -> str:
    """Why reading ``path`` raised ``exc``: :func:`path_problem`'s words where they apply."""
    if isinstance(exc, UnicodeDecodeError):
        return (f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
                f"{exc.start}); save it as UTF-8")
    return path_problem(path, kind) or f"cannot be read ({exc.strerror or exc})"


def unwritable_folder(folder: str | os.PathLike[str], name: str, fix: str) -> str | None:
    """Why files cannot be written in ``folder`` (made when missing), as a sentence whose
    subject is ``name`` (e.g. "The output folder") and which ends with ``fix``; ``None`` when
    nothing is wrong with it."""
    folder = Path(folder)
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return (f"{name} '{folder}' cannot be made: '{existing}' is a file, not a folder. "
                f"{fix}")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return f"{name} '{folder}' cannot be written: '{existing}' is not writable. {fix}"
    return None
