"""Data on the command line: ``mogui init`` (a project from a data file), ``mogui predict``
(a trained run's predictions for a new data file, one column per head) and ``mogui evaluate``
(a trained run's figures per head on its project's validation rows).

``init`` reads no project code and runs in this process; ``predict`` and ``evaluate`` load
the run's model in a child process (a model file may hold loss code, which runs only when
trusted). Keras is imported only when a command needs it. Exit codes as in :mod:`mogui.cli`:
every bad input exits 2 with one line, and a failing command writes no file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mogui.cli_runs import project_file
from mogui.cli_trust import check_model_trust, model_code
from mogui.core.default_model import build_project
from mogui.core.errors import DataError
from mogui.core.from_data import plan_project
from mogui.core.io import save_project
from mogui.core.paths import path_problem
from mogui.core.project import Project
from mogui.core.run_store import list_runs, runs_dir
from mogui.core.runs import MODEL_FILE, RUN_FILE
from mogui.core.validation import ProjectError, check_project
from mogui.runner.native_log import load_tensorflow_quietly

EXIT_OK, EXIT_INVALID = 0, 2
Load = Callable[..., tuple[Project, Path]]
RunChild = Callable[..., Any]


def _fail(message: str) -> int:
    print(f"mogui: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_INVALID


def _new_file_problem(path: Path, flag: str, overwrite: bool | None = None) -> str | None:
    """Why ``path`` cannot be written as a new file (checked before any work); ``overwrite``
    is the command's ``--overwrite`` (None: the command has none)."""
    if path.is_dir():
        return f"{flag} '{path}' is a folder; give a file name."
    if path.exists() and not overwrite:
        replace = " (or pass --overwrite to replace it)" if overwrite is not None else \
            " (or move that file away first)"
        return f"{flag} '{path}' exists already; choose another name{replace}."
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{flag} '{path}' cannot be made: '{existing}' is a file, not a folder."
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return f"{flag} '{path}' cannot be written: '{existing}' is not writable."
    return None


# -- init ----------------------------------------------------------------------------------------

def _tasks(values: list[str]) -> dict[str, str]:
    tasks = {}
    for value in values:
        head, sep, task = value.partition("=")
        if not sep or not head.strip() or not task.strip():
            raise DataError(f"--task {value}: write HEAD=TASK, e.g. --task rooms=multiclass.")
        tasks[head.strip()] = task.strip()
    return tasks


def init_command(args: argparse.Namespace) -> int:
    """``mogui init --data FILE --target COL … --out PROJECT``: summarise the data, infer each
    head's task, pick the features and write a project with a default model."""
    out = Path(args.out).absolute()
    if not out.name.endswith(".json"):
        return _fail(f"--out '{args.out}' should be a project file name ending in .json "
                     "(e.g. my_project.json).")
    if (problem := _new_file_problem(out, "--out")) is not None:
        return _fail(problem)
    load_tensorflow_quietly()
    from mogui.engine.data import check_data, summarize_data
    from mogui.engine.model import inspect_project

    try:
        summary = summarize_data(args.data, labels=args.labels, file_column=args.file_column,
                                 delimiter=args.delimiter)
        plan = plan_project(summary, args.target, args.features, _tasks(args.task))
    except DataError as exc:
        return _fail(str(exc))
    project = build_project(plan, out, args.name)
    if problems := check_project(project):
        return _fail(str(ProjectError(problems)))
    if (built := inspect_project(project, None)).error is not None:
        return _fail(f"The default model does not fit this data: {built.error}")
    report = check_data(project, out.parent)
    if not report.ok:
        return _fail(report.errors[0])
    what = "arrays" if summary.kind == "npz" else "columns"
    print(f"{summary.path.name}: {summary.rows} rows, {len(summary.columns)} {what}")
    print("\n".join(summary.lines()))
    print("\n".join(plan.lines()))
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_project(project, out)
    except OSError as exc:
        return _fail(f"--out '{out}' cannot be written: {exc.strerror or exc}.")
    layers = ", ".join(f"{layer.kind}" for layer in project.trunk)
    print(f"Wrote {out}: model {layers}, then a head per target. Train it with "
          f"'mogui train {args.out}'.")
    return EXIT_OK


def add_init_parser(sub: Any) -> argparse.ArgumentParser:
    init = sub.add_parser(
        "init", help="make a project from a data file: a head per target, a default model",
        description="Make a project from a CSV table, an .npz file or an image folder with a "
        "label table. Each --target becomes a head named after it; its task is inferred from "
        "the values (numbers: regression; 0/1: binary; a few whole numbers or category names: "
        "multiclass; a group of 0/1 columns: multilabel); empty cells are rows without a "
        "label. The other columns feed the model (or those --features names).")
    init.add_argument("--data", required=True, help="CSV table, .npz file or image folder")
    init.add_argument("--target", action="append", default=[], metavar="COLUMNS",
                      help="a target: a column (price), or NAME=COLUMNS for a group trained "
                      "by one head (tags=t1:t5); repeat for more heads")
    init.add_argument("--features", metavar="COLUMNS",
                      help="input columns: names, ranges (f1:f8 or f1-f8) and patterns (f*), "
                      "separated by commas (default: every usable column that is no target)")
    init.add_argument("--task", action="append", default=[], metavar="HEAD=TASK",
                      help="override an inferred task: regression, binary, multiclass, "
                      "multiclass_onehot or multilabel")
    init.add_argument("--labels", help="image folder: the table naming each image and its "
                      "targets (default: the folder's only CSV file, or labels.csv beside it)")
    init.add_argument("--file-column", help="image folder: the table's column of file names "
                      "(default: found from its cells)")
    init.add_argument("--delimiter", help="the table's delimiter (default: found from its "
                      "header line)")
    init.add_argument("--name", help="the project's name (default: the data file's name)")
    init.add_argument("--out", required=True, help="the project file to write (.json)")
    return init


# -- predict -------------------------------------------------------------------------------------

def _run_folder(project: Project, project_path: Path | None, run: str | None) -> Path:
    """The run to predict with: ``run`` as a path or as a folder name in the project's runs,
    else the newest run that left a model."""
    if run is not None:
        given = Path(run)
        if (given / RUN_FILE).is_file() or (given / MODEL_FILE).is_file():
            return given
        named = runs_dir(project, project_path) / run
        if (named / MODEL_FILE).is_file():
            return named
        raise DataError(f"--run '{run}' is no run folder with a trained model ({MODEL_FILE}); "
                        "'mogui runs PROJECT' lists the project's runs.")
    for info in list_runs(project, project_path):
        if info.has_model:
            return info.folder
    raise DataError(f"The project has no trained run yet (looked in "
                    f"{runs_dir(project, project_path)}); train it with 'mogui train' first, "
                    "or give --run.")


def _trusted_run(args: argparse.Namespace, project: Project, path: Path
                 ) -> tuple[Path, list[str] | int]:
    """``--run``'s folder, and the code in its model file that may run (checked for trust),
    or the exit code of the refusal."""
    run = _run_folder(project, project_file(args.project, path), args.run).absolute()
    trust_args = argparse.Namespace(from_run=str(run), trust=args.trust)
    if (refused := check_model_trust(trust_args)) is not None:
        return run, refused
    return run, model_code(trust_args)


def _run_parser(sub: Any, name: str, project_help: str, trust_help: str, *, help: str,  # noqa: A002
                description: str) -> argparse.ArgumentParser:
    """A command of a trained run: ``PROJECT [--run RUN] [--trust]``."""
    parser = sub.add_parser(name, help=help, description=description)
    parser.add_argument("project", help=project_help)
    parser.add_argument("--run", help="the run folder (or its name in the project's runs "
                        "folder; default: the newest run with a trained model)")
    parser.add_argument("--trust", action="store_true", help=trust_help)
    return parser


def predict_command(args: argparse.Namespace, load: Load, run_child: RunChild) -> int:
    """``mogui predict PROJECT [--run RUN] --data FILE --out PREDICTIONS.csv``."""
    project, path = load(args.project)
    out = Path(args.out).absolute()
    data = Path(args.data)
    if out.suffix.lower() != ".csv":
        return _fail(f"--out '{args.out}' should be a CSV file name ending in .csv (e.g. "
                     "predictions.csv).")
    if (problem := _new_file_problem(out, "--out", args.overwrite)) is not None:
        return _fail(problem)
    if (problem := path_problem(data, "folder" if data.is_dir() else "file")) is not None:
        return _fail(f"--data '{args.data}' {problem}.")
    if out.exists() and out.resolve() == data.resolve():
        return _fail("--out names the data file itself; choose another file for the "
                     "predictions.")
    run, code = _trusted_run(args, project, path)
    if isinstance(code, int):
        return code
    summary = run_child("predict", (run, data.absolute(), out, project, args.keep or ""), code)
    for line in summary.evaluation:
        print(line)
    print(f"Wrote {summary.rows} predictions ({', '.join(summary.columns)}) to {out}, with the "
          f"model of {run}.")
    return EXIT_OK


def add_predict_parser(sub: Any, project_help: str, trust_help: str
                       ) -> argparse.ArgumentParser:
    predict = _run_parser(
        sub, "predict", project_help, trust_help,
        help="predict with a trained run: one CSV column per head",
        description="Write the predictions of a trained run for a data file: one column per "
        "head, class names for classification heads, values in the target's units for "
        "regression heads. A CSV file needs the project's input columns; an .npz file its "
        "input arrays; an image-folder project takes a folder of images. When a CSV or .npz "
        "file also holds the targets, each head is evaluated too.")
    predict.add_argument("--data", required=True, help="the data to predict (a CSV table, an "
                         ".npz file, or a folder of images)")
    predict.add_argument("--out", required=True, help="the predictions file to write (.csv)")
    predict.add_argument("--keep", metavar="COLUMNS",
                         help="columns of the CSV file copied in front of the predictions, "
                         "e.g. an id to join them back by (names, ranges a:c, patterns id_*)")
    predict.add_argument("--overwrite", action="store_true",
                         help="replace --out when it exists")
    return predict


def evaluate_command(args: argparse.Namespace, load: Load, run_child: RunChild) -> int:
    """``mogui evaluate PROJECT [--run RUN] [--rows validation|training|all] [--worst N]``."""
    project, path = load(args.project)
    if args.worst < 0:
        return _fail(f"--worst {args.worst}: give 0 or more rows to list per head.")
    run, code = _trusted_run(args, project, path)
    if isinstance(code, int):
        return code
    evaluation = run_child("evaluate", (run, args.rows, args.worst), code)
    print(f"The model of {run}:")
    for line in evaluation.lines():
        print(line)
    return EXIT_OK


def add_evaluate_parser(sub: Any, project_help: str, trust_help: str
                        ) -> argparse.ArgumentParser:
    evaluate = _run_parser(
        sub, "evaluate", project_help, trust_help,
        help="a trained run's figures per head on its project's data",
        description="Evaluate a trained run on the rows of its project's data it held out "
        "for validation (or the training rows, or all): per head, a confusion matrix with "
        "per-class precision and recall, or MAE, RMSE, R² and the residuals, and the rows it "
        "gets most wrong.")
    evaluate.add_argument("--rows", choices=("validation", "training", "all"),
                          default="validation", help="which rows (default: validation, held "
                          "out from training; all when the run held none out)")
    evaluate.add_argument("--worst", type=int, default=10,
                          help="rows listed per head that the model gets most wrong "
                          "(default: 10)")
    return evaluate
