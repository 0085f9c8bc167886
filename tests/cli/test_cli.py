"""The command line, run as users run it: a real process, real exit codes and files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mogui.core.io import load_example, load_project, save_project
from mogui.core.run_store import create_run

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def run_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``mogui ARGS`` in a new process; its environment (the test's trust store) is read now."""
    return subprocess.run([sys.executable, "-m", "mogui", *args], cwd=cwd,
                          env={**os.environ, **QUIET}, input=stdin, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def small_project(tmp_path, demo_project) -> Path:
    demo_project.data.samples = 80  # 64 training samples: whole batches of 16
    path = tmp_path / "small.json"
    save_project(demo_project, path)
    return path


def test_help_is_instant_and_lists_commands(tmp_path):
    done = run_cli("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in ("train", "inspect", "validate"):
        assert command in done.stdout


@pytest.mark.slow
def test_train_prints_a_column_per_head_and_writes_history(tmp_path, small_project):
    out = tmp_path / "out"
    done = run_cli("train", str(small_project), "--epochs", "2", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("epoch"))
    assert header.split()[:4] == ["epoch", "loss", "bbox_loss", "classification_loss"]
    assert "val_bbox_loss" in header
    with open(out / "history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert list(rows[0])[:6] == ["epoch", "loss", "bbox_loss", "classification_loss",
                                 "val_loss", "val_bbox_loss"]
    assert (out / "model.keras").is_file()
    assert f"Run folder: {out}" in done.stdout  # --out: exactly there, described as a run
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["epochs_completed"] == 2
    assert json.loads((out / "project.json").read_text())["name"] == \
        json.loads(small_project.read_text())["name"]
    total = float(rows[0]["loss"])
    weighted = float(rows[0]["bbox_loss"]) * 1.0 + float(rows[0]["classification_loss"]) * 1.5
    assert total == pytest.approx(weighted, rel=1e-4)


def test_inspect_prints_shapes_and_loss_contract(tmp_path):
    done = run_cli("inspect", "bbox_classification", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "conv1" in done.stdout and "(None, 64, 64, 16)" in done.stdout
    assert "bbox" in done.stdout and "classification" in done.stdout
    assert "Total parameters" in done.stdout


def test_validate_runs_a_dry_run_of_the_joint_loss(tmp_path):
    project = load_example("bbox_classification_joint")
    project.data.samples = 32
    path = tmp_path / "joint.json"
    save_project(project, path)
    done = run_cli("validate", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bbox" in done.stdout and "total loss" in done.stdout


def test_invalid_project_exits_2_naming_the_field(tmp_path):
    data = json.loads(load_example("bbox_classification").to_json())
    data["heads"][1]["units"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    for command in ("train", "inspect", "validate"):
        done = run_cli(command, str(path), cwd=tmp_path)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert "heads[1].units must be >= 1, got 0" in lines[0]


def test_missing_project_file_exits_2(tmp_path):
    done = run_cli("train", "no_such_project.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_custom_loss_error_exits_2_with_line_number(tmp_path, demo_project):
    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = "def loss(y_true, y_pred):\n    return undefined_name\n"
    path = tmp_path / "custom.json"
    save_project(demo_project, path)
    done = run_cli("validate", str(path), "--trust", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "line 2" in done.stderr and "undefined_name" in done.stderr


@pytest.mark.parametrize("out", ["notes.txt", "notes.txt/run"])
def test_train_checks_its_output_folder_before_training(tmp_path, small_project, out):
    (tmp_path / "notes.txt").write_text("mine")
    done = run_cli("train", str(small_project), "--out", str(tmp_path / out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "is a file" in done.stderr and "Training on" not in done.stdout
    assert "Traceback" not in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_train_keeps_each_run_in_its_own_folder_and_runs_lists_them(tmp_path, small_project):
    elsewhere = tmp_path / "elsewhere"  # the runs go beside the project, not to the cwd
    elsewhere.mkdir()
    done = run_cli("train", str(small_project), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("Run folder: ")]
    folder = Path(line.removeprefix("Run folder: "))
    assert folder.parent == tmp_path / "runs" / "small" and folder.is_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["history.csv", "model.keras",
                                                         "project.json", "run.json"]
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "finished" and record["epochs_completed"] == 1
    assert set(record["final_losses"]["heads"]) == {"bbox", "classification"}
    assert record["project_path"] == str(small_project) and not list(elsewhere.iterdir())

    listed = run_cli("runs", str(small_project), cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    [row] = [ln for ln in listed.stdout.splitlines() if ln.endswith(folder.name)]
    assert "finished" in row and "1 epoch" in row and "bbox" in row
    assert "balancing equal" in row  # the fixed weighted sum the run trained with

    # The project changes after the run: the export of the run is still of what trained.
    trained_name = json.loads(small_project.read_text())["name"]
    changed = json.loads(small_project.read_text())
    changed["name"] = "Renamed after training"
    small_project.write_text(json.dumps(changed))
    done = run_cli("export", str(small_project), "--from-run", str(folder), "--out",
                   str(tmp_path / "export"), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "Exporting with the project the run trained" in done.stdout
    readme = (tmp_path / "export" / "README.txt").read_text()
    assert trained_name in readme and "Renamed after training" not in readme
    assert json.loads((tmp_path / "export" / "project.json").read_text())["name"] == \
        trained_name
    done = run_cli("export", "--from-run", str(folder), "--out", str(tmp_path / "export2"),
                   cwd=elsewhere)  # the run's own project is enough
    assert done.returncode == 0, done.stderr
    assert trained_name in (tmp_path / "export2" / "README.txt").read_text()


def test_runs_lists_damaged_runs_and_refuses_a_bad_project_path(tmp_path, small_project):
    done = run_cli("runs", str(small_project), cwd=tmp_path)
    assert done.returncode == 0 and "No runs of small.json yet" in done.stdout, done.stderr
    damaged = tmp_path / "runs" / "small" / "20260304-120000"
    damaged.mkdir(parents=True)
    (damaged / "run.json").write_text("{damaged")
    done = run_cli("runs", str(small_project), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "unreadable" in done.stdout and "20260304-120000" in done.stdout
    for bad in ("no_such_project.json", str(damaged / "run.json")):
        done = run_cli("runs", bad, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.startswith("mogui: "), done.stderr
        assert "Traceback" not in done.stderr
    assert "does not exist" in run_cli("runs", "no_such_project.json", cwd=tmp_path).stderr
    done = run_cli("export", "--from-run", str(damaged), "--out", "x", cwd=tmp_path)
    assert done.returncode == 2 and "Give the project to export" in done.stderr


def test_runs_shows_how_each_run_balanced_its_heads(tmp_path, small_project):
    project = load_project(small_project)
    project.training.balancing.method = "dwa"
    project.training.balancing.params = {"temperature": 2.0}
    run = create_run(project, small_project)  # a run record and its project, as train makes
    damaged = create_run(project, small_project, folder=tmp_path / "runs" / "small" / "cut")
    (damaged.folder / "project.json").write_text("{cut")
    done = run_cli("runs", str(small_project), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [row] = [ln for ln in done.stdout.splitlines() if ln.endswith(run.folder.name)]
    assert "balancing dwa (temperature 2)" in row
    [row] = [ln for ln in done.stdout.splitlines() if ln.endswith("cut")]
    assert "balancing unknown" in row


def test_the_epoch_table_keeps_small_weights_readable():
    import io

    from mogui.cli_train import EpochTable
    from mogui.core.events import EpochEnded, TrainingStarted

    out = io.StringIO()
    table = EpochTable(out, weights=True)
    table(TrainingStarted(heads=["a", "b"], train_samples=8, val_samples=0, epochs=1,
                          steps_per_epoch=1, device="CPU"))
    table(EpochEnded(epoch=0, logs={"loss": 1.5, "a_loss": 0.5, "b_loss": 1.0,
                                    "weight_a": 0.00127, "weight_b": 2.0}, elapsed=1.0))
    header, row = out.getvalue().splitlines()[1:]
    cells = dict(zip(header.split(), row.split(), strict=True))
    assert (cells["weight_a"], cells["weight_b"], cells["loss"]) == ("0.00127", "2", "1.5000")
