"""Evaluation numbers on a tiny model with fixed weights, checked against counts by hand, and
a trained run evaluated and asked for predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mogui.core.io import save_project
from mogui.core.labels import HeadLabels
from mogui.core.project import (
    ColumnMap,
    CsvData,
    HeadLoss,
    HeadSpec,
    InputSpec,
    NpzData,
    Project,
)
from mogui.core.tasks import Task
from mogui.engine.data import Dataset, load_data
from mogui.engine.evaluation import (
    evaluate_head,
    evaluate_model,
    evaluate_run,
    predict_run,
    predict_with,
)
from mogui.engine.model import build_model
from mogui.engine.training import inference_copy, run_training
from tests.engine.data_builders import KINDS, csv_source, table_project, write_table

# Eight rows; the kind head predicts argmax(x) (identity weights), the size head x[0] + 0.5.
X = np.array([[3, 0, 0], [2, 1, 0], [0, 4, 1], [0, 0, 2],
              [1, 3, 0], [5, 0, 1], [0, 1, 3], [0, 2, 1]], dtype=np.float32)
PREDICTED = [0, 0, 1, 2, 1, 0, 2, 1]
TRUE = np.array([0, 1, 1, 2, 0, 0, 1, -1], dtype=np.int32).reshape(-1, 1)  # last: no label
SIZE = np.array([3.0, 2.0, 1.0, np.nan, 1.0, 6.0, 0.0, 0.0], dtype=np.float32).reshape(-1, 1)


def fixed_project() -> Project:
    return Project(name="fixed", inputs=[InputSpec(name="x", shape=[3])],
                   heads=[HeadSpec(name="kind", task="multiclass", units=3),
                          HeadSpec(name="size", task="regression", units=1)],
                   data=CsvData(path="t.csv", targets=[ColumnMap(name="kind", columns=["k"],
                                                                 classes=list(KINDS))]))


def fixed_model(project: Project):
    model = build_model(project)
    model.get_layer("kind").set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    model.get_layer("size").set_weights([np.array([[1.0], [0.0], [0.0]], np.float32),
                                         np.array([0.5], np.float32)])
    return model


def test_confusion_matrix_precision_and_recall_equal_a_hand_count():
    project = fixed_project()
    evaluation = evaluate_model(project, fixed_model(project),
                                Dataset(x={"x": X}, y={"kind": TRUE, "size": SIZE}), rows="all")
    kind = evaluation.heads["kind"]
    # by hand, labelled rows 0..6: (true, predicted) = (0,0) (1,0) (1,1) (2,2) (0,1) (0,0) (1,2)
    assert kind.confusion.tolist() == [[2, 1, 0],
                                       [1, 1, 1],
                                       [0, 0, 1]]
    assert [c.name for c in kind.classes] == ["cat", "dog", "owl"]
    assert [(c.support, c.predicted, c.correct) for c in kind.classes] == \
        [(3, 3, 2), (3, 2, 1), (1, 2, 1)]
    assert [c.precision for c in kind.classes] == [2 / 3, 1 / 2, 1 / 2]
    assert [c.recall for c in kind.classes] == [2 / 3, 1 / 3, 1.0]
    assert kind.summary["accuracy"] == pytest.approx(4 / 7)
    assert kind.labelled == 7 and kind.labelled_rows.tolist() == list(range(7))
    assert kind.predicted.tolist() == PREDICTED[:7]
    # worst first: the smallest probability of the true class (ties in row order)
    probabilities = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    errors = [-math.log(probabilities[r, TRUE[r, 0]]) for r in range(7)]
    assert [round(w.error, 4) for w in kind.worst] == sorted((round(e, 4) for e in errors),
                                                             reverse=True)
    assert all(w.error == pytest.approx(errors[w.row], rel=1e-5) for w in kind.worst)
    worst = kind.worst[0]
    assert (worst.true, worst.predicted) == (KINDS[TRUE[worst.row, 0]], KINDS[PREDICTED[worst.row]])
    assert worst.error == pytest.approx(max(errors), rel=1e-5)
    assert kind.worst[0].inputs["x"].tolist() == X[kind.worst[0].row].tolist()


def test_regression_pairs_residuals_and_summary_equal_a_hand_count():
    project = fixed_project()
    evaluation = evaluate_model(project, fixed_model(project),
                                Dataset(x={"x": X}, y={"kind": TRUE, "size": SIZE}), rows="all")
    size = evaluation.heads["size"]
    labelled = [0, 1, 2, 4, 5, 6, 7]  # row 3 has no size
    predicted = X[labelled, 0] + 0.5
    true = SIZE[labelled, 0]
    assert size.labelled_rows.tolist() == labelled
    np.testing.assert_allclose(size.true[:, 0], true)
    np.testing.assert_allclose(size.predicted[:, 0], predicted)
    residuals = predicted - true  # 0.5, 0.5, -0.5, 0.5, -0.5, 0.5, 0.5
    np.testing.assert_allclose(size.residuals[:, 0], residuals)
    assert size.summary["mae"] == pytest.approx(0.5)
    assert size.summary["rmse"] == pytest.approx(0.5)
    assert size.summary["mean_residual"] == pytest.approx(1.5 / 7)
    spread = ((true - true.mean()) ** 2).sum()
    assert size.summary["r2"] == pytest.approx(1 - 7 * 0.25 / spread)
    assert all(w.error == pytest.approx(0.5) for w in size.worst)
    assert "MAE 0.5" in "\n".join(evaluation.lines())


def test_binary_and_multilabel_heads():
    binary = HeadLabels("spam", Task.BINARY, 1, "sigmoid", ("ham", "spam"))
    out = np.array([[0.9], [0.2], [0.6], [0.3]])
    result = evaluate_head(binary, np.array([[1.0], [0.0], [0.0], [1.0]]), out, None,
                           np.arange(4))
    assert result.confusion.tolist() == [[1, 1], [1, 1]]
    assert [c.name for c in result.classes] == ["ham", "spam"]
    assert result.worst[0].row == 3 and result.worst[0].error == pytest.approx(-math.log(0.3))
    assert [w.row for w in result.worst] == [3, 2, 1, 0]
    tags = HeadLabels("tags", Task.MULTILABEL, 2, "linear", (), ("red", "blue"))
    logits = np.array([[2.0, -2.0], [2.0, 2.0], [-2.0, -2.0]])
    result = evaluate_head(tags, np.array([[1, 0], [0, 1], [0, 0]], np.float32), logits,
                           np.array([1, 1, 0], np.float32), np.arange(3))
    assert result.labelled == 2
    assert [(c.name, c.support, c.predicted, c.correct) for c in result.classes] == \
        [("red", 1, 2, 1), ("blue", 1, 1, 1)]
    assert result.summary["accuracy"] == pytest.approx(3 / 4)
    assert (result.worst[0].true, result.worst[0].predicted) == ("blue", "red;blue")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A CSV project with class names, trained one epoch into a run folder."""
    folder = tmp_path_factory.mktemp("run")
    write_table(folder, 48, missing_kind=(2, 9))
    project = table_project(csv_source(folder / "table.csv"))
    project.data.path = str(folder / "table.csv")
    project.heads[0].standardize = True
    run = folder / "run"
    run_training(project, load_data(project), lambda _e: None, out_dir=run)
    save_project(project, run / "project.json")
    return project, run, folder


def test_a_run_is_evaluated_on_its_validation_rows(trained_run):
    project, run, _folder = trained_run
    evaluation = evaluate_run(run)
    assert evaluation.rows == "validation" and evaluation.samples == 12  # 25 % of 48
    kind = evaluation.heads["kind"]
    assert kind.confusion.sum() == kind.labelled <= 12
    assert [c.name for c in kind.classes] == list(KINDS)
    assert evaluate_run(run, rows="all").heads["size"].labelled == 48


def test_predictions_for_a_new_table(trained_run, tmp_path):
    project, run, folder = trained_run
    lines = (folder / "table.csv").read_text().splitlines()
    new = tmp_path / "new.csv"
    new.write_text("c,b,a\n" + "\n".join(",".join(reversed(line.split(",")[:3]))
                                          for line in lines[1:6]) + "\n")
    table = predict_run(run, new)
    assert table.columns == ["size", "kind"] and len(table.rows) == 5
    assert table.evaluation is None  # the file holds no targets
    model = inference_copy(__import__("keras").saving.load_model(run / "model.keras",
                                                                 compile=False))
    x = np.array([[float(v) for v in line.split(",")[:3]] for line in lines[1:6]], np.float32)
    outputs = model.predict({"x": x}, verbose=0)
    assert [row[0] for row in table.rows] == pytest.approx(outputs["size"][:, 0].tolist())
    assert [row[1] for row in table.rows] == [KINDS[i] for i in outputs["kind"].argmax(1)]
    text = table.csv_text().splitlines()
    assert text[0] == "size,kind" and text[1].endswith("," + table.rows[0][1])
    # Each value reads back as the model's float32 output, written no longer than needed.
    written = [line.split(",")[0] for line in text[1:]]
    np.testing.assert_array_equal(np.array(written, dtype=np.float32), outputs["size"][:, 0])
    assert all(len(cell.lstrip("-")) <= 13 for cell in written), written
    labelled = predict_run(run, folder / "table.csv")
    assert labelled.evaluation is not None and labelled.evaluation.samples == 48


def test_predictions_from_an_npz_file(tmp_path):
    project = table_project(NpzData(path="d.npz"))
    project.heads[1].loss = HeadLoss(enabled=False)
    model = inference_copy(build_model(project))
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.savez(tmp_path / "new.npz", x=x)
    table = predict_with(project, model, tmp_path / "new.npz")
    outputs = model.predict({"x": x}, verbose=0)
    assert [row[1] for row in table.rows] == [str(i) for i in outputs["kind"].argmax(1)]


def test_the_evaluate_job_crosses_a_process_pipe(trained_run):
    import pickle

    from mogui.core.jobs import JobHandle
    from mogui.runner.jobs import JOBS

    _project, run, _folder = trained_run
    evaluation = JOBS["evaluate"](JobHandle(), run)
    again = pickle.loads(pickle.dumps(evaluation))
    assert again.samples == evaluation.samples == 12
    np.testing.assert_array_equal(again.heads["kind"].confusion,
                                  evaluation.heads["kind"].confusion)
    assert again.lines() == evaluation.lines()


@pytest.mark.slow
@pytest.mark.parametrize("streaming", ["never", "always"])
def test_the_worst_rows_of_an_image_folder_name_their_files(tmp_path, streaming):
    from tests.engine.data_builders import image_project, write_image_folder

    labels, _ = write_image_folder(tmp_path, 20, pixels=8, missing_shape=(5,))
    project = image_project(8)
    project.data.folder = str(tmp_path / "images")
    project.data.labels = str(labels)
    project.data.streaming = streaming
    run = tmp_path / "run"
    run_training(project, load_data(project), lambda _e: None, out_dir=run)
    save_project(project, run / "project.json")
    evaluation = evaluate_run(run, rows="all", worst=4)
    for head in evaluation.heads.values():
        assert len(head.worst) == 4
        assert [w.name for w in head.worst] == [f"img_{w.row:03d}.png" for w in head.worst]
        assert f"({head.worst[0].name}):" in "\n".join(head.lines())
    assert 5 not in [w.row for w in evaluation.heads["shape"].worst]  # no label, no error
