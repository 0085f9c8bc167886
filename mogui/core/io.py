"""Reading and writing project files: versioned JSON, migrations, atomic saves."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

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
        raise ProjectError([Problem("", f"is not valid JSON: {exc.msg} at line {exc.lineno}, "
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
    except FileNotFoundError:
        raise ProjectError([Problem("", "does not exist")], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError([Problem("", f"cannot be read: {exc}")], str(path)) from None
    return project_from_json(text, str(path), strict=strict)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
