"""Runs on the command line: where ``mogui train`` keeps a project's runs, ``mogui runs`` (the
list) and which project ``mogui export --from-run`` exports (the one the run trained).

Pure Python (no Keras). Exit codes as in :mod:`mogui.cli`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mogui.core.errors import MoguiError
from mogui.core.io import example_names, example_path
from mogui.core.project import Project
from mogui.core.run_store import list_runs, recorded_project_path, run_project, runs_dir
from mogui.core.runs import PROJECT_FILE, plural

EXIT_OK = 0
Load = Callable[..., tuple[Project, Path]]


def project_file(project_arg: str, path: Path) -> Path | None:
    """The project's file, or ``None`` for a shipped example, by name or path (its runs go to
    the data folder, like an untitled project's in the app, never into mogui's own files)."""
    shipped = example_path(example_names()[0]).resolve().parent
    if not Path(project_arg).exists() or path.resolve().parent == shipped:
        return None
    return path.absolute()


def export_source(args: argparse.Namespace, load: Load) -> tuple[Project, Path | None]:
    """The project to export and its folder: with ``--from-run``, the project the run trained
    (its ``project.json``) when it kept one, else ``PROJECT``. Raises :class:`MoguiError`
    when neither is there."""
    run_dir = Path(args.from_run) if args.from_run is not None else None
    if run_dir is not None and (run_dir / PROJECT_FILE).is_file():
        given = load(args.project, strict=False)[1] if args.project is not None else None
        if given is not None:
            print(f"Exporting with the project the run trained ({run_dir / PROJECT_FILE}).")
        recorded = recorded_project_path(run_dir) or given
        return run_project(run_dir), recorded.absolute().parent if recorded else None
    if args.project is None:
        raise MoguiError("Give the project to export (PROJECT); only a run folder that holds "
                         f"its {PROJECT_FILE} can be exported without it.")
    project, path = load(args.project)
    return project, path.parent.absolute()


def runs_command(args: argparse.Namespace, load: Load) -> int:
    """``mogui runs PROJECT``: one line per run, newest first."""
    project, path = load(args.project, strict=False)
    saved_at = project_file(args.project, path)
    folder = runs_dir(project, saved_at)
    runs = list_runs(project, saved_at)
    if not runs:
        print(f"No runs of {path.name} yet; 'mogui train' keeps each in {folder}.")
        return EXIT_OK
    print(f"Runs of {path.name}, newest first, in {folder}:")
    for info in runs:
        when = info.started_at.strftime("%Y-%m-%d %H:%M:%S") if info.started_at else "?"
        status = info.status_text() if info.readable else f"unreadable: {info.problem}"
        cells = [f"{when:<19}", f"{status:<24}"]
        if info.readable:
            cells += [plural(info.epochs_completed, "epoch"), info.losses_text()]
            cells += [balancing] if (balancing := _balancing_cell(info.folder)) else []
        print("  ".join([*cells, info.folder.name]))
    return EXIT_OK


def _balancing_cell(folder: Path) -> str:
    """How the run weighed its heads, from the project it trained: ``balancing uw`` or with
    the method's settings, ``balancing dwa (temperature 2)``; ``""`` when it kept no project."""
    if not (folder / PROJECT_FILE).is_file():
        return ""
    try:
        balancing = run_project(folder).training.balancing
    except MoguiError:
        return "balancing unknown (its project.json cannot be read)"
    settings = ", ".join(f"{name} {value:g}" for name, value in balancing.settings().items())
    return f"balancing {balancing.method}" + (f" ({settings})" if settings else "")
