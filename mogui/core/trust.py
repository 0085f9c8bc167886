"""Trust in project code: user code runs only when this user trusted its exact text.

Code is identified by the SHA-256 of its text (:func:`code_hash`, line endings normalised).
Trusted code is code whose hash is in the user's trust store (``trust.json`` in the config
folder, :func:`config_dir`), code of the shipped examples, and code allowed for this process
only (:func:`allow_in_process`, what ``--trust`` does). :func:`is_trusted` checks all three;
the engine calls it before compiling any user code.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mogui.core.errors import MoguiError, UntrustedCodeError
from mogui.core.io import atomic_write_text, example_names
from mogui.core.project import Project
from mogui.core.project_code import (
    JOINT_CODE_LABEL,
    CodeItem,
    check_syntax,
    code_hash,
    first_line,
    head_code_label,
    keras_file_code,
    project_code,
)

__all__ = ["JOINT_CODE_LABEL", "PROCESS_ALLOWED", "STORE_FILE", "TRUST_SCHEMA_VERSION",
           "CodeItem", "TrustEntry", "TrustStore", "TrustStoreError", "allow_hashes_in_process",
           "allow_in_process",
           "check_syntax", "code_hash", "config_dir", "head_code_label", "how_to_trust",
           "is_trusted", "keras_file_code", "project_code", "shipped_example_hashes",
           "untrusted_code", "untrusted_error"]

logger = logging.getLogger(__name__)

TRUST_SCHEMA_VERSION = 1
_SHA256 = re.compile("[0-9a-fA-F]{64}")
STORE_FILE = "trust.json"
#: The oldest entries are dropped beyond this many (code trusted as typed adds up).
MAX_ENTRIES = 10_000


class TrustStoreError(MoguiError):
    """The trust store cannot be written (or was written by a newer mogui)."""


def config_dir() -> Path:
    """mogui's per-user config folder: ``$MOGUI_CONFIG_DIR``, else the platform's usual place.

    Linux ``$XDG_CONFIG_HOME/mogui`` (``~/.config/mogui``), macOS ``~/Library/Application
    Support/mogui``, Windows ``%APPDATA%\\mogui``.
    """
    if os.environ.get("MOGUI_CONFIG_DIR"):
        return Path(os.environ["MOGUI_CONFIG_DIR"]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / "mogui"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "mogui"
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".config") / "mogui"


# -- what is trusted without the store ----------------------------------------------------------

@dataclass
class ProcessAllowList:
    """Code hashes allowed to run in this process only; ``everything`` allows all (tests)."""

    hashes: set[str] = field(default_factory=set)
    everything: bool = False


#: The process-wide allow list (one-off consent: ``--trust``).
PROCESS_ALLOWED = ProcessAllowList()


def allow_in_process(sources: Iterable[str | CodeItem]) -> None:
    """Let these sources run in this process, without recording them in the store."""
    PROCESS_ALLOWED.hashes.update(code_hash(_text(s)) for s in sources)


def allow_hashes_in_process(hashes: Iterable[str]) -> None:
    """Like :func:`allow_in_process`, by hash: forwards a parent's ``PROCESS_ALLOWED.hashes``
    to a child process (which inherits ``MOGUI_CONFIG_DIR``, not the in-memory allowance)."""
    PROCESS_ALLOWED.hashes.update(h.lower() for h in hashes if _SHA256.fullmatch(h))


@cache
def shipped_example_hashes() -> frozenset[str]:
    """Hashes of every loss source in the shipped examples (trusted, never stored)."""
    hashes: set[str] = set()
    folder = resources.files("mogui.resources") / "examples"
    for name in example_names():
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        parts = [h.get("loss") for h in data.get("heads", []) if isinstance(h, dict)]
        parts.append(data.get("joint_loss"))
        sources = [p.get("source") for p in parts if isinstance(p, dict)]
        hashes.update(code_hash(s) for s in sources if isinstance(s, str) and s.strip())
    return frozenset(hashes)


def _text(source: str | CodeItem) -> str:
    return source.source if isinstance(source, CodeItem) else source


# -- the store ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrustEntry:
    """One trusted piece of code: hash, label and first line, when, and the project if known."""

    sha256: str
    label: str
    first_line: str
    trusted_at: str
    project: str | None = None


class TrustStore:
    """The user's trusted code hashes, kept in ``trust.json``; see :meth:`load`.

    ``problem`` says why the file on disk was not used (corrupt, unreadable), else ``None``.
    """

    def __init__(self, path: Path, entries: dict[str, TrustEntry] | None = None,
                 problem: str | None = None, locked: str | None = None) -> None:
        self.path = path
        self.entries = dict(entries or {})
        self.problem = problem
        self._locked = locked  # why this file must not be rewritten, if it must not

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> TrustStore:
        """Read the store; a missing file is an empty store.

        A corrupt file is moved aside to ``trust.json.bad`` (a warning is logged and the
        store starts empty); it is never overwritten without that backup.
        """
        path = Path(path) if path is not None else config_dir() / STORE_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, UnicodeDecodeError):
                return cls._corrupt(path, "it is not UTF-8 text")
            problem = (f"The trust store '{path}' cannot be read ({exc}); no code is trusted "
                       "from it. Check the file's permissions.")
            logger.warning(problem)
            return cls(path, problem=problem, locked=problem)
        try:
            entries, version = _parse(json.loads(text))
        except ValueError as exc:
            return cls._corrupt(path, str(exc))
        newer = (f"The trust store '{path}' was written by a newer mogui; update mogui to "
                 "change it.") if version > TRUST_SCHEMA_VERSION else None
        return cls(path, entries, locked=newer)

    @classmethod
    def _corrupt(cls, path: Path, why: str) -> TrustStore:
        backup = _backup_name(path)
        try:
            os.replace(path, backup)
        except FileNotFoundError:  # another process moved it first
            return cls.load(path)
        except OSError as exc:  # kept as it is: never overwritten without a backup
            problem = (f"The trust store '{path}' is not valid ({why}) and cannot be moved "
                       f"aside ({exc}); no code is trusted from it. Fix or delete the file.")
            logger.warning(problem)
            return cls(path, problem=problem, locked=problem)
        problem = (f"The trust store '{path}' is not valid ({why}); moved it to '{backup}' "
                   "and started an empty store. Trust your projects' code again with "
                   "'mogui trust PROJECT'.")
        logger.warning(problem)
        return cls(path, problem=problem)

    def is_trusted(self, source: str | CodeItem) -> bool:
        """True when the code may run: stored here, shipped, or allowed in this process."""
        return is_trusted(_text(source), self)

    def trust(self, sources: Iterable[str | CodeItem],
              project_path: str | os.PathLike[str] | None = None) -> list[TrustEntry]:
        """Record ``sources`` as trusted and save; return the new entries.

        Already trusted code is skipped, and nothing is written when all of it is: cheap
        enough to call for every piece of code the user types. Entries other processes
        wrote since :meth:`load` are kept.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        project = str(Path(project_path).absolute()) if project_path is not None else None
        known = _read(self.path).entries  # as on disk now: another process may have revoked
        new: dict[str, TrustEntry] = {}
        for source in sources:
            item = source if isinstance(source, CodeItem) else None
            text = _text(source)
            digest = code_hash(text)
            if digest in known or digest in new or not text.strip():
                continue
            label = item.label if item is not None else first_line(text)
            new[digest] = TrustEntry(digest, label, first_line(text), now, project)
        if new:
            self._update(lambda entries: entries.update(new))
        return list(new.values())

    def revoke(self, sources: Iterable[str | CodeItem]) -> int:
        """Remove ``sources`` from the store and save; return how many entries were removed."""
        digests = {code_hash(_text(s)) for s in sources}
        gone = digests & set(_read(self.path).entries)
        if gone:
            self._update(lambda entries: _drop(entries, digests))
        return len(gone)

    def _update(self, change: Callable[[dict[str, TrustEntry]], object]) -> None:
        current = TrustStore.load(self.path)
        for reason in (self._locked, current._locked):
            if reason:
                raise TrustStoreError(reason)
        entries = dict(current.entries)  # what is on disk now, other processes' changes too
        change(entries)
        if len(entries) > MAX_ENTRIES:
            kept = sorted(entries.values(), key=lambda e: e.trusted_at)[-MAX_ENTRIES:]
            entries = {e.sha256: e for e in kept}
        self.entries = entries
        self.save()

    def save(self) -> None:
        """Write the store atomically (readers see the old or the new file, never half)."""
        data = {"schema_version": TRUST_SCHEMA_VERSION,
                "entries": [asdict(e) for e in self.entries.values()]}
        try:
            atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")
        except OSError as exc:
            raise TrustStoreError(f"Cannot write the trust store '{self.path}': "
                                  f"{exc.strerror or exc}. Set MOGUI_CONFIG_DIR to a folder "
                                  "you can write to.") from None


def _parse(data: Any) -> tuple[dict[str, TrustEntry], int]:
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ValueError("expected an object with an 'entries' list")
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"schema_version is {version!r}")
    entries: dict[str, TrustEntry] = {}
    for raw in data["entries"]:
        digest = raw.get("sha256") if isinstance(raw, dict) else None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError(f"an entry has no valid sha256: {str(raw)[:80]}")
        project = raw.get("project")
        entries[digest.lower()] = TrustEntry(
            digest.lower(), str(raw.get("label", "")), str(raw.get("first_line", "")),
            str(raw.get("trusted_at", "")), str(project) if project is not None else None)
    return entries, version


def _drop(entries: dict[str, TrustEntry], digests: set[str]) -> None:
    for digest in digests:
        entries.pop(digest, None)


def _backup_name(path: Path) -> Path:
    backup = path.with_name(path.name + ".bad")
    number = 1
    while backup.exists() and number < 100:
        backup = path.with_name(f"{path.name}.bad.{number}")
        number += 1
    return backup


# -- checks -------------------------------------------------------------------------------------

def is_trusted(source: str, store: TrustStore | None = None) -> bool:
    """True when ``source`` may run: allowed in this process, shipped, or in the store.

    ``store`` defaults to the user's store as it is on disk now (trust given in another
    process counts at once).
    """
    digest = code_hash(source)
    if PROCESS_ALLOWED.everything or digest in PROCESS_ALLOWED.hashes:
        return True
    if digest in shipped_example_hashes():
        return True
    return digest in (store if store is not None else _read()).entries


#: The user's store as last read, by path, with the file's (inode, mtime, size) then.
_READ: dict[Path, tuple[tuple[int, int, int], TrustStore]] = {}


def _read(path: Path | None = None) -> TrustStore:
    """The store at ``path`` (the user's), read again only when the file changed."""
    path = path if path is not None else config_dir() / STORE_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return TrustStore(path)
    except OSError:
        return TrustStore.load(path)
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _READ.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    store = TrustStore.load(path)
    _READ.clear()
    _READ[path] = (key, store)
    return store


def untrusted_code(project: Project, store: TrustStore | None = None) -> list[CodeItem]:
    """The code that would run for ``project`` and is not trusted (see :func:`project_code`)."""
    items = project_code(project)
    if not items:
        return []
    store = store if store is not None else TrustStore.load()
    return [item for item in items if not is_trusted(item.source, store)]


def how_to_trust(target: str | None = None) -> str:
    """How to trust code, naming ``target`` (a project or model file) when known."""
    command = (f"'mogui trust {target}'" if target else
               "'mogui trust PROJECT' (a project file, or the .keras file that holds it)")
    return (f"read the code and trust it with {command}, pass --trust to run it for one "
            "command only, or press \"Trust and enable\" in the app")


def untrusted_error(items: list[CodeItem], *, where: str = "",
                    target: str | None = None) -> UntrustedCodeError:
    """The error for untrusted ``items`` (found in ``where``, e.g. a model file)."""
    label = ", ".join(item.label for item in items) or "code"
    place = f" in {where}" if where else ""
    hashes = ", ".join(item.sha256[:12] for item in items)
    return UntrustedCodeError(f"this code{place} is not trusted (sha256 {hashes}), so mogui "
                              f"did not run it; {how_to_trust(target)}", label,
                              [item.sha256 for item in items])
