"""Rows without a label for a head add nothing to that head's loss, per-output and joint."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mogui.core.project import HeadSpec
from mogui.core.tasks import Task
from mogui.engine.data import load_data
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import missing_rows, prepare_masked_targets, split_missing
from mogui.engine.losses import make_training_model
from mogui.engine.losses.dry_run import dry_run
from mogui.engine.training import run_training
from tests.engine.data_builders import (
    JOINT_PER_SAMPLE,
    JOINT_WITH_MASK,
    csv_source,
    table_project,
    write_npz,
    write_table,
)

MISSING_SIZE = (0, 3, 4, 9, 17, 30, 33)
MISSING_KIND = (1, 3, 12, 31, 35)


def _head(task: Task, units: int = 1) -> HeadSpec:
    return HeadSpec(name="h", task=task, units=units)


def test_missing_label_conventions():
    floats = np.array([[0.5], [np.nan], [2.0]], dtype=np.float32)
    assert missing_rows(_head(Task.REGRESSION), floats).tolist() == [False, True, False]
    ids = np.array([2, -1, 0])
    assert missing_rows(_head(Task.MULTICLASS, 3), ids).tolist() == [False, True, False]
    assert not missing_rows(_head(Task.REGRESSION), ids).any()
    one_hot = np.array([[0, 1], [-1, -1]])
    assert missing_rows(_head(Task.MULTICLASS_ONEHOT, 2), one_hot).tolist() == [False, True]


def test_masked_rows_get_valid_placeholders_and_zero_weight():
    project = table_project()
    project.heads.append(HeadSpec(name="onehot", task=Task.MULTICLASS_ONEHOT, units=3))
    y = {"size": np.array([[1.5], [np.nan]], dtype=np.float32),
         "kind": np.array([[-1], [2]], dtype=np.int32),
         "onehot": np.array([[np.nan] * 3, [0, 0, 1]], dtype=np.float32)}
    filled, weights = split_missing(project, y)
    assert filled["size"].tolist() == [[1.5], [0.0]]
    assert filled["kind"].tolist() == [[0], [2]]
    assert filled["onehot"].tolist() == [[1, 0, 0], [0, 0, 1]]
    assert {k: w.tolist() for k, w in weights.items()} == {
        "size": [1.0, 0.0], "kind": [0.0, 1.0], "onehot": [0.0, 1.0]}
    targets, _ = prepare_masked_targets(project, y)
    assert all(np.isfinite(t).all() for t in targets.values())


def _labelled(data: Dataset, head: str) -> np.ndarray:
    target = data.y[head]
    return ~(np.isnan(target).any(axis=1) if target.dtype.kind == "f"
             else (target == -1).all(axis=1))


def _hand_losses(model: keras.Model, data: Dataset) -> dict[str, float]:
    """Mean squared error and crossentropy over each head's labelled rows only."""
    pred = model.predict(data.x, verbose=0)
    size_rows, kind_rows = _labelled(data, "size"), _labelled(data, "kind")
    err = (pred["size"][size_rows, 0] - data.y["size"][size_rows, 0]) ** 2
    labels = data.y["kind"][kind_rows, 0].astype(int)
    probs = np.clip(pred["kind"][kind_rows], 1e-7, 1 - 1e-7)
    ce = -np.log(probs[np.arange(len(labels)), labels])
    return {"size": float(err.mean()), "kind": float(ce.mean())}


def _initial_model(project) -> keras.Model:
    """The model run_training starts from: same seed, same initial weights."""
    keras.utils.set_random_seed(project.training.seed)
    return make_training_model(project)


@pytest.mark.parametrize("source", ["npz", "csv", "csv_streamed"])
def test_per_output_losses_average_over_labelled_rows_only(tmp_path, source):
    if source == "npz":
        write_npz(tmp_path, 40, missing_size=MISSING_SIZE, missing_kind=MISSING_KIND)
        project = table_project()
    else:
        path = write_table(tmp_path, 40, missing_size=MISSING_SIZE, missing_kind=MISSING_KIND)
        project = table_project(csv_source(path, chunk_rows=16,
                                           streaming="always" if source == "csv_streamed"
                                           else "never"))
    project.training.shuffle = False
    data = load_data(project, tmp_path)
    in_memory = data if isinstance(data, Dataset) else data.take(40)
    train, val = in_memory.split(0.25, project.training.seed)
    before = _hand_losses(_initial_model(project), train)

    logs = _train_and_check_head_losses(project, data, val, before)
    assert logs["loss"] == pytest.approx(before["size"] + before["kind"], rel=1e-4)


def _train_and_check_head_losses(project, data, val, before) -> dict[str, float]:
    """Train one epoch; first-epoch train logs equal ``before``, val logs the trained model's."""
    result = run_training(project, data, lambda _event: None)
    logs = {k: v[0] for k, v in result.history.items()}
    after = _hand_losses(result.model, val)
    assert logs["size_loss"] == pytest.approx(before["size"], rel=1e-4)
    assert logs["kind_loss"] == pytest.approx(before["kind"], rel=1e-4)
    assert logs["val_size_loss"] == pytest.approx(after["size"], rel=1e-4)
    assert logs["val_kind_loss"] == pytest.approx(after["kind"], rel=1e-4)
    return logs


def test_joint_terms_average_over_labelled_rows_only(tmp_path):
    write_npz(tmp_path, 40, missing_size=MISSING_SIZE, missing_kind=MISSING_KIND)
    project = table_project()
    project.loss_mode = "joint"
    project.joint_loss.source = JOINT_PER_SAMPLE
    data = load_data(project, tmp_path)
    train, val = data.split(0.25, project.training.seed)
    before = _hand_losses(_initial_model(project), train)

    _train_and_check_head_losses(project, data, val, before)


def test_joint_function_can_take_the_masks(tmp_path):
    write_npz(tmp_path, 40, missing_size=MISSING_SIZE)
    project = table_project()
    project.loss_mode = "joint"
    project.joint_loss.source = JOINT_WITH_MASK
    data = load_data(project, tmp_path)
    _train, val = data.split(0.25, project.training.seed)
    result = run_training(project, data, lambda _event: None)
    assert result.history["val_loss"][0] == pytest.approx(
        _hand_losses(result.model, val)["size"], rel=1e-4)


@pytest.mark.parametrize("mode", ["per_output", "joint"])
def test_dry_run_reports_labelled_rows_and_masked_values(tmp_path, mode):
    write_npz(tmp_path, 40, missing_size=MISSING_SIZE, missing_kind=MISSING_KIND)
    project = table_project()
    if mode == "joint":
        project.loss_mode = "joint"
        project.joint_loss.source = JOINT_PER_SAMPLE
    data = load_data(project, tmp_path)
    model = _initial_model(project)
    report = dry_run(project, data, batch_size=20, model=model)
    rows = {h.head: h.labelled for h in report.heads}
    assert rows == {"size": 20 - 5, "kind": 20 - 3}
    hand = _hand_losses(model, data.take(20))
    values = {h.head: h.value for h in report.heads}
    assert values["size"] == pytest.approx(hand["size"], rel=1e-4)
    assert values["kind"] == pytest.approx(hand["kind"], rel=1e-4)
    assert "15 of 20 rows labelled" in "\n".join(report.lines())


def test_mean_baseline_skips_unlabelled_rows():
    from mogui.engine.data import predict_mean_baseline

    data = Dataset(x={}, y={"size": np.array([[1.0], [np.nan], [3.0]], dtype=np.float32),
                            "kind": np.array([[0], [-1], [2]], dtype=np.int32)})
    baseline = predict_mean_baseline(data, data, table_project())
    assert baseline["size"] == pytest.approx(1.0)
    assert baseline["kind"] == pytest.approx(np.log(2))
