"""The export folder: what may be replaced, and how the new export takes its place.

An export is written into a temporary sibling of the folder, then renamed into place. An
existing folder is replaced only when it is empty or holds an earlier export and nothing
else: its marker, ``.mogui-export``, lists every file that export wrote with its SHA-256, so
a file added to it (also inside ``saved_model/``) or edited since (a script whose paths were
changed) is named and the export refused; nothing the user made is deleted. Older markers list
top-level names only, and are checked by name.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from mogui.core.io import current_umask
from mogui.engine.export.formats import ExportError

#: Written into every export folder; an existing folder holding it may be replaced.
MARKER = ".mogui-export"
#: The marker's first line: version 2 lists ``<sha256>  <relative path>`` per file.
MARKER_HEADER = "mogui export 2"
#: What an export may write, for markers that do not list their files (older exports).
_EXPORT_NAMES = re.compile(r"train_.*\.py|history\.csv|loss\.(png|svg)|project\.json|"
                           r"data\.npz|model(_inference)?\.keras|saved_model|model\.onnx|"
                           r"README\.txt|predict\.py|classes\.json")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_under(folder: Path) -> list[str]:
    """Every file and link under ``folder`` (links not followed), as relative paths."""
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        found += [(base / name).as_posix() for name in files]
        found += [(base / name).as_posix() for name in dirs if (Path(root) / name).is_symlink()]
    return sorted(found)


def write_marker(folder: Path) -> None:
    """List every file now in ``folder`` (the new export) with its SHA-256."""
    lines = [f"{file_digest(folder / name)}  {name}" for name in files_under(folder)]
    (folder / MARKER).write_text("\n".join([MARKER_HEADER, *lines]) + "\n", encoding="utf-8")


def _not_ours(out_dir: Path) -> tuple[list[str], list[str]] | None:
    """The files of ``out_dir`` an earlier export did not write, and those changed since it
    wrote them; ``None`` when it holds no export."""
    marker = out_dir / MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(encoding="utf-8").splitlines()
    if lines[:1] == [MARKER_HEADER]:
        written = dict(reversed(line.split("  ", 1)) for line in lines[1:] if "  " in line)
        present = [name for name in files_under(out_dir) if name != MARKER]
        foreign = [name for name in present if name not in written]
        changed = [name for name in present if name in written
                   and (out_dir / name).is_file() and not (out_dir / name).is_symlink()
                   and file_digest(out_dir / name) != written[name]]
        return foreign, changed
    names = set(lines[1:]) or {p.name for p in out_dir.iterdir() if _EXPORT_NAMES.fullmatch(p.name)}
    return sorted(p.name for p in out_dir.iterdir() if p.name not in names | {MARKER}), []


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def check_out_dir(out_dir: Path) -> None:
    """An export replaces only an empty folder or an earlier export left as it was written."""
    if out_dir.is_symlink():
        raise ExportError(f"The export folder '{out_dir}' is a link (to '{os.readlink(out_dir)}');"
                          " give the folder itself.")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"The export folder '{out_dir}' is a file; choose a folder.")
    if not out_dir.is_dir():
        return
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ExportError(f"The export folder '{out_dir}' is read-only; choose a folder you can "
                          "write to.")
    if not any(out_dir.iterdir()):
        return
    found = _not_ours(out_dir)
    if found is None:
        raise ExportError(f"The export folder '{out_dir}' already holds other files; choose an "
                          "empty or new folder (a previous mogui export may be replaced).")
    foreign, changed = found
    if foreign:
        raise ExportError(f"The export folder '{out_dir}' holds a previous export and files it "
                          f"did not write ({_shown(foreign)}); move them out or choose another "
                          "folder. Nothing was changed.")
    if changed:
        raise ExportError(f"The export folder '{out_dir}' holds a previous export whose files "
                          f"were changed since ({_shown(changed)}); move them out (or the whole "
                          "folder) or choose another folder. Nothing was changed.")


def make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created (innermost first)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_created(missing)
        raise ExportError(f"Cannot create the folder '{folder}': {exc.strerror or exc}. "
                          "Choose a folder you can write to.") from None
    return missing


def remove_created(created: Iterable[Path]) -> None:
    for path in created:
        try:
            path.rmdir()
        except OSError:
            break


def temporary_sibling(out_dir: Path) -> Path:
    """The folder the export is written into first, beside ``out_dir``, with the permissions
    a new folder gets (``mkdtemp`` makes it private)."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial",
                                    dir=out_dir.parent))
    except OSError as exc:
        raise ExportError(f"Cannot write in '{out_dir.parent}', where the export is written "
                          f"before it takes the place of '{out_dir.name}': "
                          f"{exc.strerror or exc}. Choose a folder you can write to.") from None
    tmp.chmod(0o777 & ~current_umask())
    return tmp


def move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename ``tmp`` to ``out_dir``, replacing an empty folder or a previous export. A folder
    that cannot be renamed (a mount point, a protected folder) takes the files when it is
    empty, and is otherwise refused."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old",
                                   dir=out_dir.parent))
    backup.rmdir()
    try:
        os.replace(out_dir, backup)
    except OSError as exc:
        if exc.errno not in (errno.EBUSY, errno.EPERM, errno.EACCES, errno.EXDEV):
            raise
        _fill_in_place(tmp, out_dir, exc)
        return
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(backup, out_dir)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _fill_in_place(tmp: Path, out_dir: Path, why: OSError) -> None:
    """Move the export's files into ``out_dir`` itself, when it is empty."""
    if any(out_dir.iterdir()):
        raise ExportError(f"The export folder '{out_dir}' cannot be replaced "
                          f"({why.strerror or why}: e.g. a mount point) and is not empty; "
                          "export into a new folder inside it. Nothing was changed.")
    moved = []
    try:
        for entry in sorted(tmp.iterdir()):
            os.replace(entry, out_dir / entry.name)
            moved.append(out_dir / entry.name)
    except OSError as exc:
        for path in moved:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
        raise ExportError(f"The export could not be written into '{out_dir}': "
                          f"{exc.strerror or exc}. Nothing was changed.") from None
    tmp.rmdir()


__all__ = ["MARKER", "check_out_dir", "make_parents", "move_into_place", "remove_created",
           "temporary_sibling", "write_marker"]
