"""Trust on the command line: the checks ``validate``/``train``/``export`` make before running
project code, ``mogui trust`` (show the code, then record it) and what ``inspect`` reports.

Pure Python (no Keras): refusing never imports TensorFlow. Exit codes as in :mod:`mogui.cli`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from mogui.core.errors import MoguiError
from mogui.core.project import Project
from mogui.core.project_code import run_folder_code
from mogui.core.runs import MODEL_FILE
from mogui.core.trust import (
    CodeItem,
    TrustStore,
    allow_in_process,
    check_syntax,
    keras_file_code,
    project_code,
    untrusted_code,
)

EXIT_OK, EXIT_INVALID = 0, 2


def refuse(items: list[CodeItem], what: str, target: str, not_done: str) -> int:
    """Print why untrusted ``items`` (found in ``what``) were not run; return exit code 2."""
    print(f"mogui: {what} holds code you have not trusted, so {not_done}:", file=sys.stderr)
    for item in items:
        print(f"  {item.describe()} (sha256 {item.sha256[:12]}): {item.first_line}",
              file=sys.stderr)
    print(f"Read the code and trust it with 'mogui trust {shlex.quote(target)}', or pass "
          "--trust to run it for this command only.", file=sys.stderr)
    return EXIT_INVALID


def check_trust(project: Project, args: argparse.Namespace) -> int | None:
    """``None`` when the project's code may run (trusted, or ``--trust``); else refuse."""
    items = untrusted_code(project)
    if args.trust:
        allow_in_process(items)
        return None
    if items:
        return refuse(items, args.project, args.project, "nothing was run")
    return None


def check_model_trust(args: argparse.Namespace) -> int | None:
    """Like :func:`check_trust`, for the code inside ``--from-run``'s model file."""
    model_file = Path(args.from_run) / MODEL_FILE
    store = TrustStore.load()
    # No model file: the export itself says so.
    items = [item for item in run_folder_code(args.from_run) if not store.is_trusted(item)]
    if args.trust:
        allow_in_process(items)
        return None
    if items:
        return refuse(items, f"the model file {model_file}", str(model_file),
                      "it was not loaded")
    return None


def model_code(args: argparse.Namespace) -> list[str]:
    """The code inside ``--from-run``'s model file (checked by :func:`check_model_trust`)."""
    return [item.source for item in run_folder_code(args.from_run)]


def _code_of(target: str, every_mode: bool, load: Callable[[str], tuple[Project, Path]]
             ) -> tuple[list[CodeItem], Path | None]:
    """The code of a project (and its path), or of a ``.keras`` file or run folder (``None``)."""
    path = Path(target)
    if path.is_dir() and (path / MODEL_FILE).is_file():
        path = path / MODEL_FILE
    if path.suffix == ".keras":
        return keras_file_code(path), None
    project, project_path = load(target)
    return project_code(project, every_mode=every_mode), project_path


def trust_command(args: argparse.Namespace,
                  load: Callable[[str], tuple[Project, Path]]) -> int:
    """``mogui trust PROJECT [--yes] [--revoke]``; ``load`` reads a project argument."""
    items, project_path = _code_of(args.project, args.revoke, load)
    store = TrustStore.load()
    if args.revoke:
        removed = store.revoke(items)
        print(f"Revoked trust in {removed} piece(s) of code from {args.project} "
              f"(trust store: {store.path}).")
        return EXIT_OK
    untrusted = [item for item in items if not store.is_trusted(item)]
    if not untrusted:
        said = "holds no code that mogui runs" if not items else "holds only trusted code"
        print(f"{args.project} {said}; nothing to trust.")
        return EXIT_OK
    runs = "loaded" if project_path is None else "validated, trained or exported"
    print(f"{args.project} holds code that runs when it is {runs}. Read it before you trust "
          "it: it runs with your permissions.")
    for item in untrusted:
        print(f"\n--- {item.describe()}, sha256 {item.sha256} ---\n{item.listing()}")
    print("--- end of the code ---")
    if not args.yes and not _confirmed(args.project):
        return EXIT_INVALID
    store.trust(untrusted, project_path)
    print(f"Trusted {len(untrusted)} piece(s) of code from {args.project}; recorded in "
          f"{store.path}.")
    return EXIT_OK


def _confirmed(target: str) -> bool:
    if not sys.stdin.isatty():
        print("mogui: nothing trusted: mogui cannot ask without a terminal. Read the code "
              f"above, then run 'mogui trust {shlex.quote(target)} --yes'.", file=sys.stderr)
        return False
    try:
        answer = input("Trust this code? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Not trusted; nothing was recorded.", file=sys.stderr)
    return False


def report_code(project: Project, target: str) -> int:
    """For ``inspect``: syntax errors (``compile()`` runs nothing) and code not yet trusted."""
    failed = False
    for item in project_code(project):
        try:
            check_syntax(item.source, item.label)
        except MoguiError as exc:
            print(f"mogui: {' '.join(str(exc).split())}", file=sys.stderr)
            failed = True
    untrusted = untrusted_code(project)
    if untrusted:
        names = ", ".join(item.describe() for item in untrusted)
        print(f"\nNot trusted yet (validate, train and export refuse it): {names}. Read and "
              f"trust it with 'mogui trust {shlex.quote(target)}'.")
    return EXIT_INVALID if failed else EXIT_OK
