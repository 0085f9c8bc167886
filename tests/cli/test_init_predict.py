"""``mogui init`` and ``mogui predict``: a project from a CSV, trained, then asked for
predictions; every bad input exits 2 with one line and changes no file."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mogui import cli
from mogui.core.io import load_project
from mogui.core.validation import check_project
from tests.cli.test_bad_inputs import run_here, snapshot
from tests.engine.data_builders import write_image_folder

CLASSES = ("budget", "premium", "standard")


def write_houses(folder: Path, rows: int = 60, name: str = "houses.csv") -> Path:
    """Two features on their own scales, a price (some empty) and a category (some empty)."""
    rng = np.random.default_rng(2)
    path = folder / name
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area", "year", "note", "price", "category"])
        for i in range(rows):
            area = rng.uniform(40, 200)
            writer.writerow([f"{area:.1f}", int(rng.integers(1950, 2020)), f"n{i % 7}",
                             "" if i % 13 == 5 else f"{area * 1.5 + rng.normal(0, 4):.1f}",
                             "" if i % 10 == 3 else CLASSES[int(area // 55) % 3]])
    return path


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_init_train_predict(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    write_houses(tmp_path)
    code, out, err = run(["init", "--data", "houses.csv", "--target", "price", "--target",
                          "category", "--out", "houses.json"], capsys)
    assert code == 0, err
    assert "houses.csv: 60 rows, 5 columns" in out
    assert "category: multiclass, 3 classes (budget, premium, standard)" in out
    assert "left out 'note': holds text" in out
    project = load_project(tmp_path / "houses.json")
    assert check_project(project) == [] and project.data.path == "houses.csv"
    assert [m.columns for m in project.data.inputs] == [["area", "year"]]

    code, out, err = run(["train", "houses.json", "--epochs", "1"], capsys)  # runs/houses/…
    assert code == 0, err
    (run_folder,) = (tmp_path / "runs" / "houses").iterdir()
    code, out, err = run(["predict", "houses.json", "--data", "houses.csv", "--out",
                          "predictions.csv"], capsys)  # the newest run
    assert code == 0, err
    assert "Wrote 60 predictions (price, category)" in out
    assert f"with the model of {run_folder}" in out
    assert "Evaluated on 60 rows" in out and "confusion (rows: true, columns: predicted)" in out
    with open(tmp_path / "predictions.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["price", "category"] and len(rows) == 61
    assert {row[1] for row in rows[1:]} <= set(CLASSES)
    assert all(float(row[0]) == float(row[0]) for row in rows[1:])  # numbers, no NaN

    (tmp_path / "new.csv").write_text("year,area\n1990,120.5\n2001,60\n")
    code, out, err = run(["predict", "houses.json", "--run", run_folder.name, "--data",
                          "new.csv", "--out", "new_predictions.csv"], capsys)
    assert code == 0, err
    assert "Evaluated" not in out  # no targets in the file
    lines = (tmp_path / "new_predictions.csv").read_text().splitlines()
    assert lines[0] == "price,category" and len(lines) == 3


def test_init_with_an_image_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_image_folder(tmp_path, 16, pixels=16)
    code, out, err = run(["init", "--data", "images", "--target", "shape", "--target",
                          "box=x_min:y_max", "--out", "shapes.json"], capsys)
    assert code == 0, err
    project = load_project(tmp_path / "shapes.json")
    assert project.data.kind == "image_folder" and project.data.labels == "labels.csv"
    assert project.inputs[0].shape == [16, 16, 1]
    assert [(h.name, h.task.value, h.units) for h in project.heads] == \
        [("shape", "multiclass", 6), ("box", "regression", 4)]


def test_init_on_the_label_table_of_images_says_to_give_the_folder(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    write_image_folder(tmp_path, 16, pixels=16)
    code, _out, err = run(["init", "--data", "labels.csv", "--target", "shape", "--out",
                           "shapes.json"], capsys)
    assert code == 0, err
    assert "note: The column 'file' names image files" in err
    assert "give the folder 'images' as the data" in err


# -- bad inputs --------------------------------------------------------------------------------

Build = Callable[[Path], list[str]]


def init(*extra: str, data: str = "houses.csv") -> Build:
    def build(folder: Path) -> list[str]:
        write_houses(folder)
        return ["init", "--data", data, *extra]
    return build


def existing(name: str) -> Build:
    def build(folder: Path) -> list[str]:
        write_houses(folder)
        (folder / name).write_text("{}")
        return ["init", "--data", "houses.csv", "--target", "price", "--out", name]
    return build


def tiny(folder: Path) -> list[str]:
    write_houses(folder, rows=4, name="tiny.csv")
    return ["init", "--data", "tiny.csv", "--target", "price", "--out", "p.json"]


def images_without_table(folder: Path) -> list[str]:
    (folder / "pictures").mkdir()
    return ["init", "--data", "pictures", "--target", "shape", "--out", "p.json"]


INIT_CASES = [
    ("no-such-file", init("--target", "price", "--out", "p.json", data="nope.csv"),
     ("nope.csv", "does not exist")),
    ("no-target", init("--out", "p.json"), ("at least one target",)),
    ("unknown-target", init("--target", "cost", "--out", "p.json"), ("no column 'cost'",)),
    ("text-feature", init("--target", "price", "--features", "area, note", "--out", "p.json"),
     ("'note' holds text",)),
    ("feature-is-target", init("--target", "price", "--features", "area:price",
                               "--out", "p.json"), ("target and a feature",)),
    ("bad-range", init("--target", "price", "--features", "year:area", "--out", "p.json"),
     ("runs backwards",)),
    ("bad-task", init("--target", "price", "--task", "price=ranking", "--out", "p.json"),
     ("'ranking' is not a task",)),
    ("task-misfits", init("--target", "category", "--task", "category=regression",
                          "--out", "p.json"), ("category names", "regression")),
    ("task-syntax", init("--target", "price", "--task", "price", "--out", "p.json"),
     ("HEAD=TASK",)),
    ("out-exists", existing("p.json"), ("exists already", "move that file away")),
    ("out-not-json", init("--target", "price", "--out", "p.txt"), ("ending in .json",)),
    ("out-is-folder", lambda f: (f / "d.json").mkdir() or init(
        "--target", "price", "--out", "d.json")(f), ("is a folder",)),
    ("too-few-rows", tiny, ("4 row(s)", "at least 10")),
    ("images-no-table", images_without_table, ("Which table labels the images", "--labels")),
    ("labels-for-a-file", init("--target", "price", "--labels", "x.csv", "--out", "p.json"),
     ("--labels", "image folder")),
    ("not-a-table", lambda f: (f / "notes.md").write_text(
        "# Notes\n\nA line, with a comma.\n") and ["init", "--data", "notes.md", "--target",
                                                     "x", "--out", "p.json"],
     ("'notes.md' does not look like a table", "line 3 has 2 cells and the first line 1")),
    ("a-row-too-short", lambda f: (f / "short.csv").write_text(
        "a,b,c\n1,2,3\n4\n") and ["init", "--data", "short.csv", "--target", "c", "--out",
                                   "p.json"],
     ("Line 3 of 'short.csv' has 1 cell but the header has 3",)),
]


def trained(folder: Path, monkeypatch) -> None:
    """A project from houses.csv, trained one epoch into ``run``."""
    write_houses(folder)
    assert cli.main(["init", "--data", "houses.csv", "--target", "price", "--target",
                     "category", "--out", "houses.json"]) == 0
    assert cli.main(["train", "houses.json", "--epochs", "1", "--out", "run"]) == 0


def predict(*extra: str, prepare: Callable[[Path], object] | None = None) -> Build:
    def build(folder: Path) -> list[str]:
        if prepare is not None:
            prepare(folder)
        return ["predict", "houses.json", "--run", "run", *extra]
    return build


PREDICT_CASES = [
    ("data-missing", predict("--data", "nope.csv", "--out", "p.csv"),
     ("nope.csv", "does not exist")),
    ("out-exists", predict("--data", "houses.csv", "--out", "houses.csv"), ("exists already",)),
    # Not even with --overwrite: the project (or any other file) never becomes predictions.
    ("out-is-the-project", predict("--data", "houses.csv", "--out", "houses.json",
                                   "--overwrite"), ("ending in .csv",)),
    ("out-not-csv", predict("--data", "houses.csv", "--out", "p.txt"), ("ending in .csv",)),
    ("no-such-run", predict("--data", "houses.csv", "--out", "p.csv", "--run", "elsewhere"),
     ("--run 'elsewhere'", "no run folder")),
    ("no-trained-run", lambda f: ["predict", "houses.json", "--data", "houses.csv", "--out",
                                  "p.csv"], ("no trained run yet", "mogui train")),
    ("missing-input-column", predict("--data", "cut.csv", "--out", "p.csv",
                                     prepare=lambda f: (f / "cut.csv").write_text("area\n1\n")),
     ("no column 'year'", "takes as input", "trained on area, year")),
    ("empty-input-cell", predict("--data", "gap.csv", "--out", "p.csv",
                                 prepare=lambda f: (f / "gap.csv").write_text(
                                     "area,year\n50,\n60,1990\n")),
     ("'year'", "empty", "line 2")),
    ("run-project-unreadable", lambda f: ["predict", "houses.json", "--run", "broken-run",
                                          "--data", "houses.csv", "--out", "p.csv"]
     if _broken_run(f) else [], ("project.json", "broken-run")),
]


def _broken_run(folder: Path) -> bool:
    """A copy of the trained run whose ``project.json`` is cut short."""
    broken = folder / "broken-run"
    if not broken.exists():
        shutil.copytree(folder / "run", broken)
        text = (broken / "project.json").read_text(encoding="utf-8")
        (broken / "project.json").write_text(text[: len(text) // 2], encoding="utf-8")
    return True


@pytest.mark.parametrize("build, words", [pytest.param(b, w, id=i) for i, b, w in INIT_CASES])
def test_bad_init_exits_2_with_one_line_and_writes_nothing(build, words, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.chdir(tmp_path)
    argv = build(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1 and lines[0].startswith("mogui: "), err
    assert "Traceback" not in err + out
    assert all(w.lower() in lines[0].lower() for w in words), lines[0]
    assert snapshot(tmp_path) == before


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(cli, "_run_child", run_here)
        trained(folder, patch)
    return folder


@pytest.mark.parametrize("build, words", [pytest.param(b, w, id=i)
                                          for i, b, w in PREDICT_CASES])
def test_bad_predict_exits_2_with_one_line_and_writes_nothing(build, words, trained_folder,
                                                             monkeypatch, capsys):
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    argv = build(trained_folder)
    before = snapshot(trained_folder)
    code, out, err = run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1 and lines[0].startswith("mogui: "), err
    assert "Traceback" not in err + out
    assert all(w.lower() in lines[0].lower() for w in words), lines[0]
    assert snapshot(trained_folder) == before


def test_predict_overwrites_only_when_asked(trained_folder, monkeypatch, capsys):
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    target = trained_folder / "mine.csv"
    target.write_text("keep me\n")
    command = ["predict", "houses.json", "--run", "run", "--data", "houses.csv", "--out",
               "mine.csv"]
    code, _out, err = run(command, capsys)
    assert code == 2 and "--overwrite" in err and target.read_text() == "keep me\n"
    code, _out, err = run([*command, "--overwrite"], capsys)
    assert code == 0, err
    assert target.read_text().startswith("price,category\n")
    target.unlink()


def test_predict_in_a_child_process(trained_folder, monkeypatch, capsys, tmp_path):
    """The real child process: the model file loads there, the table comes back written."""
    monkeypatch.chdir(trained_folder)
    out = tmp_path / "child.csv"
    code, stdout, err = run(["predict", "houses.json", "--run", "run", "--data", "houses.csv",
                             "--out", str(out)], capsys)
    assert code == 0, err
    assert out.read_text().splitlines()[0] == "price,category"
    project = json.loads((trained_folder / "run" / "project.json").read_text())
    assert project["data"]["targets"][1]["classes"] == list(CLASSES)


def _predict_lines(trained_folder, monkeypatch, capsys, table: str) -> tuple[str, list[str]]:
    """Predict ``table`` (written as new.csv) with the trained run: stdout, and the rows."""
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    (trained_folder / "new.csv").write_text(table)
    out_file = trained_folder / "new_predictions.csv"
    try:
        code, out, err = run(["predict", "houses.json", "--run", "run", "--data", "new.csv",
                              "--out", out_file.name], capsys)
        assert code == 0, err
        return out, out_file.read_text().splitlines()
    finally:
        out_file.unlink(missing_ok=True)
        (trained_folder / "new.csv").unlink()


def test_a_label_the_run_never_saw_is_predicted_and_not_evaluated(trained_folder, monkeypatch,
                                                                   capsys):
    out, rows = _predict_lines(trained_folder, monkeypatch, capsys,
                               "area,year,price,category\n50,1990,80,castle\n70,1980,99,\n")
    assert len(rows) == 3 and rows[0] == "price,category"
    assert "Evaluated on" not in out
    assert "Not evaluated: Column 'category' of 'new.csv' holds 'castle'" in out


def test_the_heads_whose_targets_the_file_holds_are_evaluated(trained_folder, monkeypatch,
                                                              capsys):
    prices = [80.0, 120.0, 95.5]
    out, rows = _predict_lines(trained_folder, monkeypatch, capsys, "area,year,price\n" + "".join(
        f"{50 + 10 * i},{1990 + i},{p}\n" for i, p in enumerate(prices)))
    assert "Evaluated on 3 rows" in out and "price (regression, 3 labelled rows)" in out
    assert "category (multiclass" not in out
    assert "Not evaluated: category (the file has no column 'category')" in out
    predicted = [float(row.split(",")[0]) for row in rows[1:]]
    mae = float(np.mean(np.abs(np.array(predicted) - prices)))  # by hand, from the file
    assert f"MAE {mae:.4g}" in out


def test_predicting_the_project_data_says_it_holds_the_training_rows(trained_folder,
                                                                     monkeypatch, capsys):
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    code, out, err = run(["predict", "houses.json", "--run", "run", "--data", "houses.csv",
                          "--out", "own.csv"], capsys)
    assert code == 0, err
    assert "Evaluated on 60 rows" in out and "include the rows the model trained on" in out
    (trained_folder / "own.csv").unlink()
    out, _rows = _predict_lines(trained_folder, monkeypatch, capsys,
                                "area,year,price,category\n50,1990,80,budget\n")
    assert "Evaluated on 1 rows" in out and "trained on" not in out


def test_evaluate_gives_the_held_out_figures_per_head(trained_folder, monkeypatch, capsys):
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    code, out, err = run(["evaluate", "houses.json", "--run", "run", "--worst", "2"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"The model of {trained_folder / 'run'}:"
    assert lines[1] == "Evaluated on 12 validation rows"  # 20 % of 60, held out in training
    assert "  confusion (rows: true, columns: predicted)" in lines
    # The confusion matrix's counts add up to the category rows labelled among those 12.
    header = next(i for i, line in enumerate(lines) if line.startswith("category ("))
    labelled = int(lines[header].split(", ")[1].split()[0])
    counts = [int(v) for line in lines[header + 4:header + 7] for v in line.split()[1:]]
    assert sum(counts) == labelled <= 12
    code, out, err = run(["evaluate", "houses.json", "--run", "run", "--rows", "all"], capsys)
    assert code == 0 and "Evaluated on 60 rows" in out


@pytest.mark.parametrize("extra, words", [
    (["--run", "elsewhere"], ("--run 'elsewhere'", "no run folder")),
    (["--worst", "-1"], ("--worst -1", "0 or more")),
])
def test_bad_evaluate_exits_2_with_one_line(trained_folder, monkeypatch, capsys, extra, words):
    monkeypatch.chdir(trained_folder)
    code, out, err = run(["evaluate", "houses.json", *extra], capsys)
    assert code == 2 and err.count("\n") == 1 and all(w in err for w in words), err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", ["train", "validate"])
def test_a_data_file_given_as_the_project_says_to_make_one(command, tmp_path, monkeypatch,
                                                           capsys):
    monkeypatch.chdir(tmp_path)
    write_houses(tmp_path)
    code, _out, err = run([command, "houses.csv"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "is a data file, not a mogui project" in err
    assert "mogui init --data houses.csv --target COLUMN --out project.json" in err


def test_train_on_refused_data_leaves_no_run_behind(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    write_houses(tmp_path)
    assert cli.main(["init", "--data", "houses.csv", "--target", "price", "--out",
                     "houses.json"]) == 0
    (tmp_path / "houses.csv").rename(tmp_path / "moved.csv")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _out, err = run(["train", "houses.json", "--epochs", "1"], capsys)
    assert code == 2 and "houses.csv" in err and "does not exist" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no runs/ folder made
    # An --out folder that existed (an earlier run's) is left as it was.
    (tmp_path / "moved.csv").rename(tmp_path / "houses.csv")
    assert cli.main(["train", "houses.json", "--epochs", "1", "--out", "kept"]) == 0
    (tmp_path / "houses.csv").rename(tmp_path / "moved.csv")
    code, _out, err = run(["train", "houses.json", "--epochs", "1", "--out", "kept"], capsys)
    assert code == 2 and (tmp_path / "kept" / "run.json").is_file()


def test_kept_columns_come_first_to_join_the_predictions_back(trained_folder, monkeypatch,
                                                              capsys):
    monkeypatch.chdir(trained_folder)
    monkeypatch.setattr(cli, "_run_child", run_here)
    (trained_folder / "ids.csv").write_text(
        "house_id,year,area,price\nh-1,1990,120.5,80\nh-2,2001,60,\nh-3,1975,88,130\n")
    try:
        code, out, err = run(["predict", "houses.json", "--run", "run", "--data", "ids.csv",
                              "--out", "kept.csv", "--keep", "house_id, price"], capsys)
        assert code == 0, err
        with open(trained_folder / "kept.csv", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["house_id", "price", "price_predicted", "category"]
        assert [row[:2] for row in rows[1:]] == [["h-1", "80"], ["h-2", ""], ["h-3", "130"]]
        code, out, err = run(["predict", "houses.json", "--run", "run", "--data", "ids.csv",
                              "--out", "kept2.csv", "--keep", "nope"], capsys)
        assert code == 2 and "nope" in err and not (trained_folder / "kept2.csv").exists()
    finally:
        for name in ("ids.csv", "kept.csv"):
            (trained_folder / name).unlink(missing_ok=True)
