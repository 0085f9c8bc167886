"""``mogui train --stop-on/--patience/--checkpoint-on`` and what ``validate`` says of the
criterion; one real run through the command line (a real child process), repeated by the
generated script in a subprocess: same stop epoch, same restored weights."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from mogui import cli
from mogui.core.io import load_project
from mogui.engine.export.codegen import generate_script
from tests.cli.test_bad_inputs import base, run_here, snapshot, write_project
from tests.engine.test_codegen import read_history


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("extra", "words"), [
    (["--stop-on", "pareto"], ["--stop-on 'pareto' is not a criterion",
                               "weighted:val_a_loss=1,val_b_loss=0.5", "all-heads"]),
    (["--stop-on", "weighted:val_size_loss=heavy"], ["'heavy' is not a number",
                                                     "NAME=WEIGHT"]),
    (["--stop-on", "weighted:val_size_loss=-1"], ["weight must be a number of 0 or more"]),
    (["--stop-on", "weighted:"], ["names no value"]),
    (["--stop-on", "lexicographic:val_size_loss=0.1"], ["NAME~TOLERANCE"]),
    (["--stop-on", "monitor:val_size_loss,val_kind_loss"], ["must name one logged value"]),
    (["--stop-on", "weighted:val_size_loss,val_bogus"],
     ["--stop-on: value 2 names 'val_bogus', which training does not log",
      "val_size_loss", "val_kind_loss"]),
    (["--stop-on", "weighted:val_size_loss=0,val_kind_loss=0"],
     ["--stop-on: it gives every value the weight 0"]),
    (["--stop-on", "all-heads:val_size_loss,val_size_loss"], ["a second time"]),
    (["--stop-on", "monitor:val_nope"], ["--stop-on: it names 'val_nope'"]),
    (["--checkpoint-on", "weighted:nope"], ["--checkpoint-on: value 1 names 'nope'"]),
    (["--stop-on", "all-heads", "--patience", "0"], ["--patience '0'", "whole number"]),
    (["--stop-on", "all-heads", "--patience", "two"], ["--patience 'two'"]),
    (["--patience", "3"], ["--patience needs early stopping", "--stop-on"]),
])
def test_bad_stop_options_exit_2_with_one_line_and_change_nothing(extra, words, tmp_path,
                                                                   monkeypatch, capsys):
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
    assert snapshot(tmp_path) == before


def test_validate_says_what_early_stopping_and_checkpoints_watch(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    project = base()
    project["heads"][1]["loss"] = {"metrics": ["sparse_categorical_accuracy"]}
    project["training"]["early_stopping"] = {
        "enabled": True, "criterion": "weighted", "patience": 3, "min_delta": 0.01,
        "metrics": {"val_size_loss": 1.0, "val_kind_sparse_categorical_accuracy": 0.5}}
    project["training"]["checkpointing"] = {
        "enabled": True, "criterion": "lexicographic",
        "metrics": [{"metric": "val_kind_loss", "tolerance": 0.05}, "val_size_loss"]}
    code, out, err = _run(["validate", str(write_project(tmp_path, project))], capsys)
    assert code == 0, err
    assert ("  early stopping: the weighted sum 1 × val_size_loss - 0.5 × val_kind_sparse_"
            "categorical_accuracy (lower is better); patience 3, min_delta 0.01; restores the "
            "best epoch's weights") in out.splitlines()
    assert ("  checkpoints: in order: val_kind_loss (lower is better, tolerance 0.05), then "
            "val_size_loss (lower is better, tolerance 0); keeps the best epoch's model in "
            "checkpoint.keras") in out.splitlines()


def layer_weights(path: Path) -> dict[str, np.ndarray]:
    """The layers' weights a ``.keras`` file holds, by their place in it (read without
    loading the model, whose class the script registers under its own name)."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    found: dict[str, np.ndarray] = {}
    with h5py.File(io.BytesIO(data), "r") as weights:
        weights.visititems(lambda name, item: found.__setitem__(name, np.array(item))
                           if isinstance(item, h5py.Dataset) and name.startswith("layers/")
                           else None)
    return found


def _tiny(criterion: dict | None = None) -> dict:
    """The tiny project with a step size that makes the validation losses stop falling."""
    project = base()
    project["training"].update(epochs=30, learning_rate=0.2)
    if criterion is not None:
        project["training"]["early_stopping"] = criterion
        project["training"]["checkpointing"] = {"enabled": True, **{
            k: v for k, v in criterion.items() if k in ("criterion", "metrics")}}
    return project


@pytest.mark.slow
def test_a_cli_run_and_the_generated_script_stop_alike(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    weights = {"val_size_loss": 1.0, "val_kind_loss": 0.5}
    criterion = {"enabled": True, "criterion": "weighted", "patience": 2, "metrics": weights}
    script_dir = tmp_path / "script"
    script_dir.mkdir()
    exported = load_project(write_project(script_dir, _tiny(criterion)))
    (script_dir / "train.py").write_text(generate_script(exported, script_dir))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    script = subprocess.Popen([sys.executable, str(script_dir / "train.py"),
                               str(script_dir / "out")], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    try:
        path = write_project(tmp_path, _tiny())
        saved = path.read_text()
        out = tmp_path / "run"
        code, stdout, err = _run(
            ["train", str(path), "--out", str(out), "--stop-on",
             "weighted:val_size_loss=1,val_kind_loss=0.5", "--patience", "2",
             "--checkpoint-on", "weighted:val_size_loss=1,val_kind_loss=0.5"], capsys)
        output, _ = script.communicate(timeout=300)
    finally:
        script.kill()
    assert code == 0, err
    assert script.returncode == 0, output
    assert path.read_text() == saved  # the override is this run's only

    assert ("Early stopping: the weighted sum 1 × val_size_loss + 0.5 × val_kind_loss (lower "
            "is better); patience 2; restores the best epoch's weights") in stdout
    history = read_history(out / "history.csv")
    epochs = len(history["loss"])
    assert epochs < 30  # it stopped early
    scores = [a + 0.5 * b for a, b in zip(history["val_size_loss"], history["val_kind_loss"],
                                          strict=True)]
    best = int(np.argmin(scores))
    assert epochs == best + 3  # two epochs without improvement after the best
    summary = next(line for line in stdout.splitlines() if line.startswith("Early stopping "))
    assert summary == (
        f"Early stopping ended training after epoch {epochs}: the weighted sum 1 × "
        f"val_size_loss + 0.5 × val_kind_loss had not improved for 2 epochs (best: epoch "
        f"{best + 1}); the weights of epoch {best + 1}, the best, were restored.")
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["message"] == summary
    # The figures reported are those of the weights the model holds: the restored epoch's.
    assert record["restored_epoch"] == best + 1 < epochs
    assert record["final_losses"] == {
        "split": "validation", "total": history["val_loss"][best],
        "heads": {"size": history["val_size_loss"][best],
                  "kind": history["val_kind_loss"][best]}}
    snapshot_project = json.loads((out / "project.json").read_text())
    assert snapshot_project["training"]["early_stopping"]["criterion"] == "weighted"

    # The script: same epochs, same history, same restored weights, same sentence.
    assert summary in output.splitlines()
    theirs = read_history(script_dir / "out" / "history.csv")
    assert set(theirs) == set(history) and len(theirs["loss"]) == epochs
    for key, values in history.items():
        np.testing.assert_allclose(theirs[key], values, rtol=1e-5, err_msg=key)
    mine = layer_weights(out / "model.keras")
    assert mine and layer_weights(script_dir / "out" / "model.keras").keys() == mine.keys()
    # The checkpoints hold the best epoch's model: the restored one.
    for path in (script_dir / "out" / "model.keras", out / "checkpoint.keras",
                 script_dir / "out" / "checkpoint.keras"):
        theirs = layer_weights(path)
        for key, values in mine.items():
            np.testing.assert_allclose(theirs[key], values, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{path} {key}")
