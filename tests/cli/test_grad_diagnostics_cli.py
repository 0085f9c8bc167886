"""``mogui train --grad-diagnostics [--grad-every N]``: the gradient columns of history.csv,
for this run only; bad values exit 2 with one line and write nothing."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from mogui import cli
from tests.cli.test_bad_inputs import base, run_here, snapshot, write_project
from tests.cli.test_cli import run_cli
from tests.engine.data_builders import JOINT_WITH_MASK

COLUMNS = ["gradnorm_size", "gradnorm_kind", "gradcos_size__kind"]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_a_real_run_writes_gradient_columns_and_leaves_the_project_file_alone(tmp_path):
    path = write_project(tmp_path)  # 12 training rows in batches of 8: 2 steps per epoch
    saved = path.read_text()
    done = run_cli("train", str(path), "--out", "run", "--epochs", "2", "--grad-diagnostics",
                   "--grad-every", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Gradient diagnostics: every 1 step, on a probe batch of 8 training rows" in \
        done.stdout
    assert (f"Gradient diagnostics: 3 columns ({', '.join(COLUMNS)}) in "
            f"{tmp_path / 'run' / 'history.csv'}") in done.stdout
    header = next(ln for ln in done.stdout.splitlines() if ln.lstrip().startswith("epoch"))
    assert not any(column in header for column in COLUMNS)  # the table stays narrow
    rows = _rows(tmp_path / "run")
    assert len(rows) == 2 and all(column in rows[0] for column in COLUMNS)
    for row in rows:
        assert float(row["gradnorm_size"]) > 0 and float(row["gradnorm_kind"]) > 0
        assert -1.0 <= float(row["gradcos_size__kind"]) <= 1.0
    assert rows[0]["gradnorm_size"] != rows[1]["gradnorm_size"]  # sampled as it trained
    snapshot_project = json.loads((tmp_path / "run" / "project.json").read_text())
    assert snapshot_project["training"]["gradient_diagnostics"] == {"enabled": True,
                                                                    "every": 1}
    assert path.read_text() == saved


@pytest.mark.parametrize("every", ["0", "-3", "two", "1.5", ""])
def test_a_bad_interval_exits_2_with_one_line(every, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = _run(["train", str(path), "--out", str(tmp_path / "run"),
                           "--grad-diagnostics", f"--grad-every={every}"], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err + out
    assert lines[0] == (f"mogui: --grad-every '{every}' must be a whole number of at least 1: "
                        "how many training steps pass between two samples of the gradients.")
    assert snapshot(tmp_path) == before


def test_one_head_with_a_loss_is_refused_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    project = base()
    project["heads"][1]["loss"] = {"enabled": False}
    path = write_project(tmp_path, project)
    before = snapshot(tmp_path)
    code, _, err = _run(["train", str(path), "--grad-diagnostics"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "training.gradient_diagnostics.enabled is on, but 1 head has a loss" in err
    assert "(--grad-diagnostics)" in err and snapshot(tmp_path) == before


def test_an_interval_alone_switches_diagnostics_on(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    out = tmp_path / "run"
    code, stdout, err = _run(["train", str(path), "--out", str(out), "--epochs", "3",
                              "--grad-every", "4"], capsys)
    assert code == 0, err
    assert "every 4 steps" in stdout
    rows = _rows(out)
    # Samples at steps 0 and 4 (epochs 1 and 3, 2 steps each): epoch 2 repeats the first.
    norms = [float(r["gradnorm_size"]) for r in rows]
    assert norms[0] == norms[1] != norms[2] and all(math.isfinite(n) for n in norms)


def test_without_the_options_nothing_is_sampled(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    code, stdout, err = _run(["train", str(path), "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert "Gradient diagnostics" not in stdout
    assert not any(column in _rows(tmp_path / "run")[0] for column in COLUMNS)


def test_a_joint_loss_of_one_value_fails_the_run_with_a_plain_message(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    project = base()
    project["loss_mode"] = "joint"
    project["joint_loss"] = {"source": JOINT_WITH_MASK}  # returns one value
    path = write_project(tmp_path, project)
    code, _, err = _run(["train", str(path), "--out", str(tmp_path / "run"),
                         "--grad-diagnostics"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("mogui: joint loss: loss() returns one value, but gradient "
                          "diagnostics compare each head's term")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "failed" and "gradient diagnostics" in record["message"]
