"""``mogui sweep``: search the heads' loss weights (and, when asked, the balancing method and
the learning rate) for the trade-offs between the heads, with an Optuna multi-objective study.

The trials run in ``--workers`` child processes (project code never runs in this one); more
machines join by running the same command with the same ``--storage``. This process prints a
line per finished trial, rewrites ``trials.csv``, ``pareto.csv`` and ``pareto.png`` in
``--out`` after each (:mod:`mogui.core.sweep_results`) and prints the front at the end.
Ctrl+C stops the workers cleanly: their trials are queued again, and running the same
command again resumes the sweep. With ``--mlflow`` the sweep is an MLflow run and each trial a
run nested under it (:mod:`mogui.runner.sweep_tracking`). Exit codes as in :mod:`mogui.cli`:
every bad input exits 2 with one line, before anything is written.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mogui.cli_runs import project_file
from mogui.cli_tracking import add_tracking_arguments, tracking_problem, wants_mlflow
from mogui.cli_trust import check_trust
from mogui.core.balancing import BALANCING_METHODS
from mogui.core.data_paths import missing_data
from mogui.core.errors import MoguiError
from mogui.core.mlflow_runs import finish_sweep_run
from mogui.core.paths import unwritable_folder
from mogui.core.project import Project
from mogui.core.runs import plural
from mogui.core.sweep_results import (
    MANIFEST_FILE,
    PARETO_FILE,
    PARETO_PLOT,
    TRIALS_FILE,
    SweepManifest,
    SweepTrial,
    non_dominated,
    read_manifest,
    write_manifest,
    write_results,
)
from mogui.core.tracking import TrackingError, TrackingOptions, mlflow_options
from mogui.core.trust import project_code
from mogui.core.validation import ProjectError
from mogui.runner.parent import ChildProcessError, describe_exit
from mogui.runner.sweep_plan import (
    DEFAULT_OBJECTIVE,
    DEFAULT_STUDY,
    MAX_FAILURES_IN_A_ROW,
    SweepError,
    SweepPlan,
    TrialEnded,
    masked,
    objectives_of,
    search_space,
    whole_number,
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
Load = Callable[..., tuple[Project, Path]]
#: Whether an exception means bad input (exit 2): the command line's own test.
InputError = Callable[[BaseException], bool]
MAX_TRIALS = 100_000
MAX_WORKERS = 256


def _fail(message: str) -> int:
    print(f"mogui: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_INVALID


def _number(value: float | str) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _pairs(values: dict[str, Any], names: Sequence[str]) -> str:
    return " ".join(f"{name}={_number(values[name])}" for name in names if name in values)


# -- checking the folder ------------------------------------------------------------------------

def _unusable_folder(out: Path) -> str | None:
    """Why ``--out`` cannot hold a sweep (checked before anything is written)."""
    if (problem := unwritable_folder(out, "The output folder",
                                     "Choose another --out, a folder you can write to.")):
        return problem
    if out.is_dir() and not (out / MANIFEST_FILE).is_file():
        others = sorted(p.name for p in out.iterdir())
        if others:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            return (f"The output folder '{out}' holds files that are not a mogui sweep "
                    f"({shown}); choose a new or empty folder for --out, or the folder of "
                    "the sweep to resume.")
    return None


def _different(old: SweepManifest, new: SweepManifest, out: Path) -> str | None:
    """Why the sweep in ``out`` (``old``) is not the one asked for (``new``)."""
    fix = "Give the options it was started with to resume it, or choose another --out."
    if Path(old.project) != Path(new.project):
        return (f"'{out}' holds a sweep of {old.project}, not of {new.project}. Give that "
                "project to resume it, or choose another --out.")
    if (old.parameters, old.objectives, old.directions) != \
            (new.parameters, new.objectives, new.directions):
        return (f"'{out}' holds a sweep that searches {', '.join(old.parameters)} for "
                f"{', '.join(old.objectives)}; this command searches "
                f"{', '.join(new.parameters)} for {', '.join(new.objectives)}. {fix}")
    if old.epochs != new.epochs:
        return (f"'{out}' holds a sweep of {plural(old.epochs or 0, 'epoch')} per trial, "
                f"not {new.epochs}. "
                f"Pass --epochs {old.epochs} to resume it, or choose another --out.")
    if (old.storage, old.study) != (new.storage, new.study):
        where = old.storage or f"its journal file in '{out}'"
        return (f"'{out}' holds a sweep whose trials are kept in {where} (study "
                f"'{old.study}'), not in {new.storage or 'the default journal file'} (study "
                f"'{new.study}'). Pass the same --storage and --study to resume it, or "
                "choose another --out.")
    return None


def _folder_problem(out: Path, manifest: SweepManifest) -> str | None:
    if (problem := _unusable_folder(out)) is not None:
        return problem
    if not (out / MANIFEST_FILE).is_file():
        return None
    try:
        old = read_manifest(out)
    except (OSError, ValueError) as exc:
        return f"{exc}. Choose another --out, or remove that file to start the sweep again."
    return _different(old, manifest, out)


# -- printing -----------------------------------------------------------------------------------

class SweepPrinter:
    """One line per finished trial; the front at the end."""

    def __init__(self, plan: SweepPlan) -> None:
        self.plan = plan

    def header(self, done: int, missing: int, workers: int) -> None:
        plan, space = self.plan, self.plan.space
        searched = [f"weights of {', '.join(space.heads)} ({space.weight_range[0]:g}–"
                    f"{space.weight_range[1]:g}, log-uniform)"]
        if space.methods:
            searched.append("balancing (" + ", ".join(space.methods) + ")")
        if space.learning_rate is not None:
            searched.append(f"learning rate ({space.learning_rate[0]:g}–"
                            f"{space.learning_rate[1]:g}, log-uniform)")
        goals = ", ".join(f"{o} ({'max' if d == 'maximize' else 'min'})"
                          for o, d in zip(plan.objectives, plan.directions, strict=True))
        print(f"Sweep in {plan.folder}: {plural(plan.trials, 'trial')} of "
              f"{plural(plan.epochs, 'epoch')} ({done} done, {missing} to run) on "
              f"{plural(workers, 'worker')}; storage "
              f"{masked(plan.storage) or plan.folder / 'sweep.journal'}, study '{plan.study}'.")
        print(f"Searching {'; '.join(searched)}. Objectives: {goals}.", flush=True)

    def trial(self, event: Any, finished: int) -> None:
        params = _pairs(event.params, self.plan.space.parameters)
        if event.state == "COMPLETE":
            result = _pairs(event.objectives, self.plan.objectives)
        elif event.state == "FAIL":
            result = f"failed: {' '.join(event.error.split())}"
        else:
            result = "interrupted; its parameters are queued for the next run"
        print(f"trial {event.number:>4}  {params}  ->  {result}  "
              f"[{finished}/{self.plan.trials}]", flush=True)

    def front(self, trials: Sequence[SweepTrial]) -> None:
        plan = self.plan
        complete = [t for t in trials if t.complete]
        front = non_dominated(trials, plan.objectives, plan.directions)
        if not front:
            print("No complete trials yet, so no Pareto front.")
            return
        print(f"Pareto front: {len(front)} of {len(complete)} complete trials "
              f"(in {plan.folder / PARETO_FILE} and {plan.folder / PARETO_PLOT}):")
        columns = ["trial", *plan.space.parameters, *plan.objectives, "run"]
        rows = [[str(t.number), *(_number(t.params.get(p, "")) for p in plan.space.parameters),
                 *(_number(t.objectives[o]) for o in plan.objectives), t.run] for t in front]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        for row in [columns, *rows]:
            print("  " + "  ".join(cell.rjust(w) if i < len(columns) - 1 else cell
                                   for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


# -- the command --------------------------------------------------------------------------------

def make_plan(args: argparse.Namespace, project: Project, path: Path) -> SweepPlan:
    """The sweep the options ask for; :class:`SweepError` for a bad option."""
    trials = whole_number(args.trials, "--trials", 1, MAX_TRIALS,
                          "how many trials the sweep runs in all")
    space = search_space(project, args.search, args.methods)
    objectives, directions = objectives_of(project, args.objective)
    study = (args.study or "").strip()
    if not study:
        raise SweepError("--study must name the study, e.g. --study mogui-sweep.")
    return SweepPlan(project=project, project_path=project_file(args.project, path),
                     project_dir=path.parent.absolute(),
                     folder=Path(args.out).expanduser().absolute(),
                     storage=_storage_spec(args.storage), study=study, trials=trials,
                     epochs=args.epochs or project.training.epochs, space=space,
                     objectives=objectives, directions=directions)


def _storage_spec(text: str | None) -> str:
    """``--storage`` as kept: a URL as given, a journal file's path made absolute."""
    spec = (text or "").strip()
    return spec if not spec or "://" in spec else str(Path(spec).expanduser().absolute())


def sweep_command(args: argparse.Namespace, load: Load, input_error: InputError) -> int:
    """``mogui sweep PROJECT --trials N --out DIR [...]``; ``load`` reads the project
    argument, ``input_error`` tells a worker's bad-input failure (exit 2) from others."""
    try:
        workers = whole_number(args.workers, "--workers", 1, MAX_WORKERS,
                               "how many worker processes train trials at once here")
        project, path = load(args.project)
        plan = make_plan(args, project, path)
    except SweepError as exc:
        return _fail(str(exc))
    if (unreadable := missing_data(project, plan.project_dir)) is not None:
        return _fail(f"The sweep cannot read the project's data: "
                     f"{unreadable.rsplit('; ', 1)[0]}. Correct the data path in {path.name}.")
    if (refused := check_trust(project, args)) is not None:
        return refused
    if (problem := tracking_problem(args, project, plan.project_path)) is not None:
        return _fail(problem)
    manifest = plan.manifest(str(path.resolve()))
    if (problem := _folder_problem(plan.folder, manifest)) is not None:
        return _fail(problem)
    # Optuna (and below, matplotlib) load only when a sweep runs: `mogui --help` stays quick.
    from mogui.runner.sweep_study import SweepStudy, check_search, open_storage, storage_path
    from mogui.runner.sweep_tracking import keep_sweep_run, open_sweep_run

    options = _mlflow_options(args, plan)
    parent: str | None = None
    new = False
    try:
        storage = None
        journal = storage_path(plan.storage, plan.folder)
        if journal is None or journal.exists():  # a database, or a journal made before
            storage = open_storage(plan.storage, plan.folder)
            check_search(storage, plan, masked(plan.storage) or str(journal))
        elif journal.parent != plan.folder and not journal.parent.is_dir():
            return _fail(f"The journal file '{journal}' cannot be made: its folder does not "
                         "exist. Give a --storage path in an existing folder.")
        if options is not None:  # before --out is written: a store that fails leaves it be
            parent, new = open_sweep_run(options, plan, storage)
        plan.folder.mkdir(parents=True, exist_ok=True)
        write_manifest(plan.folder, manifest)
        sweep = SweepStudy(storage or open_storage(plan.storage, plan.folder), plan)
        if options is not None and parent is not None:
            keep_sweep_run(sweep.storage, plan, options, parent)
    except (SweepError, TrackingError, OSError) as exc:
        _end_sweep_run(options, parent, "failed", plan)
        if isinstance(exc, OSError):
            return _fail(f"The sweep's files cannot be written in '{plan.folder}': "
                         f"{exc.strerror or exc}. Choose a folder you can write to for --out.")
        return _fail(str(exc))
    notes = []
    if options is not None and parent is not None:
        plan = replace(plan, tracking=options, tracking_parent=parent)
        notes.append(f"MLflow: experiment '{options.experiment}', run '{plan.folder.name}' "
                     f"({'new' if new else 'continued'}) in {masked(options.mlflow_uri or '')};"
                     " each trial is a run nested under it.")
    if args.retry_failed and (again := sweep.retry_failed()):
        print(f"Queued the {len(again)} failed trial(s) again: "
              + ", ".join(str(n) for n in again))
    status = "failed"
    try:
        code, stopped = _run(plan, sweep, workers, [item.source for item in
                                                    project_code(project)], input_error, notes)
        status = "complete" if code == EXIT_OK else "stopped" if stopped else "failed"
    except KeyboardInterrupt:
        status = "stopped"
        raise
    finally:
        _end_sweep_run(options, parent, status, plan)
    return code


def _mlflow_options(args: argparse.Namespace, plan: SweepPlan) -> TrackingOptions | None:
    """Where ``--mlflow`` logs the sweep (``None``: it is not logged)."""
    if not wants_mlflow(args):
        return None
    experiment = getattr(args, "mlflow_experiment", None)
    return mlflow_options(plan.project, plan.project_path,
                          experiment=experiment.strip() if experiment else None)


def _end_sweep_run(options: TrackingOptions | None, run_id: str | None, status: str,
                   plan: SweepPlan) -> None:
    """End the sweep's MLflow run with ``status`` and its result files as artifacts."""
    if options is None or run_id is None:
        return
    try:
        finish_sweep_run(options, run_id, status, [plan.folder / name for name in
                                                   (TRIALS_FILE, PARETO_FILE, PARETO_PLOT)])
    except Exception as exc:  # noqa: BLE001 - the sweep's own files are what counts
        print(f"mogui: the sweep's MLflow run could not be ended: {' '.join(str(exc).split())}",
              file=sys.stderr)


def _run(plan: SweepPlan, sweep: Any, workers: int, allowed: list[str],
         input_error: InputError, notes: Sequence[str] = ()) -> tuple[int, bool]:
    """Run the missing trials in ``workers`` processes, printing and rewriting as they end;
    the exit code, and whether the sweep was stopped (Ctrl+C)."""
    from mogui.runner.sweep_plot import write_front_plot
    from mogui.runner.sweep_pool import WorkerPool, outcome_error

    printer = SweepPrinter(plan)
    manifest = read_manifest(plan.folder)

    def rewrite() -> list[SweepTrial]:
        trials = sweep.trials()
        write_results(plan.folder, manifest, trials)
        write_front_plot(plan.folder, manifest, trials)
        return trials

    if left := sweep.fail_stale():
        print(f"Trial(s) {', '.join(map(str, left))} were left running by a worker that has "
              "ended; their parameters are queued again.")
    trials = rewrite()
    missing = sweep.missing()
    count = min(workers, missing)
    printer.header(sweep.started(), missing, count)
    for note in notes:
        print(note, flush=True)
    invalid, problems, stopped = False, [], False
    if count:
        asked: list[bool] = []

        def stop(*_: object) -> None:
            if not asked:
                print("Stopping: each worker ends its trial after the batch in progress…",
                      file=sys.stderr, flush=True)
            asked.append(True)
            if pools:
                pools[0].stop()

        pools: list[WorkerPool] = []
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            pools.append(WorkerPool(plan, count, allowed))
            if asked:
                pools[0].stop()
            for index, kind, value in pools[0].messages():
                if kind == "event" and isinstance(value, TrialEnded):
                    trials = rewrite()
                    finished = sum(t.state in ("COMPLETE", "FAIL") for t in trials)
                    printer.trial(value, finished)
                elif kind == "outcome":
                    invalid = _worker_end(index, value, outcome_error(value), pools[0], sweep,
                                          problems, input_error) or invalid
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for pool in pools:
                pool.close()
        sweep.fail_stale()
        trials = rewrite()
        stopped = bool(asked)
    if invalid:
        return EXIT_INVALID, stopped
    printer.front(trials)
    return _final_code(plan, sweep, trials, problems, stopped), stopped


def _worker_end(index: int, outcome: Any, error: BaseException | None, pool: Any, sweep: Any,
                problems: list[str], input_error: InputError) -> bool:
    """Say how worker ``index`` ended (problems go to ``problems``); True when it failed on
    bad input (exit 2)."""
    if outcome.kind == "cancelled":
        return False
    if error is None:
        if outcome.value.gave_up:
            problems.append(f"worker {index + 1} stopped after {MAX_FAILURES_IN_A_ROW} failed "
                            f"trials in a row; the last: {outcome.value.gave_up}. Fix that, "
                            "then run the same command with --retry-failed")
        return False
    if input_error(error) or isinstance(error, ProjectError | SweepError):
        pool.stop()  # every worker would fail the same way
        print(f"mogui: {' '.join(str(error).split())}", file=sys.stderr, flush=True)
        return True
    if isinstance(error, ChildProcessError):  # killed, crashed, or exited
        child = pool.children[index]
        problems.append(f"worker {index + 1} (process {child.pid}) "
                        f"{describe_exit(child.process.exitcode)}.")
    else:
        problems.append(f"worker {index + 1} failed: {' '.join(str(error).split())}")
        if not isinstance(error, MoguiError):
            print(getattr(error, "child_traceback", "") or "", file=sys.stderr)
    for number in sweep.fail_stale():
        print(f"trial {number:>4}  interrupted: its worker ended; its parameters are queued "
              "for the next run", flush=True)
    return False


def _final_code(plan: SweepPlan, sweep: Any, trials: Sequence[SweepTrial],
                problems: list[str], stopped: bool) -> int:
    """0 when the sweep has all its trials (whatever happened to a worker on the way)."""
    for problem in problems:
        print(f"mogui: {problem}", file=sys.stderr)
    missing = sweep.missing()
    waiting = sum(t.state == "WAITING" for t in trials)
    running = sum(t.state == "RUNNING" for t in trials)
    if missing or waiting:
        left = max(missing, waiting)
        done = plan.trials - left
        kept = (f"{plural(done, 'trial')} done {'is' if done == 1 else 'are'} kept in "
                f"{plan.folder / TRIALS_FILE}") if done > 0 else "no trial had finished yet"
        print(f"{'Stopped' if stopped else 'Not finished'}: {left} of {plan.trials} trials "
              f"still to run; run the same command again to resume ({kept}).", file=sys.stderr)
        return EXIT_FAILED
    if running:
        print(f"{running} trial(s) are still running in other processes or on other machines; "
              f"{TRIALS_FILE} shows them once they end (run this command again to update it).")
    if trials and all(t.state == "FAIL" for t in trials):
        print(f"mogui: every trial failed; the first: {trials[0].error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def add_sweep_parser(sub: Any, project_help: str, trust_help: str) -> argparse.ArgumentParser:
    sweep = sub.add_parser(
        "sweep", help="search the heads' loss weights for the best trade-offs (Pareto front)",
        description="Train the project many times with different loss weights (and, with "
        "--search, balancing methods and learning rates), each trial in its own run folder, "
        "and find the trials no other beats on every head: the Pareto front. Writes "
        f"{MANIFEST_FILE}, {TRIALS_FILE}, {PARETO_FILE} and {PARETO_PLOT} into --out. Run the "
        "same command again to resume an interrupted sweep, or on other machines with the "
        "same --storage to share the work.")
    sweep.add_argument("project", help=project_help)
    sweep.add_argument("--trials", required=True, metavar="N",
                       help="how many trials the sweep runs in all (over every worker and "
                       "machine)")
    sweep.add_argument("--out", required=True, metavar="DIR",
                       help="the sweep's folder: new, empty, or a sweep's to resume")
    sweep.add_argument("--epochs", type=int, metavar="E",
                       help="epochs per trial (default: the project's)")
    sweep.add_argument("--workers", default="1", metavar="K",
                       help="worker processes training trials at once on this machine "
                       "(default 1)")
    sweep.add_argument("--search", metavar="LIST", default="weights",
                       help="what to search, comma-separated: weights (always), balancing, "
                       "learning_rate (default: weights)")
    sweep.add_argument("--methods", metavar="LIST",
                       help="the balancing methods to try (implies --search balancing; "
                       f"default: all of {', '.join(BALANCING_METHODS)})")
    sweep.add_argument("--objective", metavar="KEYS", default=DEFAULT_OBJECTIVE,
                       help="what to optimise: comma-separated log keys of the last epoch, "
                       "{head} standing for each head in turn (default: val_{head}_loss); "
                       "accuracy, auc, precision and recall are maximised, the rest minimised")
    sweep.add_argument("--storage", metavar="URL",
                       help="where the trials are kept: an Optuna RDB URL (postgresql://…, "
                       "mysql+pymysql://…, sqlite:///…) to share with other machines, or a "
                       "journal file's path (default: DIR/sweep.journal)")
    sweep.add_argument("--study", default=DEFAULT_STUDY, metavar="NAME",
                       help=f"the study's name in the storage (default {DEFAULT_STUDY})")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run the trials that failed again (with the same parameters)")
    add_tracking_arguments(sweep, tensorboard=False)
    sweep.add_argument("--trust", action="store_true", help=trust_help)
    return sweep
