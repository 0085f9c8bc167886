"""Command line: ``mogui`` opens the app; ``init``, ``train``, ``sweep``, ``inspect``,
``validate``, ``export``, ``predict``, ``evaluate`` and ``runs`` work headless (``init``,
``predict`` and ``evaluate``: :mod:`.cli_data`; ``train``: :mod:`.cli_train`; ``sweep``:
:mod:`.cli_sweep`). ``train`` writes a new run folder of the project's (as the app does)
unless ``--out`` names one.

Exit codes: 0 success, 2 invalid project or input, or code refused because it is not trusted
(the reason on stderr), 1 anything else. ``validate``, ``train`` and ``export`` check trust
before anything else (``mogui trust`` records it); ``inspect`` never runs project code. Keras
is imported only by the sub-commands that need it, so ``mogui --help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from mogui import __version__
from mogui.cli_data import (
    add_evaluate_parser,
    add_init_parser,
    add_predict_parser,
    evaluate_command,
    init_command,
    predict_command,
)
from mogui.cli_runs import export_source, runs_command
from mogui.cli_stop import describe_stopping
from mogui.cli_sweep import add_sweep_parser, sweep_command
from mogui.cli_train import (
    EpochTable,
    add_train_parser,
    describe_balancing,
    drop_stdout,
    train_command,
)
from mogui.cli_trust import (
    check_model_trust,
    check_trust,
    model_code,
    report_code,
    trust_command,
)
from mogui.core.errors import (
    BuildError,
    CustomCodeError,
    DataError,
    DeviceError,
    ExportError,
    ModelFileError,
    MoguiError,
)
from mogui.core.io import example_names, example_path, load_project
from mogui.core.jobs import JobCancelled
from mogui.core.paths import path_problem
from mogui.core.project import Project
from mogui.core.run_store import RunFolderError
from mogui.core.tracking import TrackingError
from mogui.core.trust import project_code
from mogui.core.validation import ProjectError
from mogui.runner.native_log import import_tensorflow_quietly, load_tensorflow_quietly

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _resolve(project_arg: str) -> Path:
    """A project path, or the name of a shipped example (``bbox_classification``)."""
    path = Path(project_arg)
    if path.exists():
        return path
    stem = path.name.removesuffix(".json")
    if f"{stem}.json" in example_names() and path.parent == Path("."):
        return example_path(stem)
    return path  # load_project reports that it does not exist


def _load(project_arg: str, *, strict: bool = True) -> tuple[Project, Path]:
    path = _resolve(project_arg)
    return load_project(path, strict=strict), path


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


#: Jobs whose results are the engine's classes: reading them loads TensorFlow here.
RESULTS_NEEDING_ENGINE = frozenset({"dry_run", "export", "evaluate"})

#: Longest the dry run of ``validate`` may take before it is stopped.
DRY_RUN_TIMEOUT_S = 120.0


class TimedOut(MoguiError):
    """A job took longer than it may."""


def _run_child(job: str, args: tuple, allowed: Iterable[str] = (),
               on_event: Callable[[object], None] | None = None,
               timeout_s: float | None = None) -> Any:
    """Run ``job`` in a child process (project code never runs in this one); Ctrl+C stops it:
    cooperatively first, then by signal, within about two seconds. After ``timeout_s`` it is
    stopped the same way and :class:`TimedOut` is raised."""
    from mogui.runner import ChildProcess, run_to_end

    _quiet_tensorflow()  # the child inherits the environment
    child = ChildProcess()
    stopping: list[threading.Thread] = []
    timed_out = threading.Event()

    def stop(*_: object) -> None:
        if not stopping:
            if not timed_out.is_set():
                print("Stopping…", file=sys.stderr, flush=True)
            stopping.append(threading.Thread(target=child.stop, daemon=True))
            stopping[0].start()

    def time_out() -> None:
        timed_out.set()
        stop()

    timer = threading.Timer(timeout_s, time_out) if timeout_s is not None else None
    # Ctrl+C, and a polite end (SIGTERM: kill, timeout, docker stop), stop the job cleanly.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        child.start_job(job, args, allowed)
        if timer is not None:
            timer.start()
        if job in RESULTS_NEEDING_ENGINE:  # loaded now, quietly, as the child works
            import_tensorflow_quietly()
        return run_to_end(child, on_event)
    except JobCancelled:
        if timed_out.is_set():
            raise TimedOut(f"The {job.replace('_', ' ')} did not finish within {timeout_s:g} s, "
                           "so it was stopped. Check the loss code for a loop that never ends "
                           "or work that takes very long.") from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for thread in stopping:
            thread.join()
        child.close()


def _allowed(project: Project) -> list[str]:
    """The project's code this command may run: checked by :func:`check_trust` already."""
    return [item.source for item in project_code(project)]


def cmd_train(args: argparse.Namespace) -> int:
    return train_command(args, _load, lambda *a, **k: _run_child(*a, **k))


def cmd_sweep(args: argparse.Namespace) -> int:
    _quiet_tensorflow()  # the workers inherit the environment
    return sweep_command(args, _load, _is_input_error)


def cmd_inspect(args: argparse.Namespace) -> int:
    project, _ = _load(args.project)
    load_tensorflow_quietly()
    from mogui.engine.losses.dry_run import loss_contract
    from mogui.engine.model.shapes import format_shape, inspect_project

    inspection = inspect_project(project)
    rows = [("layer", "kind", "output shape", "params", "part")]
    for r in inspection.rows:
        part = r.section if r.section != "head" else f"head {r.head}"
        shape = format_shape(r.output_shape) if r.output_shape is not None else "-"
        rows.append((r.name, r.kind, shape, f"{r.param_count:,}", part))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"Total parameters: {inspection.total_params:,}")
    if inspection.error is not None:
        print(f"\nmogui: the model cannot be built: {inspection.error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"\nLosses ({project.loss_mode.replace('_', '-')} mode):")
    for contract in loss_contract(project):
        print(f"  {contract.description}")
    return report_code(project, args.project)


def cmd_validate(args: argparse.Namespace) -> int:
    project, path = _load(args.project)
    if (refused := check_trust(project, args)) is not None:
        return refused
    result = _run_child("dry_run", (project, path.parent.absolute()), _allowed(project),
                        timeout_s=DRY_RUN_TIMEOUT_S)
    report = result.report
    print(f"{path}: valid. {result.samples} samples; dry run of the "
          f"{report.mode.replace('_', '-')} loss on a batch of {report.batch_size}:")
    for h in report.heads:
        labelled = "" if h.labelled is None else \
            f" ({h.labelled} of {report.batch_size} rows labelled)"
        print(f"  {h.head}: {h.loss} received y_true {h.y_true.dtype} {h.y_true.shape}, "
              f"y_pred {h.y_pred.dtype} {h.y_pred.shape} -> {_number(h.value)} x {h.weight:g} "
              f"= {_number(h.weighted)}{labelled}")
        if h.classes:
            print("    classes: " + ", ".join(f"{i} {name}" for i, name in enumerate(h.classes)))
    print(f"  total loss: {report.total:.4f}")
    print(f"  balancing: {describe_balancing(project)}")
    for line in describe_stopping(project):
        print(f"  {line}")
    for warning in [*result.data_warnings, *report.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _number(value: float | None) -> str:
    """A dry-run value; ``-`` where a joint loss returned one scalar instead of terms."""
    return "-" if value is None else f"{value:.4f}"


def cmd_export(args: argparse.Namespace) -> int:
    try:
        project, project_dir = export_source(args, _load)
    except MoguiError as exc:
        print(f"mogui: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_INVALID
    # With --from-run the model file's code runs (when it loads), not the project's.
    check = check_model_trust(args) if args.from_run is not None else check_trust(project, args)
    if check is not None:
        return check
    formats = [f for f in args.formats.split(",") if f.strip()]
    if not formats:
        print(f"mogui: --formats '{args.formats}' names no format; give one or more of keras, "
              "savedmodel, onnx (e.g. --formats keras,onnx).", file=sys.stderr)
        return EXIT_INVALID
    options = {"formats": formats, "epochs": args.epochs, "project_dir": project_dir,
               "from_run": None if args.from_run is None else Path(args.from_run).absolute(),
               "data_snapshot": args.data_snapshot}
    allowed = _allowed(project) if args.from_run is None else model_code(args)
    reporter = EpochTable(sys.stdout) if args.from_run is None else None
    try:
        result = _run_child("export", (project, Path(args.out).absolute(), options), allowed,
                            reporter)
    except JobCancelled:
        print("Stopped: nothing was exported.", file=sys.stderr)
        return EXIT_FAILED
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Exported to {result.folder}: {', '.join(result.files)}")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    return predict_command(args, _load, lambda *a, **k: _run_child(*a, **k))


def cmd_evaluate(args: argparse.Namespace) -> int:
    return evaluate_command(args, _load, lambda *a, **k: _run_child(*a, **k))


def cmd_runs(args: argparse.Namespace) -> int:
    return runs_command(args, _load)


def cmd_trust(args: argparse.Namespace) -> int:
    return trust_command(args, _load)


def cmd_gui(args: argparse.Namespace) -> int:
    project = str(_resolve(args.project)) if args.project else None
    if project is not None and (problem := path_problem(project)) is not None:
        examples = ", ".join(sorted(name.removesuffix(".json") for name in example_names()))
        hint = (f" Give the path of a mogui project file or the name of a shipped example "
                f"({examples})." if problem.startswith("does not exist") else "")
        print(f"mogui: cannot open the project '{project}': it {problem}.{hint}",
              file=sys.stderr)
        return EXIT_INVALID
    try:
        from mogui.qt.app import run_gui
    except ImportError as exc:
        print(f"mogui: the desktop app cannot start: {exc}. Install the Qt system libraries "
              "listed in the README, or use 'mogui train|inspect|validate'.", file=sys.stderr)
        return EXIT_FAILED
    return run_gui(sys.argv[:1], project)


def _opens_project(parser: argparse.ArgumentParser, argv: Sequence[str]) -> bool:
    """Whether ``argv`` is ``PROJECT [...]`` (what a file manager runs to open a file): its
    first word names no command but an existing file, a ``.json`` file, a path or an example."""
    if not argv or argv[0].startswith("-"):
        return False
    commands = {name for action in parser._actions  # argparse keeps sub-commands nowhere else
                if isinstance(action, argparse._SubParsersAction) for name in action.choices}
    word = argv[0]
    return word not in commands and (
        Path(word).exists() or word.lower().endswith(".json") or f"{word}.json" in
        example_names() or any(sep in word for sep in (os.sep, os.altsep) if sep))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mogui", description="Build, train and inspect multi-output Keras models. "
        "Without a command, opens the desktop app (on the demo project, or on PROJECT: "
        "'mogui PROJECT.json' is short for 'mogui gui PROJECT.json').")
    parser.add_argument("--version", action="version", version=f"mogui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    project_help = "project file (.json) or the name of a shipped example"
    trust_help = ("run the project's code for this command even though you have not trusted "
                  "it (nothing is recorded; see 'mogui trust')")

    add_train_parser(sub, project_help, trust_help).set_defaults(func=cmd_train)
    add_sweep_parser(sub, project_help, trust_help).set_defaults(func=cmd_sweep)

    inspect = sub.add_parser("inspect", help="print every layer's shape and what each loss gets")
    inspect.add_argument("project", help=project_help)
    inspect.set_defaults(func=cmd_inspect)

    validate = sub.add_parser("validate", help="check a project, its data and a loss dry run")
    validate.add_argument("project", help=project_help)
    validate.add_argument("--trust", action="store_true", help=trust_help)
    validate.set_defaults(func=cmd_validate)

    export = sub.add_parser("export", help="train (or take a trained run) and export the "
                            "model files, a standalone training script, history and plots")
    export.add_argument("project", nargs="?", help=project_help + " (optional with "
                        "--from-run when the run folder holds its project.json)")
    export.add_argument("--out", required=True, help="export folder (new, empty, or holding "
                        "only a previous mogui export, which is replaced)")
    export.add_argument("--formats", default="keras",
                        help="comma-separated model formats: keras, savedmodel, onnx "
                        "(default: keras)")
    export.add_argument("--epochs", type=int, help="override the project's epoch count")
    export.add_argument("--from-run", metavar="RUN_DIR",
                        help="export the model a run (of 'mogui train' or the app) wrote "
                        "instead of training, with the project that run trained")
    export.add_argument("--data-snapshot", action="store_true",
                        help="the script of a CSV or image-folder project loads data.npz "
                        "(the arrays mogui read, saved beside it) instead of reading the "
                        "table or the images itself")
    export.add_argument("--trust", action="store_true", help=trust_help)
    export.set_defaults(func=cmd_export)

    add_init_parser(sub).set_defaults(func=init_command)
    add_predict_parser(sub, project_help, trust_help).set_defaults(func=cmd_predict)
    add_evaluate_parser(sub, project_help, trust_help).set_defaults(func=cmd_evaluate)

    runs = sub.add_parser("runs", help="list a project's runs, newest first")
    runs.add_argument("project", help=project_help)
    runs.set_defaults(func=cmd_runs)

    trust = sub.add_parser("trust", help="show the Python code a project (or a .keras model "
                           "file) holds and trust it, so validate, train and export run it")
    trust.add_argument("project", help=project_help + ", a .keras file or a run folder")
    trust.add_argument("--yes", action="store_true",
                       help="trust without asking (needed when stdin is not a terminal)")
    trust.add_argument("--revoke", action="store_true",
                       help="remove the trust given to every piece of code in the file")
    trust.set_defaults(func=cmd_trust)

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("project", nargs="?", help=project_help)
    gui.set_defaults(func=cmd_gui)
    return parser


class _StderrHandler(logging.Handler):
    """Prints mogui's warnings (e.g. a corrupt trust store) to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"mogui: warning: {_one_line(record.getMessage())}", file=sys.stderr)


def _show_warnings() -> None:
    log = logging.getLogger("mogui")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler(logging.WARNING)
        log.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    _show_warnings()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if _opens_project(parser, argv):  # `mogui PROJECT.json` is `mogui gui PROJECT.json`
        argv.insert(0, "gui")
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    if getattr(args, "epochs", None) is not None and args.epochs < 1:
        print(f"mogui: --epochs must be >= 1, got {args.epochs}; give how many times to go "
              "through the data", file=sys.stderr)
        return EXIT_INVALID
    try:
        return args.func(args)
    except (ProjectError, MoguiError) as exc:
        print(f"mogui: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_INVALID if _is_input_error(exc) else EXIT_FAILED
    except KeyboardInterrupt:
        print("mogui: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # the reader of stdout has gone ('mogui runs P | head -1')
        drop_stdout()
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a CLI
        print(getattr(exc, "child_traceback", None) or traceback.format_exc(), file=sys.stderr)
        print(f"mogui: unexpected error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_FAILED


def _is_input_error(exc: Exception) -> bool:
    return isinstance(exc, ProjectError | BuildError | CustomCodeError | DataError | ExportError
                      | ModelFileError | DeviceError | TimedOut | TrackingError | RunFolderError)


def _one_line(text: str) -> str:
    return " ".join(text.split())
