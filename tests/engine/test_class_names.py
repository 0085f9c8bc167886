"""Class names end to end: a CSV with string labels -> a project from data -> one epoch of
training -> the dry run, the export's README, training script, classes.json and predict.py
all speak of budget, premium and standard, and predict.py writes what mogui predicts."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from mogui.core.default_model import build_project
from mogui.core.from_data import plan_project
from mogui.engine.data import load_data, summarize_data
from mogui.engine.evaluation import predict_with
from mogui.engine.export import export_project
from mogui.engine.losses import dry_run

CLASSES = ["budget", "premium", "standard"]


def write_houses(folder, rows: int = 60) -> None:
    rng = np.random.default_rng(3)
    with open(folder / "houses.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area", "rooms", "price", "category"])
        for i in range(rows):
            area = rng.uniform(40, 200)
            category = CLASSES[int(area // 60) % 3] if i % 10 else ""  # 10 % missing
            writer.writerow([f"{area:.1f}", int(rng.integers(1, 6)),
                             f"{area * 1.5 + rng.normal(0, 5):.1f}", category])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    write_houses(folder)
    summary = summarize_data(folder / "houses.csv")
    project = build_project(plan_project(summary, ["price", "category"]), folder / "p.json")
    project.training.epochs = 1
    out = folder / "export"
    export_project(project, out, formats=("keras",), project_dir=folder)
    return project, folder, out


def test_the_vocabulary_lives_in_the_project(exported):
    project, _folder, _out = exported
    (price, category) = project.data.targets
    assert category.classes == CLASSES and price.classes == []


def test_the_dry_run_names_the_classes(exported):
    project, folder, _out = exported
    report = dry_run(project, load_data(project, folder), batch_size=8)
    assert "    classes: 0 budget, 1 premium, 2 standard" in report.lines()


def test_the_readme_script_and_classes_json_name_the_classes(exported):
    _project, _folder, out = exported
    readme = (out / "README.txt").read_text()
    assert "category: multiclass, 3 classes: 0 budget, 1 premium, 2 standard" in readme
    assert "price: regression, 1 value(s): price" in readme
    assert "predict.py" in readme and "classes.json" in readme
    script = next(out.glob("train_*.py")).read_text()
    assert 'CLASS_NAMES = {"category": ["budget", "premium", "standard"]}' in script
    assert '"category": (["category"], ["budget", "premium", "standard"], None)' in script
    info = json.loads((out / "classes.json").read_text())
    assert info["heads"]["category"]["classes"] == CLASSES
    assert info["inputs"]["features"]["columns"] == ["area", "rooms"]
    assert not (out / "data.npz").exists()  # the script reads the CSV itself


def test_predict_helper_writes_what_mogui_predicts(exported, tmp_path):
    project, folder, out = exported
    rows = (folder / "houses.csv").read_text().splitlines()
    new = tmp_path / "new.csv"
    new.write_text("rooms,area\n" + "\n".join(
        f"{line.split(',')[1]},{line.split(',')[0]}" for line in rows[1:11]) + "\n")
    predictions = tmp_path / "predictions.csv"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(out / "predict.py"), str(new), str(predictions)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    model = keras.saving.load_model(out / "model_inference.keras")
    mine = predict_with(project, model, new)
    assert predictions.read_text() == mine.csv_text()
    lines = predictions.read_text().splitlines()
    assert lines[0] == "price,category" and len(lines) == 11
    assert {line.split(",")[1] for line in lines[1:]} <= set(CLASSES)
    assert "import mogui" not in (out / "predict.py").read_text()
