"""``mogui train --balancing/--balancing-param/--devices`` and ``mogui validate``'s balancing
line: bad values exit 2 with one line naming the choices; good ones change this run only."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mogui import cli
from tests.cli.test_bad_inputs import base, run_here, snapshot, write_project


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("extra", "words"), [
    (["--balancing", "magic"], ["'magic' is not a balancing method", "equal, uw, dwa",
                                "nash_mtl, upgrad"]),
    (["--balancing", "dwa", "--balancing-param", "temperature"], ["NAME=VALUE",
                                                                  "takes: temperature"]),
    (["--balancing", "dwa", "--balancing-param", "temperature=warm"], ["'warm' is not a number"]),
    (["--balancing", "dwa", "--balancing-param", "alpha=2"], ["no parameter 'alpha'",
                                                              "takes: temperature"]),
    (["--balancing", "dwa", "--balancing-param", "temperature=0"], ["use a value from 0.01"]),
    (["--balancing", "mgda", "--balancing-param", "iterations=2.5"], ["whole number"]),
    (["--balancing-param", "c=1"], ["balancing equal", "no parameter 'c'", "none"]),
    (["--devices", "0"], ["--devices '0'", "whole number from 1 to 64"]),
    (["--devices", "two"], ["--devices 'two'", "whole number"]),
])
def test_bad_balancing_options_exit_2_and_change_nothing(extra, words, tmp_path, monkeypatch,
                                                         capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = _run(["train", str(path), "--out", str(tmp_path / "run"), *extra], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mogui: ") and "Traceback" not in err + out
    for word in words:
        assert word in lines[0], lines[0]
    assert snapshot(tmp_path) == before  # no run folder, nothing written


def test_balancing_one_head_is_refused_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    project = base()
    project["heads"][1]["loss"] = {"enabled": False}
    path = write_project(tmp_path, project)
    before = snapshot(tmp_path)
    code, _, err = _run(["train", str(path), "--balancing", "gls"], capsys)
    assert code == 2 and "training.balancing.method is 'gls'" in err
    assert "two or more heads" in err and snapshot(tmp_path) == before


def test_more_devices_than_the_machine_has_fails_the_run_with_a_plain_message(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    code, _, err = _run(["train", str(path), "--out", str(tmp_path / "run"), "--devices",
                         "64"], capsys)
    assert code == 2, err
    assert err.strip().splitlines() == [err.strip()]
    assert "trains on 64 devices at once" in err and "--devices" in err
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "failed" and "64 devices" in record["message"]


def test_train_with_a_method_and_parameter_records_the_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = write_project(tmp_path)
    saved = path.read_text()
    out = tmp_path / "run"
    code, stdout, err = _run(["train", str(path), "--out", str(out), "--balancing", "dwa",
                              "--balancing-param", "temperature=1.5", "--epochs", "2"], capsys)
    assert code == 0, err
    assert "Balancing: dwa (dynamic weight average) with temperature 1.5; 1 device" in stdout
    header = next(ln for ln in stdout.splitlines() if ln.lstrip().startswith("epoch"))
    assert "weight_size" in header.split() and "weight_kind" in header.split()
    with open(out / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["weight_size"]) for r in rows] == [1.0, 1.0]  # dwa: equal at first
    snapshot_project = json.loads((out / "project.json").read_text())
    assert snapshot_project["training"]["balancing"] == {"method": "dwa",
                                                         "params": {"temperature": 1.5}}
    assert path.read_text() == saved  # the project file keeps its own setting


def test_validate_reports_the_balancing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    project = base()
    project["training"]["balancing"] = {"method": "cagrad", "params": {"c": 0.4}}
    project["heads"][0]["loss"] = {"schedule": {"kind": "cosine"}}
    code, out, err = _run(["validate", str(write_project(Path(tmp_path), project))], capsys)
    assert code == 0, err
    assert ("  balancing: cagrad with c 0.4, iterations 20; weight schedules: size "
            "cosine; 1 device") in out
