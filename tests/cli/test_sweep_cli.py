"""``mogui sweep`` as users run it: real processes (the command, its worker processes),
a tiny CSV project (40 rows, one epoch per trial), real files.

Two workers on one storage run exactly N trials between them; the front in ``pareto.csv`` is
the non-dominated subset of ``trials.csv`` (worked out here by brute force); a worker killed
mid-trial and a Ctrl+C leave consistent files, and running the command again finishes the
sweep with exactly N trials; every bad input exits 2 with one line and changes no file.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from mogui import cli
from mogui.core.project import Project
from mogui.core.run_store import read_run_info
from mogui.core.runs import RunStatus
from mogui.core.sweep_results import SweepManifest, write_manifest
from mogui.runner.sweep_plan import SweepPlan, objectives_of, search_space
from mogui.runner.sweep_study import SweepStudy, open_storage
from tests.engine.data_builders import write_table

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
#: The longest a sweep of this file may take before the test gives up on it.
DEADLINE_S = 240


def project_dict(**changes: Any) -> dict[str, Any]:
    """Input ``x`` (3 numbers) -> Dense(4) -> ``size`` (regression) and ``kind`` (3 classes),
    trained one epoch on ``table.csv``."""
    return {
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [3]}],
        "trunk": [{"name": "hidden", "kind": "Dense", "params": {"units": 4}}],
        "heads": [{"name": "size", "task": "regression", "units": 1},
                  {"name": "kind", "task": "multiclass", "units": 3}],
        "training": {"epochs": 1, "batch_size": 8, "validation_split": 0.25,
                     "learning_rate": 0.01},
        "data": {"kind": "csv", "path": "table.csv",
                 "inputs": [{"name": "x", "columns": ["a", "b", "c"]}],
                 "targets": [{"name": "size", "columns": ["size"]},
                             {"name": "kind", "columns": ["kind"],
                              "classes": ["cat", "dog", "owl"]}]},
        **changes,
    }


def write_project(folder: Path, data: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder, 40)
    path = folder / "project.json"
    path.write_text(json.dumps(data or project_dict()))
    return path


def command(project: Path, out: Path, trials: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mogui", "sweep", str(project), "--trials", str(trials),
            "--out", str(out), *extra]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env={**os.environ, **QUIET}, capture_output=True,
                          text=True, timeout=DEADLINE_S)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def params_of(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(v for k, v in sorted(row.items()) if k.startswith("param_"))


def brute_force_front(table: list[dict[str, str]]) -> list[str]:
    """The complete trials no other complete trial beats in one objective without losing in
    another (all minimised), by comparing every pair."""
    done = [r for r in table if r["state"] == "COMPLETE"]
    keys = [k for k in table[0] if k.startswith("objective_")]
    points = {r["trial"]: [float(r[k]) for k in keys] for r in done}
    front = []
    for name, p in points.items():
        beaten = any(all(q[i] <= p[i] for i in range(len(keys))) and
                     any(q[i] < p[i] for i in range(len(keys)))
                     for other, q in points.items() if other != name)
        if not beaten:
            front.append(name)
    return front


def wait_for(condition: Callable[[], Any], what: str, process: subprocess.Popen) -> Any:
    """Check ``condition`` (files another process writes) until it gives something true.

    Between checks it waits on the sweep itself, so its end is seen at once; only the files
    are looked at again after a short while (nothing signals their writes)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if (value := condition()) and value is not None:
            return value
        try:
            process.wait(timeout=0.02)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the sweep ended ({process.returncode}) before {what}: "
                             f"{process.communicate()}")
    raise AssertionError(f"timed out waiting for {what}")


def running_trial(out: Path, newer_than: int) -> tuple[int, int] | None:
    """``(trial number, worker pid)`` of a trial numbered above ``newer_than`` whose run is
    training now, caught by freezing its worker (SIGSTOP) and reading its record; a trial
    that ended meanwhile is let go (SIGCONT)."""
    for folder in sorted((out / "runs").glob("trial-*")):
        number = int(folder.name.removeprefix("trial-"))
        record = folder / "run.json"
        if number <= newer_than or not record.is_file():
            continue
        pid = json.loads(record.read_text())["pid"]
        os.kill(pid, signal.SIGSTOP)
        if json.loads(record.read_text())["status"] == "running":
            return number, pid
        os.kill(pid, signal.SIGCONT)
    return None


# -- two workers, one storage -------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_worker_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, Path]:
    folder = tmp_path_factory.mktemp("two_workers")
    project = write_project(folder)
    out = folder / "sweep"
    done = run(command(project, out, 4, "--workers", "2"), folder)
    return out, done, project


@pytest.mark.slow
def test_two_workers_run_exactly_n_trials_between_them(two_worker_sweep) -> None:
    out, done, _ = two_worker_sweep
    assert done.returncode == 0, done.stderr
    table = rows(out / "trials.csv")
    assert len(table) == 4
    assert len({r["trial"] for r in table}) == 4
    assert len({params_of(r) for r in table}) == 4
    assert {r["state"] for r in table} == {"COMPLETE"}
    assert all(float(r[k]) > 0 for r in table for k in r if k.startswith("objective_"))
    pids = set()
    for r in table:
        info = read_run_info(out / r["run"])
        assert info.status == RunStatus.FINISHED and info.has_model
        pids.add(json.loads((out / r["run"] / "run.json").read_text())["pid"])
        weights = json.loads((out / r["run"] / "project.json").read_text())
        assert [h["loss"]["weight"] for h in weights["heads"]] == \
            [float(r["param_weight_size"]), float(r["param_weight_kind"])]
    assert len(pids) == 2  # both workers trained trials
    lines = [line for line in done.stdout.splitlines() if line.startswith("trial ")]
    assert len(lines) == 4 and "Pareto front:" in done.stdout


@pytest.mark.slow
def test_front_is_exactly_the_non_dominated_trials(two_worker_sweep) -> None:
    out, _, _ = two_worker_sweep
    front = rows(out / "pareto.csv")
    assert [r["trial"] for r in front] == brute_force_front(rows(out / "trials.csv"))
    assert front and front == [r for r in rows(out / "trials.csv")
                               if r["trial"] in {f["trial"] for f in front}]


@pytest.mark.slow
def test_front_picture_is_a_real_image(two_worker_sweep) -> None:
    out, _, _ = two_worker_sweep
    data = (out / "pareto.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(out / "pareto.png")
    assert image.shape[:2] == (500, 750) and image[..., :3].std() > 0.05


@pytest.mark.slow
def test_a_finished_sweep_run_again_runs_nothing(two_worker_sweep) -> None:
    out, _, project = two_worker_sweep
    before = (out / "trials.csv").read_text()
    again = run(command(project, out, 4, "--workers", "2"), project.parent)
    assert again.returncode == 0, again.stderr
    assert "(4 done, 0 to run)" in again.stdout
    assert not [line for line in again.stdout.splitlines() if line.startswith("trial ")]
    assert (out / "trials.csv").read_text() == before


# -- interrupted sweeps resume ------------------------------------------------------------------

@pytest.mark.slow
def test_killed_worker_and_ctrl_c_then_the_sweep_resumes(tmp_path) -> None:
    project = write_project(tmp_path)
    out = tmp_path / "sweep"
    args = command(project, out, 4)
    env = {**os.environ, **QUIET}

    # 1. The worker is killed while it trains trial 1 (or later).
    sweep = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    killed, pid = wait_for(lambda: running_trial(out, 0), "a second trial", sweep)
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = sweep.communicate(timeout=DEADLINE_S)
    assert sweep.returncode == 1, stderr
    assert "was killed (SIGKILL)" in stderr and "run the same command again" in stderr
    table = rows(out / "trials.csv")
    assert str(killed) not in {r["trial"] for r in table}
    assert all(r["state"] in ("COMPLETE", "WAITING") for r in table)
    queued = [r for r in table if r["state"] == "WAITING"]
    weights = json.loads((out / "runs" / f"trial-{killed:04d}" / "project.json").read_text())
    assert [(float(r["param_weight_size"]), float(r["param_weight_kind"])) for r in queued] \
        == [tuple(h["loss"]["weight"] for h in weights["heads"])]
    assert read_run_info(out / "runs" / f"trial-{killed:04d}").status == RunStatus.INTERRUPTED

    # 2. Ctrl+C while a trial trains: the trial ends after its batch and is queued again.
    sweep = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    stopped, worker = wait_for(lambda: running_trial(out, killed), "a trial after the kill",
                               sweep)
    sweep.send_signal(signal.SIGINT)
    os.kill(worker, signal.SIGCONT)
    stdout, stderr = sweep.communicate(timeout=DEADLINE_S)
    assert sweep.returncode == 1, stderr
    assert "Stopped:" in stderr and "run the same command again" in stderr
    table = rows(out / "trials.csv")
    assert all(r["state"] in ("COMPLETE", "WAITING") for r in table)
    assert str(stopped) not in {r["trial"] for r in table}
    assert read_run_info(out / "runs" / f"trial-{stopped:04d}").status == RunStatus.STOPPED
    assert [r["trial"] for r in rows(out / "pareto.csv")] == brute_force_front(table)

    # 3. The same command again: only the missing trials run, and the sweep has exactly four.
    done = run(args, tmp_path)
    assert done.returncode == 0, done.stderr
    table = rows(out / "trials.csv")
    assert len(table) == 4 and {r["state"] for r in table} == {"COMPLETE"}
    assert len({r["trial"] for r in table}) == 4 and len({params_of(r) for r in table}) == 4
    assert {str(killed), str(stopped)}.isdisjoint(r["trial"] for r in table)
    assert [r["trial"] for r in rows(out / "pareto.csv")] == brute_force_front(table)


# -- bad inputs ---------------------------------------------------------------------------------

def sweep_args(folder: Path, *extra: str, trials: str = "3", data: dict | None = None,
               out: str = "sweep") -> list[str]:
    project = write_project(folder, data)
    return ["sweep", str(project), "--trials", trials, "--out", str(folder / out), *extra]


def edited(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = project_dict()
    change(data)
    return data


def existing_sweep(folder: Path, **manifest: Any) -> None:
    """``folder/sweep`` holding the manifest of the tiny project's default sweep, changed."""
    fields = {"project": str((folder / "project.json").resolve()),
              "parameters": ("weight_size", "weight_kind"),
              "objectives": ("val_size_loss", "val_kind_loss"),
              "directions": ("minimize", "minimize"), "trials": 3, "epochs": 1, **manifest}
    write_manifest(folder / "sweep", SweepManifest(**fields))


def other_study(folder: Path) -> str:
    """A journal file whose study 'mogui-sweep' searches balancing methods too."""
    project = Project.model_validate(project_dict())
    objectives, directions = objectives_of(project, None)
    plan = SweepPlan(project, None, folder, folder, str(folder / "shared.journal"),
                     "mogui-sweep", 3, 1, search_space(project, "weights,balancing", None),
                     objectives, directions)
    SweepStudy(open_storage(plan.storage, folder), plan)
    return plan.storage


def _foreign(folder: Path) -> list[str]:
    (folder / "sweep").mkdir()
    (folder / "sweep" / "notes.txt").write_text("mine")
    return sweep_args(folder)


def _in_the_way(folder: Path) -> list[str]:
    (folder / "file").write_text("not a folder")
    return sweep_args(folder, out="file/sweep")


def _epochs_differ(folder: Path) -> list[str]:
    args = sweep_args(folder, "--epochs", "2")
    existing_sweep(folder)
    return args


def _search_differs(folder: Path) -> list[str]:
    args = sweep_args(folder, "--search", "weights,learning_rate")
    existing_sweep(folder)
    return args


def _storage_differs(folder: Path) -> list[str]:
    args = sweep_args(folder, "--storage", str(folder / "elsewhere.journal"))
    existing_sweep(folder)
    return args


def _damaged_manifest(folder: Path) -> list[str]:
    args = sweep_args(folder)
    (folder / "sweep").mkdir()
    (folder / "sweep" / "sweep.json").write_text("{ not json")
    return args


def _study_differs(folder: Path) -> list[str]:
    return sweep_args(folder, "--storage", other_study(folder))


def _no_validation(folder: Path) -> list[str]:
    return sweep_args(folder, data=edited(lambda d: d["training"].update(validation_split=0)))


def _no_data(folder: Path) -> list[str]:
    args = sweep_args(folder)
    (folder / "table.csv").unlink()
    return args


def _one_loss_head(folder: Path) -> list[str]:
    return sweep_args(folder, data=edited(
        lambda d: d["heads"][1].update(loss={"enabled": False})))


def _joint(folder: Path) -> list[str]:
    return sweep_args(folder, data=edited(lambda d: d.update(
        loss_mode="joint", joint_loss={"source": "def loss(y_true, y_pred):\n    return 0\n"})))


def _untrusted(folder: Path) -> list[str]:
    code = "def loss(y_true, y_pred):\n    return (y_true - y_pred) ** 2\n"
    return sweep_args(folder, data=edited(
        lambda d: d["heads"][0].update(loss={"kind": "custom", "source": code})))


CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("no trials", lambda f: sweep_args(f, trials="0"), "--trials '0' must be a whole number"),
    ("trials not a number", lambda f: sweep_args(f, trials="many"),
     "--trials 'many' must be a whole number"),
    ("no workers", lambda f: sweep_args(f, "--workers", "0"),
     "--workers '0' must be a whole number from 1"),
    ("unknown metric", lambda f: sweep_args(f, "--objective", "val_{head}_mae"),
     "--objective names 'val_size_mae', which training does not log"),
    ("one objective", lambda f: sweep_args(f, "--objective", "val_loss"),
     "a sweep trades off at least two"),
    ("nothing to search", lambda f: sweep_args(f, "--search", "dropout"),
     "'dropout' cannot be searched"),
    ("unknown method", lambda f: sweep_args(f, "--methods", "equal,best"),
     "'best' is not a balancing method"),
    ("no validation rows", _no_validation, "there is no validation data"),
    ("data file missing", _no_data, "the data file 'table.csv' (looked for "),
    ("one loss head", _one_loss_head, "at least two heads trained by a loss"),
    ("joint loss", _joint, "one joint loss"),
    ("folder of other files", _foreign, "holds files that are not a mogui sweep (notes.txt)"),
    ("file in the way", _in_the_way, "cannot be made: "),
    ("storage URL", lambda f: sweep_args(f, "--storage", "nosuchdb://host/db"),
     "The storage 'nosuchdb://host/db' cannot be opened"),
    ("storage is a folder", lambda f: sweep_args(f, "--storage", str(f)), "is a folder"),
    ("other epochs", _epochs_differ, "holds a sweep of 1 epoch per trial, not 2"),
    ("other search", _search_differs, "this command searches weight_size, weight_kind, "
     "learning_rate"),
    ("other storage", _storage_differs, "Pass the same --storage and --study to resume it"),
    ("damaged manifest", _damaged_manifest, "is not valid JSON"),
    ("other study", _study_differs, "holds another sweep (project 'tiny'"),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize(("build", "message"), [pytest.param(b, m, id=i) for i, b, m in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(tmp_path, capsys, build,
                                                             message) -> None:
    case = tmp_path / "case"
    case.mkdir()
    args = build(case)
    before = snapshot(case)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "unexpected" not in err
    assert snapshot(case) == before


@pytest.mark.untrusted
def test_untrusted_code_is_refused_before_anything_is_written(tmp_path, capsys) -> None:
    args = _untrusted(tmp_path)
    before = snapshot(tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "holds code you have not trusted, so nothing was run" in err and "--trust" in err
    assert snapshot(tmp_path) == before
