"""The command line, run as users run it: a real process, real exit codes and files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mogui.core.io import load_example, save_project

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
