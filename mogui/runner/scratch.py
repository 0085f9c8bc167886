"""Each child process's own temporary folder, removed by the parent when the child has ended.

A child's temporary files (the decoded-image cache of an image folder, TensorFlow's generated
code) go to its scratch folder, ``mogui-worker-<parent pid>-…`` in the system's temporary
folder, however the child ends. A folder whose parent process ended without removing it (the
parent was killed) is removed by the next parent that starts a child.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "mogui-worker-"


def make_scratch() -> Path:
    """A new scratch folder of this process, after removing those of ended processes."""
    remove_abandoned()
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))


def remove_abandoned(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders in ``root`` (default: the temporary folder) whose parent
    process has ended; return them. Only where a process can be asked whether it runs
    (POSIX)."""
    if os.name != "posix":
        return []
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].partition("-")[0]
        if pid.isdigit() and folder.is_dir() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_scratch(folder: Path) -> None:
    """Remove a scratch folder and everything in it (nothing if it is gone)."""
    shutil.rmtree(folder, ignore_errors=True)


def use_scratch(folder: str) -> None:
    """In the child: make ``folder`` the temporary folder of this process and of what it
    starts."""
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
