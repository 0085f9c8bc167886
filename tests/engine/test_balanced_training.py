"""Balancing the heads in real training runs: every method, live weights, schedules.

Every one of the fourteen methods trains the (shrunk) demo, logs ``weight_<head>`` per epoch
and writes it to ``history.csv``; schedules give their closed-form weights; ``uw`` logs the
``exp(-s)`` of its own variables; weights edited during a pause take effect from the next
batch and are recorded with the run.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.errors import CustomCodeError
from mogui.core.events import BatchEnded, LossWeightsChanged, StateChanged
from mogui.core.project import Balancing, NpzData, Project, WeightSchedule
from mogui.core.run_store import RunRecorder, create_run, load_run
from mogui.core.validation import check_project
from mogui.engine.data import load_data, prepare_masked_targets
from mogui.engine.losses import make_training_model
from mogui.engine.plain_keras.batches import epoch_batches
from mogui.engine.plain_keras.loss_balancing import scheduled_weight
from mogui.engine.training import TrainingControl, read_history_csv, run_training
from tests.engine.data_builders import table_project, write_npz

METHODS = list(BALANCING_METHODS)
#: Rows without a label: a size missing in some batches, a kind missing in others.
MISSING_SIZE = (0, 3, 4, 9, 17, 30)
MISSING_KIND = (5, 6, 7, 20, 33)


def masked_project(folder: Path, method: str = "equal", *, epochs: int = 2,
                   rows: int = 48) -> Project:
    """The small table project (a Dense trunk, a regression and a class head) on an .npz
    with missing labels for both heads; 3 batches of 16 per epoch, no validation."""
    folder.mkdir(parents=True, exist_ok=True)
    write_npz(folder, rows, missing_size=MISSING_SIZE, missing_kind=MISSING_KIND)
    project = table_project(NpzData(path=str(folder / "data.npz")))
    project.training.batch_size = 16
    project.training.epochs = epochs
    project.training.validation_split = 0.0
    project.training.shuffle = False
    project.training.balancing = Balancing(method=method)
    return project


def test_the_catalog_names_the_fourteen_methods():
    assert len(METHODS) == 14 and METHODS[0] == "equal"


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_the_demo_and_writes_weight_columns(method, demo_project,
                                                                tmp_path):
    demo_project.training.balancing = Balancing(method=method)
    result = run_training(demo_project, load_data(demo_project), lambda event: None,
                          out_dir=tmp_path)
    history = read_history_csv(tmp_path / "history.csv")
    heads = ("bbox", "classification")
    for key in ("loss", "val_loss", *(f"{h}_loss" for h in heads)):
        assert math.isfinite(history[key][0]), (method, key)
    weights = [history[f"weight_{h}"][0] for h in heads]
    assert all(math.isfinite(w) for w in weights), (method, weights)
    assert not any(key.startswith("val_weight_") for key in history)
    if method == "equal":
        assert weights == [1.0, 1.5]  # the heads' loss weights
    assert result.epochs_run == 1 and (tmp_path / "model.keras").is_file()


@pytest.mark.parametrize("method", ["uw", "famo", "pcgrad", "nash_mtl"])
def test_masked_labels_and_a_custom_head_loss_train_with_balancing(method, tmp_path):
    project = masked_project(tmp_path, method)
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = (
        "from keras import ops\n\n\ndef loss(y_true, y_pred):\n"
        "    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n")
    result = run_training(project, load_data(project), lambda event: None)
    for key in ("loss", "size_loss", "kind_loss", "weight_size", "weight_kind"):
        assert all(math.isfinite(v) for v in result.history[key]), (method, key)


@pytest.mark.parametrize("method", ["gls", "mgda"])
def test_a_joint_loss_with_terms_is_balanced(method, joint_project):
    joint_project.training.balancing = Balancing(method=method)
    result = run_training(joint_project, load_data(joint_project), lambda event: None)
    assert {"weight_bbox", "weight_classification"} <= set(result.history)
    assert all(math.isfinite(v) for v in result.history["weight_bbox"])


def test_a_joint_loss_returning_one_value_is_refused_with_the_reason(joint_project):
    joint_project.joint_loss.source = (
        "from keras import ops\n\n\ndef loss(y_true, y_pred):\n"
        "    return ops.mean(ops.square(y_true['bbox'] - y_pred['bbox']))\n")
    joint_project.training.balancing = Balancing(method="pcgrad")
    with pytest.raises(CustomCodeError, match="returns one value, but balancing"):
        run_training(joint_project, load_data(joint_project), lambda event: None)


def test_validation_refuses_balancing_one_head_and_gradients_without_a_trunk(tmp_path):
    project = masked_project(tmp_path, "uw")
    project.heads[1].loss.enabled = False
    problems = {p.path: p.message for p in check_project(project)}
    assert "balances two or more heads" in problems["training.balancing.method"]
    project = masked_project(tmp_path, "cagrad")
    project.trunk = []
    for head in project.heads:
        head.source = "x"
    problems = {p.path: p.message for p in check_project(project)}
    assert "no shared layers" in problems["training.balancing.method"]
    project.training.balancing = Balancing(method="gls")
    assert not check_project(project)


def test_schedules_give_their_closed_form_weight_in_every_epoch(tmp_path):
    project = masked_project(tmp_path, epochs=5)
    project.heads[0].loss.weight = 2.0
    project.heads[0].loss.schedule = WeightSchedule(kind="linear_warmup",
                                                    params={"start": 0.5, "warmup": 4})
    project.heads[1].loss.schedule = WeightSchedule(kind="cosine", params={"minimum": 0.2})
    result = run_training(project, load_data(project), lambda event: None)
    # linear warm-up from 0.5 x 2 to 2 over 4 epochs; cosine from 1 to 0.2 x 1 over 5 epochs
    assert result.history["weight_size"] == pytest.approx([1.0, 1.25, 1.5, 1.75, 2.0],
                                                          rel=1e-6)
    cosine = [0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
    assert result.history["weight_kind"] == pytest.approx(cosine, rel=1e-6)
    project.heads[1].loss.schedule = WeightSchedule(kind="step",
                                                    params={"gamma": 0.5, "every": 2})
    result = run_training(project, load_data(project), lambda event: None)
    assert result.history["weight_kind"] == pytest.approx([1, 1, 0.5, 0.5, 0.25], rel=1e-6)
    assert result.history["weight_kind"] == pytest.approx(
        [scheduled_weight("step", 1.0, e, 5, gamma=0.5, every=2) for e in range(5)])


class _LogVariances(keras.callbacks.Callback):
    """Reads ``exp(-s)`` of uw's variables as each batch begins (what the step will use)."""

    def __init__(self) -> None:
        super().__init__()
        self.factors: list[dict[str, float]] = []

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        log_vars = self.model.balancer.log_vars
        self.factors.append({h: math.exp(-float(v.numpy())) for h, v in log_vars.items()})


def test_uw_logs_exp_of_minus_its_log_variances(tmp_path):
    project = masked_project(tmp_path, "uw", epochs=1)
    project.training.learning_rate = 0.05  # the log variances move visibly in 3 steps
    data = load_data(project)
    model = make_training_model(project)
    y, weights = prepare_masked_targets(project, data.y)
    watch = _LogVariances()
    history = model.fit(epoch_batches(data.x, y, weights, 16, 0, shuffle=False), epochs=1,
                        callbacks=[watch], verbose=0, shuffle=False).history
    assert len(watch.factors) == 3
    for head in ("size", "kind"):
        used = [f[head] for f in watch.factors]
        assert len(set(used)) == 3  # s changes every step
        assert history[f"weight_{head}"][0] == pytest.approx(np.mean(used), rel=1e-6)
    log_vars = model.balancer.log_vars
    assert {id(v) for v in log_vars.values()}.isdisjoint(id(w) for w in model.weights)


class _ThreadedRun:
    """``run_training`` in a thread, its events collected."""

    def __init__(self, project: Project, control: TrainingControl, on_event: Any) -> None:
        self.events: list[object] = []
        self.result: Any = None

        def report(event: object) -> None:
            self.events.append(event)
            on_event(event)

        def target() -> None:
            self.result = run_training(project, load_data(project), report, control)

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()


def test_weights_set_during_a_pause_apply_from_the_next_batch_and_are_recorded(tmp_path):
    project = masked_project(tmp_path, epochs=2)
    project.heads[0].loss.weight = 1.0
    run = create_run(project, None, folder=tmp_path / "run")
    recorder = RunRecorder(run)
    control = TrainingControl()
    paused = threading.Event()

    def on_event(event: object) -> None:
        recorder(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (0, 0):
            control.pause()  # holds the run before batch 1
        if event == StateChanged("paused"):
            paused.set()

    threaded = _ThreadedRun(project, control, on_event)
    assert paused.wait(60)
    control.set_loss_weights({"size": 3.0, "no_such_head": 2.0})
    control.resume()
    threaded.thread.join(60)
    assert not threaded.thread.is_alive()
    changes = [e for e in threaded.events if isinstance(e, LossWeightsChanged)]
    assert changes == [LossWeightsChanged(epoch=0, batch=1, weights={"size": 3.0})]
    # Batch 0 trained with 1, batches 1 and 2 with 3; the next epoch with 3 throughout.
    history = threaded.result.history
    assert history["weight_size"] == pytest.approx([(1 + 3 + 3) / 3, 3.0], rel=1e-6)
    assert history["weight_kind"] == pytest.approx([1.0, 1.0])
    record = load_run(run.folder)
    assert record.weight_changes == [{"epoch": 1, "batch": 2, "weights": {"size": 3.0}}]


def test_loss_weights_must_be_numbers_not_below_zero():
    control = TrainingControl()
    for bad in (-1.0, float("nan"), "heavy"):
        with pytest.raises(ValueError, match="must be a number >= 0"):
            control.set_loss_weights({"size": bad})
    control.set_loss_weights({"size": 0.5})
    control.set_loss_weights({"kind": 2})
    assert control.take_loss_weights() == {"size": 0.5, "kind": 2.0}
    assert control.take_loss_weights() == {}
