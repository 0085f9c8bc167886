"""Training on the command line: ``mogui train`` and what it prints.

``train`` writes a new run folder of the project's (as the app does) unless ``--out`` names
one, and may change how this run balances the heads (``--balancing``, ``--balancing-param``)
and how many devices it trains on (``--devices``), and what early stopping and checkpoints
watch (``--stop-on``, ``--patience``, ``--checkpoint-on``: :mod:`mogui.cli_stop`) without
changing the project file. The training itself runs in a child process (project code never
runs in this one). Exit codes as in :mod:`mogui.cli`: every bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from mogui.cli_gradients import (
    add_gradient_arguments,
    apply_gradient_options,
    describe_gradients,
    gradient_columns_line,
)
from mogui.cli_runs import project_file
from mogui.cli_stop import (
    add_stop_arguments,
    apply_stop_options,
    describe_stopping,
    early_stop_line,
)
from mogui.cli_tracking import (
    add_tracking_arguments,
    describe_tracking,
    tracking_options,
    tracking_problem,
)
from mogui.cli_trust import check_trust
from mogui.core.balancing import BALANCING_METHODS, WEIGHT_SCHEDULES, parameter_problems
from mogui.core.errors import DataError
from mogui.core.events import EpochEnded, StateChanged, TrainingFinished, TrainingStarted
from mogui.core.jobs import JobCancelled
from mogui.core.paths import unwritable_folder
from mogui.core.project import Balancing, Project
from mogui.core.run_store import RunRecorder, RunStoreError, create_run, delete_run, runs_dir
from mogui.core.runs import RUN_FILE, RunStatus, plural
from mogui.core.trust import project_code
from mogui.core.validation import check_project
from mogui.core.weight_checks import total_loss_warnings

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
Load = Callable[..., tuple[Project, Path]]
RunChild = Callable[..., Any]
#: The most devices ``training.devices`` allows.
MAX_DEVICES = 64


def one_line(text: str) -> str:
    """``text`` on one line."""
    return " ".join(text.split())


def _fail(message: str) -> int:
    print(f"mogui: {one_line(message)}", file=sys.stderr)
    return EXIT_INVALID


def shows_weights(project: Project) -> bool:
    """Whether the heads' weights change during a run (a balancing method or a schedule)."""
    return project.training.balancing.method != "equal" or any(
        head.loss.schedule.kind != "constant" for head in project.loss_heads())


class EpochTable:
    """Prints one row per epoch with a column per head, as training reports; with
    ``weights`` also each head's weight in the epoch (``weight_<head>``)."""

    def __init__(self, out: TextIO, weights: bool = False) -> None:
        self.out = out
        self.weights = weights
        self.columns: list[str] = []

    def __call__(self, event: object) -> None:
        if isinstance(event, TrainingStarted):
            heads = [f"{h}_loss" for h in event.heads] if len(event.heads) > 1 else []
            train = ["loss", *heads]
            val = [f"val_{c}" for c in train] if event.val_samples else []
            weights = [f"weight_{h}" for h in event.heads] if self.weights else []
            self.columns = train + val + weights
            print(f"Training on {event.device}: {event.train_samples} training and "
                  f"{event.val_samples} validation samples, {event.epochs} epochs", file=self.out)
            header = ["epoch", *self.columns, "time"]
            print("  ".join(f"{c:>{self._width(c)}}" for c in header), file=self.out)
        elif isinstance(event, EpochEnded):
            cells = [f"{event.epoch + 1:>5}"]
            for c in self.columns:
                value = event.logs.get(c)
                form = ".4g" if c.startswith("weight_") else ".4f"  # weights: 0.00127
                cells.append(f"{value:>{self._width(c)}{form}}" if value is not None
                             else " " * self._width(c))
            cells.append(f"{event.elapsed:>6.1f}s")
            print("  ".join(cells), file=self.out, flush=True)
        elif isinstance(event, StateChanged) and event.state == "stopping":
            print("Stopping after the current batch…", file=self.out, flush=True)

    @staticmethod
    def _width(column: str) -> int:
        return max(len(column), 9 if column != "epoch" else 5)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def apply_run_options(project: Project, args: argparse.Namespace) -> str | None:
    """Put ``--balancing``, ``--balancing-param`` and ``--devices`` into ``project`` (this
    run's copy); what is wrong with them, or ``None``."""
    methods = ", ".join(BALANCING_METHODS)
    method = project.training.balancing.method
    params = dict(project.training.balancing.params)
    if args.balancing is not None:
        if args.balancing not in BALANCING_METHODS:
            return (f"--balancing '{args.balancing}' is not a balancing method; choose one of: "
                    f"{methods} (docs/balancing.md says what each does).")
        if args.balancing != method:
            params = {}  # the project's parameters belong to its own method
        method = args.balancing
    spec = BALANCING_METHODS[method]
    takes = ", ".join(p.name for p in spec.parameters) or "none"
    for text in args.balancing_param:
        name, sep, value = text.partition("=")
        number = _number(value.strip())
        if not sep or not name.strip():
            return (f"--balancing-param '{text}' must be NAME=VALUE, e.g. --balancing-param "
                    f"temperature=1.5 (balancing '{method}' takes: {takes}).")
        if number is None:
            return f"--balancing-param '{text}': '{value}' is not a number."
        params[name.strip()] = number
    if problems := parameter_problems(f"--balancing {method}", spec.parameters, params):
        return problems[0]
    project.training.balancing = Balancing(method=method, params=params)
    if args.devices is not None:
        devices = _number(args.devices)
        if devices is None or devices != int(devices) or not 1 <= devices <= MAX_DEVICES:
            return (f"--devices '{args.devices}' must be a whole number from 1 to "
                    f"{MAX_DEVICES}: how many GPUs train at once.")
        project.training.devices = int(devices)
    problems = [p for p in check_project(project) if p.path.startswith("training.")]
    return str(problems[0]) if problems else None


def describe_balancing(project: Project) -> str:
    """One line: the method and its parameters, the weight schedules, the devices."""
    balancing = project.training.balancing
    method = BALANCING_METHODS[balancing.method]
    title = method.title
    if title[1:2].islower():  # a phrase ("Dynamic weight average"), not a name ("MGDA")
        title = title[0].lower() + title[1:]
    same = title.lower().replace("-", "_") == method.name
    text = method.name if same else f"{method.name} ({title})"
    if settings := balancing.settings():
        text += " with " + ", ".join(f"{k} {v:g}" for k, v in settings.items())
    schedules = [f"{head.name} {WEIGHT_SCHEDULES[head.loss.schedule.kind].title.lower()}"
                 for head in project.loss_heads() if head.loss.schedule.kind != "constant"]
    if schedules:
        text += "; weight schedules: " + ", ".join(schedules)
    devices = project.training.devices
    return text + f"; {devices} device{'s' if devices > 1 else ''}"


def _unwritable(folder: Path) -> str | None:
    """Why the run's files cannot be written to ``folder`` (checked before any training)."""
    return unwritable_folder(folder, "The output folder",
                             "Choose another --out, a folder you can write to.")


def _not_a_run_folder(folder: Path) -> str | None:
    """Why ``--out`` may not be written: it holds files that are not an earlier run's."""
    if not folder.is_dir() or (folder / RUN_FILE).is_file():
        return None
    others = sorted(p.name for p in folder.iterdir())
    if not others:
        return None
    shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
    return (f"The output folder '{folder}' holds files that are not a mogui run ({shown}); "
            "choose a new or empty folder for --out.")


def _forget_run(folder: Path, parents: list[Path]) -> None:
    """Remove the folder of a run that never began (its data was refused), and the
    ``parents`` made for it when they are empty, so that each corrected retry does not leave
    one behind; what cannot be removed is kept."""
    try:
        delete_run(folder)
        for parent in parents:
            parent.rmdir()
    except (OSError, RunStoreError):  # a folder something else has written to stays
        pass


def drop_stdout() -> None:
    """Send what is left to print to nowhere: the reader of stdout has gone, and training
    goes on, writing its files and record as usual."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def train_command(args: argparse.Namespace, load: Load, run_child: RunChild) -> int:
    """``mogui train PROJECT [--epochs N] [--out DIR] [--balancing M …] [--devices N]``."""
    project, path = load(args.project)
    problem = apply_stop_options(project, args) or apply_run_options(project, args) \
        or apply_gradient_options(project, args)
    if problem is not None:
        return _fail(problem)
    if (refused := check_trust(project, args)) is not None:
        return refused
    from mogui.runner.requests import TrainRequest

    project_path = project_file(args.project, path)
    out = Path(args.out).absolute() if args.out else None
    unusable = _unwritable(out or runs_dir(project, project_path)) or \
        (_not_a_run_folder(out) if out is not None else None)
    if unusable is not None:
        return _fail(unusable)
    if (problem := tracking_problem(args, project, project_path)) is not None:
        return _fail(problem)
    # The folders this command makes (it removes them again when the data is refused).
    target = out or runs_dir(project, project_path) / "run"
    made = [p for p in (target, target.parent, target.parent.parent) if not p.exists()]
    try:
        run = create_run(project, project_path, folder=out)
    except RunStoreError as exc:
        return _fail(f"{exc} Give a folder you can write to with --out.")
    out_dir = run.folder
    print(f"Run folder: {out_dir}", flush=True)
    tracking = tracking_options(args, project, project_path, out_dir.name)
    for line in describe_tracking(tracking):
        print(line, flush=True)
    if shows_weights(project) or project.training.devices > 1:
        print(f"Balancing: {describe_balancing(project)}", flush=True)
    for line in describe_stopping(project):
        print(line[0].upper() + line[1:], flush=True)
    for warning in total_loss_warnings(project):
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    for line in describe_gradients(project):
        print(line, flush=True)
    recorder, table = RunRecorder(run), EpochTable(sys.stdout, shows_weights(project))
    stop_lines: list[str] = []
    restored: list[int] = []  # the epoch whose weights the model ends with, when restored

    def on_event(event: object) -> None:
        try:
            table(event)
        except BrokenPipeError:  # e.g. 'mogui train … | head': the run goes on, unprinted
            drop_stdout()
        recorder(event)
        if (line := early_stop_line(event)) is not None:
            stop_lines.append(line)
        if isinstance(event, TrainingFinished) and event.early_stop is not None \
                and event.early_stop.restored_epoch is not None:
            restored.append(event.early_stop.restored_epoch)

    request = TrainRequest(project, path.parent.absolute(), out_dir, args.epochs,
                           baseline=True, tracking=tracking)
    allowed = [item.source for item in project_code(project)]  # checked by check_trust
    try:
        summary = run_child("train", (request,), allowed, on_event)
    except JobCancelled:
        recorder.finish(RunStatus.STOPPED)
        print(f"Stopped. The epochs completed before the stop are in {out_dir}.",
              file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        recorder.finish(RunStatus.FAILED, one_line(str(exc)))
        if isinstance(exc, DataError) and run.epochs_completed == 0 and made:
            _forget_run(out_dir, made[1:])  # the data was refused: no run took place
        raise
    recorder.finish(RunStatus.STOPPED if summary.stopped else RunStatus.FINISHED)
    _print_baseline(project, summary.baseline, summary.history, summary.has_validation,
                    restored[-1] if restored else None)
    for line in stop_lines:
        print(line)
    if (line := gradient_columns_line(project, summary.history, out_dir)) is not None:
        print(line)
    wrote = f"Wrote {out_dir / 'history.csv'} and {out_dir / 'model.keras'}" \
        if summary.epochs_run else f"No model was written; the run's record is in {out_dir}"
    if summary.stopped:  # Ctrl+C or SIGTERM between batches: the run did not finish
        print(f"Stopped after {plural(summary.epochs_run, 'complete epoch')}. {wrote}.",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"Done: {plural(summary.epochs_run, 'epoch')}. {wrote}.")
    return EXIT_OK


#: Built-in losses whose value is comparable to ``predict_mean_baseline`` for each task.
_BASELINE_LOSSES = {"regression": "mse", "multiclass": "sparse_categorical_crossentropy",
                    "multiclass_onehot": "categorical_crossentropy",
                    "binary": "binary_crossentropy", "multilabel": "binary_crossentropy"}


def _print_baseline(project: Project, baseline: dict[str, float],
                    history: dict[str, list[float]], has_validation: bool,
                    restored_epoch: int | None = None) -> None:
    """Compare each head's validation loss with always predicting the training mean: of the
    last epoch, or of ``restored_epoch`` (counted from 1) when the model ends with its weights."""
    if not baseline or project.loss_mode != "per_output":
        return
    prefix = "val_" if has_validation else ""
    lines = []
    for head in project.loss_heads():
        key = f"{prefix}{head.name}_loss" if len(project.loss_heads()) > 1 else f"{prefix}loss"
        comparable = head.loss.kind == _BASELINE_LOSSES[head.task.value]
        values = history.get(key) or []
        if comparable and values and head.name in baseline:
            at = restored_epoch - 1 if restored_epoch and restored_epoch <= len(values) else -1
            final, base = values[at], baseline[head.name]
            lines.append(f"  {head.name}: {final:.4f} vs {base:.4f} "
                         f"({final / base:.1%} of the baseline)")
    if lines:
        split = "validation" if has_validation else "training"
        epochs = max((len(v) for v in history.values()), default=0)
        restored = restored_epoch is not None and restored_epoch < epochs
        which = f"Epoch {restored_epoch}'s (the weights the model holds)" if restored \
            else "Final"
        print(f"{which} {split} loss vs predicting the training mean:")
        print("\n".join(lines))


def add_train_parser(sub: Any, project_help: str, trust_help: str) -> argparse.ArgumentParser:
    train = sub.add_parser(
        "train", help="train a project headless",
        description="Train a project in a new run folder. --balancing, --balancing-param, "
        "--devices, --stop-on, --patience, --checkpoint-on and --grad-diagnostics change this "
        "run only, not the project file.")
    train.add_argument("project", help=project_help)
    train.add_argument("--epochs", type=int, help="override the project's epoch count")
    train.add_argument("--out", help="write the run to exactly this folder (default: a new "
                       "folder in runs/<project file name>/ beside the project)")
    train.add_argument("--balancing", metavar="METHOD",
                       help="how this run balances the heads' losses: "
                       f"{', '.join(BALANCING_METHODS)} (default: the project's; see "
                       "docs/balancing.md)")
    train.add_argument("--balancing-param", action="append", default=[], metavar="NAME=VALUE",
                       help="a parameter of the balancing method, e.g. temperature=1.5 for "
                       "dwa (repeat for several)")
    train.add_argument("--devices", metavar="N",
                       help="train on N GPUs at once (tf.distribute.MirroredStrategy); "
                       "default: the project's setting")
    add_tracking_arguments(train)
    add_stop_arguments(train)
    add_gradient_arguments(train)
    train.add_argument("--trust", action="store_true", help=trust_help)
    return train
