"""After a run: its evaluation (confusion matrix, per-class figures, predicted against true,
residuals, the worst rows) computed in a child process and drawn per head, and Predict…, which
writes one CSV column per head with class names. The run's model has fixed weights, so every
number is counted here by hand."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from mogui.core import run_store
from mogui.core.io import load_project, save_project
from mogui.core.labels import HeadLabels
from mogui.core.project import ColumnMap, CsvData, HeadSpec, InputSpec, Project
from mogui.core.runs import MODEL_FILE, RunStatus
from mogui.core.tasks import Task
from mogui.engine.evaluation import evaluate_head
from mogui.engine.model import build_model
from mogui.qt.document import ProjectDocument
from mogui.qt.evaluation_views import HeadEvaluationView, thumbnail
from mogui.qt.predict_dialog import PredictDialog
from mogui.qt.run_list import RunList
from mogui.qt.run_model import RunModel

pytestmark = pytest.mark.gui

KINDS = ("cat", "dog", "owl")
# Eight rows; the model's kind head predicts argmax(x), its size head x[0] + 0.5.
X = [[3, 0, 0], [2, 1, 0], [0, 4, 1], [0, 0, 2], [1, 3, 0], [5, 0, 1], [0, 1, 3], [0, 2, 1]]
KIND = ["cat", "dog", "dog", "owl", "cat", "cat", "dog", ""]  # the last row has no label
SIZE = ["3", "2", "1", "", "1", "6", "0", "0"]  # row 3 has no size


def write_rows(path: Path, rows: list[list[object]], header: list[str]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory) -> tuple[Path, Path]:
    """A project on a CSV table and a finished run of it whose model has fixed weights."""
    folder = tmp_path_factory.mktemp("fixed")
    write_rows(folder / "table.csv", [[*x, k, s] for x, k, s in zip(X, KIND, SIZE,
                                                                     strict=True)],
               ["a", "b", "c", "kind", "size"])
    project = Project(
        name="fixed", inputs=[InputSpec(name="x", shape=[3])],
        heads=[HeadSpec(name="kind", task="multiclass", units=3),
               HeadSpec(name="size", task="regression", units=1)],
        training={"validation_split": 0.0},
        data=CsvData(path="table.csv", inputs=[ColumnMap(name="x", columns=["a", "b", "c"])],
                     targets=[ColumnMap(name="kind", columns=["kind"], classes=list(KINDS)),
                              ColumnMap(name="size", columns=["size"])]))
    path = folder / "fixed.mogui.json"
    save_project(project, path)
    run = run_store.create_run(project, path, now=datetime(2026, 3, 4, 12))
    model = build_model(project)
    model.get_layer("kind").set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    model.get_layer("size").set_weights([np.array([[1.0], [0.0], [0.0]], np.float32),
                                         np.array([0.5], np.float32)])
    model.save(run.folder / MODEL_FILE)
    run_store.record_epoch(run, {"loss": 1.0})
    run_store.finish_run(run, RunStatus.FINISHED)
    return path, run.folder


@pytest.fixture
def run_list(qtbot, fixed_run) -> RunList:
    path, _folder = fixed_run
    document = ProjectDocument(load_project(path), path)
    runs = RunList(document, RunModel())
    qtbot.addWidget(runs)
    return runs


def _cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else ""
             for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_the_confusion_matrix_equals_a_hand_count(qtbot, run_list, fixed_run):
    _path, folder = fixed_run
    assert run_list.select(folder) and run_list.evaluate_button.isEnabled()
    dialog = run_list.evaluate_run()
    qtbot.waitUntil(lambda: dialog.evaluation is not None or dialog.error.isVisible(),
                    timeout=120_000)
    assert not dialog.error.isVisible(), dialog.error.text()
    assert "Evaluated on 8 rows (no validation split: all rows)" in dialog.status.text()
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["kind", "size"]

    kind = dialog.views["kind"]
    predicted = [int(np.argmax(x)) for x in X]
    hand = [[0] * 3 for _ in KINDS]
    for true, guess in zip(KIND, predicted, strict=True):
        if true:
            hand[KINDS.index(true)][guess] += 1
    assert hand == [[2, 1, 0], [1, 1, 1], [0, 0, 1]]
    table = kind.confusion
    # rows: the true class (named in the first column), columns: the class predicted
    assert _cells(table) == [[k, *(str(v) for v in row)] for k, row in zip(KINDS, hand,
                                                                           strict=True)]
    assert [table.horizontalHeaderItem(c).text() for c in range(1, 4)] == list(KINDS)
    # per class: true rows, predicted, correct, precision, recall
    assert _cells(kind.classes) == [["cat", "3", "3", "2", "66.7%", "66.7%"],
                                    ["dog", "3", "2", "1", "50.0%", "33.3%"],
                                    ["owl", "1", "2", "1", "50.0%", "100.0%"]]
    assert kind.summary.text() == "7 labelled rows. accuracy 57.1%"
    worst = _cells(kind.worst)
    # rows 4 (cat read as dog) and 6 (dog read as owl) give the true class e / (1 + e + e³)
    error = f"{np.log(1 + np.e + np.e ** 3) - 1:.4g}"
    assert len(worst) == 7 and worst[:2] == [["4", "cat", "dog", error],
                                             ["6", "dog", "owl", error]]

    size = dialog.views["size"]
    assert "MAE 0.5 · RMSE 0.5" in size.summary.text()
    points = size.scatter.getPlotItem().listDataItems()[-1].getData()
    labelled = [r for r, s in enumerate(SIZE) if s]
    assert sorted(points[0].tolist()) == sorted(float(SIZE[r]) for r in labelled)
    assert sorted(points[1].tolist()) == sorted(X[r][0] + 0.5 for r in labelled)
    bars = [item for item in size.histogram.getPlotItem().items
            if type(item).__name__ == "BarGraphItem"]
    assert sum(bars[0].opts["height"]) == 7  # every labelled residual counted once

    dialog.rows.setCurrentIndex(dialog.rows.findData("training"))
    dialog.evaluation = None
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.evaluation is not None, timeout=120_000)
    assert dialog.views["kind"].confusion is not None
    dialog.reject()


def test_the_worst_rows_show_the_image_of_an_image_input():
    labels = HeadLabels("shape", Task.MULTICLASS, 2, "softmax", ("round", "square"))
    evaluation = evaluate_head(labels, np.array([[0], [1]]), np.array([[2.0, 0.0], [3.0, 0.0]]),
                               None, np.array([4, 9]))
    image = np.zeros((8, 8, 1), np.float32)
    image[2:6, 2:6] = 1.0
    evaluation.worst[0].inputs = {"image": image}
    view = HeadEvaluationView(evaluation)
    table = view.worst
    assert table.horizontalHeaderItem(4).text() == "Image"
    assert _cells(table)[0][:3] == ["9", "square", "round"]
    icon = table.item(0, 4).icon()
    assert not icon.isNull()
    picture = thumbnail(image).toImage()
    assert picture.pixelColor(picture.width() // 2, picture.height() // 2).value() == 255
    assert picture.pixelColor(0, 0).value() == 0
    assert thumbnail(np.zeros((3,), np.float32)) is None  # not an image: no picture
    evaluation.worst[0].name = "img_009.png"  # an image folder's rows name their files
    named = HeadEvaluationView(evaluation)
    table = named.worst
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:2] == ["Row", "File"] and headers[-1] == "Image"
    assert _cells(table)[0][:4] == ["9", "img_009.png", "square", "round"]
    assert not table.item(0, 5).icon().isNull()


def test_predict_writes_class_names_and_a_bad_file_writes_nothing(qtbot, run_list, fixed_run,
                                                                  tmp_path):
    _path, folder = fixed_run
    run_list.select(folder)
    dialog = run_list.predict_run()
    assert dialog.run_box.currentData() == str(folder)
    new = write_rows(tmp_path / "new.csv", [[0, 0, 9, 1], [7, 1, 1, 2], [1, 5, 0, 3]],
                     ["c", "a", "b", "id"])  # columns in another order, one more
    dialog.data_path.set_path(str(new))
    assert dialog.out_edit.text() == str(tmp_path / "new_predictions.csv")
    with qtbot.waitSignal(dialog.predicted, timeout=120_000) as blocker:
        assert dialog.predict()
    assert blocker.args[0] is not None, dialog.error.text()
    assert "Wrote 3 predictions (kind, size)" in dialog.status.text()
    with open(tmp_path / "new_predictions.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    # by hand: x = (a, b, c) = (0, 9, 0), (1, 1, 7), (5, 0, 1)
    assert rows[0] == ["kind", "size"]
    assert [r[0] for r in rows[1:]] == ["dog", "owl", "cat"]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx([0.5, 1.5, 5.5])
    assert not dialog.report.isVisible()  # the file holds no targets: nothing to evaluate

    dialog.keep_edit.setText("id")  # copied in front, to join the predictions back by
    dialog.out_edit.setText(str(tmp_path / "with_ids.csv"))
    with qtbot.waitSignal(dialog.predicted, timeout=120_000) as blocker:
        assert dialog.predict()
    assert blocker.args[0] is not None, dialog.error.text()
    with open(tmp_path / "with_ids.csv", newline="") as handle:
        kept = list(csv.reader(handle))
    assert kept[0] == ["id", "kind", "size"] and [r[:2] for r in kept[1:]] == \
        [["1", "dog"], ["2", "owl"], ["3", "cat"]]
    (tmp_path / "with_ids.csv").unlink()
    dialog.keep_edit.setText("")

    bad = write_rows(tmp_path / "bad.csv", [[1, 2]], ["a", "b"])
    dialog.data_path.set_path(str(bad))
    dialog.out_edit.setText(str(tmp_path / "bad_predictions.csv"))
    before = sorted(p.name for p in tmp_path.iterdir())
    with qtbot.waitSignal(dialog.predicted, timeout=120_000) as blocker:
        assert dialog.predict()
    assert blocker.args[0] is None
    text = dialog.error.text()
    assert "'c'" in text and "Traceback" not in text and dialog.error.isVisible()
    assert dialog.status.text() == "Nothing was written."
    assert sorted(p.name for p in tmp_path.iterdir()) == before

    dialog.out_edit.setText(str(tmp_path / "new_predictions.csv"))  # exists: not replaced
    dialog.data_path.set_path(str(new))
    assert not dialog.predict(replace=False)
    assert "exists already" in dialog.error.text()
    project_file = _path
    saved = project_file.read_bytes()
    dialog.out_edit.setText(str(project_file))  # never the project, even if replacing is fine
    assert not dialog.predict(replace=True)
    assert "no .csv file name" in dialog.error.text() and project_file.read_bytes() == saved
    dialog.out_edit.setText("")
    assert not dialog.predict() and "Choose where to write" in dialog.error.text()
    dialog.reject()


def test_predict_without_a_trained_run_says_so(qtbot, tmp_path):
    project = Project(name="untrained", inputs=[InputSpec(name="x", shape=[3])],
                      heads=[HeadSpec(name="y", task="regression", units=1)])
    document = ProjectDocument(project, tmp_path / "untrained.json")
    dialog = PredictDialog(document)
    qtbot.addWidget(dialog)
    assert not dialog.predict_button.isEnabled()
    assert "no trained run yet" in dialog.error.text()
