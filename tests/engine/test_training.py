"""The training runner: events, determinism, stop/pause from another thread, files, precision."""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from time import perf_counter as real_clock
from types import SimpleNamespace
from typing import Any

import keras
import pytest

from mogui.core.errors import TrainingError
from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    StateChanged,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from mogui.core.io import example_path, load_example
from mogui.core.project import LayerSpec, Project
from mogui.engine.data import load_data
from mogui.engine.training import TrainingControl, run_training, write_history_csv
from mogui.engine.training import progress as progress_module
from tests.event_log import EventLog


def tiny(project: Project, samples: int = 64) -> Project:
    """The demo with a very small trunk and no hidden head layers: trains in about a second."""
    project.data.samples = samples
    project.trunk = [
        LayerSpec(name="conv", kind="Conv2D",
                  params={"filters": 4, "kernel_size": 3, "activation": "relu"}),
        LayerSpec(name="pool", kind="MaxPooling2D", params={"pool_size": 4}),
        LayerSpec(name="flatten", kind="Flatten"),
        LayerSpec(name="dense", kind="Dense", params={"units": 8, "activation": "relu"}),
    ]
    for head in project.heads:
        head.layers = []
    return project


class ThreadedRun:
    """Runs ``run_training`` on a worker thread, recording events with their arrival time."""

    def __init__(self, project: Project, control: TrainingControl, epochs: int,
                 on_event: Callable[[Any], None] | None = None) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()
        self.first_batch = threading.Event()
        self.on_event = on_event
        self.result = None
        self.policy_after = ""
        self.error: BaseException | None = None
        data = load_data(project)
        self.thread = threading.Thread(
            target=self._run, args=(project, data, control, epochs), daemon=True)

    def _report(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)
        if isinstance(event, BatchEnded):
            self.first_batch.set()
        if self.on_event is not None:
            self.on_event(event)

    def _run(self, project, data, control, epochs) -> None:
        try:
            self.result = run_training(project, data, self._report, control, epochs=epochs)
            self.policy_after = keras.config.dtype_policy().name
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def batches(self) -> int:
        with self.lock:
            return sum(isinstance(e, BatchEnded) for e in self.events)

    def start(self) -> ThreadedRun:
        self.thread.start()
        return self

    def join(self, timeout: float = 120.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "training did not finish"
        if self.error is not None:
            raise self.error


def test_events_come_in_order_with_per_head_logs(demo_project):
    project = tiny(demo_project)
    log = EventLog()
    result = run_training(project, load_data(project), log, epochs=2)

    started = log.events[0]
    assert isinstance(started, TrainingStarted)
    assert started.heads == ("bbox", "classification")
    assert started.train_samples == 51 and started.val_samples == 13
    assert started.steps_per_epoch == 4 and started.epochs == 2
    assert started.device == result.device
    assert isinstance(log.events[-1], TrainingFinished)

    batches, epochs = log.of(BatchEnded), log.of(EpochEnded)
    assert [(b.epoch, b.batch) for b in batches] == [(e, b) for e in range(2) for b in range(4)]
    assert all(b.samples_per_second > 0 and b.steps_per_epoch == 4 for b in batches)
    assert all({"loss", "bbox_loss", "classification_loss"} <= set(b.logs) for b in batches)
    elapsed = [b.elapsed for b in batches]
    assert elapsed == sorted(elapsed)
    # each epoch's EpochEnded follows its last batch
    kinds = [type(e).__name__ for e in log.events[1:-1]]
    assert kinds == (["BatchEnded"] * 4 + ["EpochEnded"]) * 2
    expected = {"loss", "bbox_loss", "classification_loss", "bbox_mae",
                "classification_sparse_categorical_accuracy"}
    for epoch in epochs:
        assert expected | {f"val_{k}" for k in expected} <= set(epoch.logs)
        assert all(isinstance(v, float) for v in epoch.logs.values())

    finished = log.events[-1]
    assert finished.history == result.history and finished.epochs_run == 2
    assert not finished.stopped and not result.stopped
    assert result.history["val_bbox_loss"] == [e.logs["val_bbox_loss"] for e in epochs]
    assert isinstance(result.model, keras.Model)


@pytest.mark.slow
def test_same_seed_gives_an_identical_history(demo_project):
    project = tiny(demo_project)
    data = load_data(project)
    first = run_training(project, data, EventLog(), epochs=2).history
    second = run_training(project, data, EventLog(), epochs=2).history
    assert first == second
    project.training.seed = 1
    other = run_training(project, data, EventLog(), epochs=2).history
    assert other["loss"] != first["loss"]


def test_two_inputs_and_a_head_without_target_or_loss():
    project = load_example("multi_input")
    data = load_data(project, example_path("multi_input").parent).take(80)
    del data.y["alarm"]
    project.head("alarm").loss.enabled = False
    project.head("alarm").loss.metrics = []
    log = EventLog()
    result = run_training(project, data, log, epochs=1)
    started = log.of(TrainingStarted)[0]
    assert started.heads == ("temperature", "tags") and started.val_samples == 16
    assert {"temperature_loss", "tags_loss", "val_tags_loss"} <= set(result.history)
    assert not any(key.startswith(("alarm", "val_alarm")) for key in result.history)
    prediction = result.model.predict(
        {name: data.x[name][:2] for name in project.input_names}, verbose=0)
    assert prediction["alarm"].shape == (2, 1)


def test_stop_from_another_thread_ends_within_one_batch(demo_project):
    project = tiny(demo_project, samples=128)
    project.training.batch_size = 8
    control = TrainingControl()
    run = ThreadedRun(project, control, epochs=50).start()
    assert run.first_batch.wait(60)
    control.stop()
    at_stop = run.batches()
    run.join()
    assert run.batches() - at_stop <= 1
    assert run.result.stopped and run.result.epochs_run < 50
    assert isinstance(run.events[-1], TrainingFinished) and run.events[-1].stopped
    assert StateChanged("stopping") in run.events


def test_stop_during_a_batch_report_is_the_last_batch(demo_project):
    project = tiny(demo_project)
    control = TrainingControl()

    def stop_at_third_batch(event: Any) -> None:
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (0, 2):
            control.stop()

    run = ThreadedRun(project, control, epochs=5, on_event=stop_at_third_batch).start()
    run.join()
    batches = [(e.epoch, e.batch) for e in run.events if isinstance(e, BatchEnded)]
    assert batches == [(0, 0), (0, 1), (0, 2)]
    # the interrupted epoch does not count: no epoch ended, no history, no model saved
    assert not [e for e in run.events if isinstance(e, EpochEnded)]
    assert run.result.stopped and run.result.epochs_run == 0
    assert all(values == [] for values in run.result.history.values())


def test_stop_before_start_trains_no_batch(demo_project):
    project = tiny(demo_project)
    control = TrainingControl()
    control.stop()
    log = EventLog()
    result = run_training(project, load_data(project), log, control, epochs=3)
    assert len(log.of(BatchEnded)) <= 1
    assert result.stopped and result.epochs_run == len(result.history.get("loss", []))
    assert isinstance(log.events[0], TrainingStarted)
    assert isinstance(log.events[-1], TrainingFinished) and log.events[-1].stopped


def test_pause_blocks_training_until_resume(demo_project, monkeypatch):
    project = tiny(demo_project)
    control = TrainingControl()
    paused = threading.Event()
    # The training clock jumps 100 s while paused: time that elapsed must leave out.
    offset = [0.0]
    clock = SimpleNamespace(perf_counter=lambda: real_clock() + offset[0])
    monkeypatch.setattr(progress_module, "time", clock)

    def note_pause(event: Any) -> None:
        if event == StateChanged("paused"):
            paused.set()

    run = ThreadedRun(project, control, epochs=3, on_event=note_pause).start()
    assert run.first_batch.wait(60)
    control.pause()
    assert control.paused
    assert paused.wait(30)
    held = run.batches()
    run.thread.join(0.5)  # a paused run neither ends nor trains meanwhile
    assert run.batches() == held and run.thread.is_alive()
    offset[0] += 100.0  # while the run waits for resume
    control.resume()
    run.join()
    states = [e.state for e in run.events if isinstance(e, StateChanged)]
    assert states == ["paused", "running"]
    assert run.result.epochs_run == 3 and not run.result.stopped
    assert run.batches() == 12
    # Elapsed time (and so the ETA) leaves the pause out, with the 100 s the clock jumped.
    kinds = [type(e).__name__ for e in run.events]
    at = kinds.index("StateChanged")
    before = next(e for e in reversed(run.events[:at]) if isinstance(e, BatchEnded))
    after = next(e for e in run.events[at:] if isinstance(e, BatchEnded))
    assert 0 <= after.elapsed - before.elapsed < 100.0


def test_stop_wakes_a_paused_run(demo_project):
    project = tiny(demo_project)
    control = TrainingControl()
    paused = threading.Event()

    def note_pause(event: Any) -> None:
        if event == StateChanged("paused"):
            paused.set()

    run = ThreadedRun(project, control, epochs=3, on_event=note_pause).start()
    assert run.first_batch.wait(60)
    control.pause()
    assert paused.wait(30)  # the run holds after a batch
    control.stop()
    run.join(60)
    assert not run.thread.is_alive()
    assert run.result.stopped and run.result.epochs_run < 3
    assert run.result.epochs_run == len(run.result.history["loss"])


def test_history_csv_model_and_checkpoint_files(demo_project, tmp_path):
    project = tiny(demo_project)
    project.training.checkpointing.enabled = True
    run_training(project, load_data(project), EventLog(), epochs=2, out_dir=tmp_path)

    with open(tmp_path / "history.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:7] == ["epoch", "loss", "bbox_loss", "classification_loss", "val_loss",
                           "val_bbox_loss", "val_classification_loss"]
    metrics = rows[0][7:]
    assert {"bbox_mae", "classification_sparse_categorical_accuracy"} <= set(metrics)
    assert metrics.index("bbox_mae") < metrics.index("val_bbox_mae")
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert all(float(v) >= 0 for v in rows[1][1:])
    assert (tmp_path / "model.keras").is_file() and (tmp_path / "checkpoint.keras").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.output_names == ["bbox", "classification"]


def test_write_history_csv_orders_columns(tmp_path):
    history = {"val_b_mae": [0.5], "b_mae": [0.4], "val_loss": [2.0], "a_loss": [1.0],
               "loss": [3.0], "b_loss": [2.0], "val_a_loss": [1.5], "val_b_loss": [0.5]}
    write_history_csv(history, tmp_path / "h.csv", ["b", "a"])
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == ("epoch,loss,b_loss,a_loss,val_loss,val_b_loss,val_a_loss,b_mae,"
                        "val_b_mae")
    assert lines[1] == "1,3.0,2.0,1.0,2.0,0.5,1.5,0.4,0.5"


def test_mixed_precision_reaches_the_worker_thread_and_stays_there(demo_project):
    project = tiny(demo_project)
    project.training.mixed_precision = True
    seen: dict[str, str] = {}

    def look(event: Any) -> None:
        if isinstance(event, TrainingStarted):
            seen["worker_during"] = keras.config.dtype_policy().name

    run = ThreadedRun(project, TrainingControl(), epochs=1, on_event=look).start()
    run.first_batch.wait(60)
    seen["main_during"] = keras.config.dtype_policy().name
    run.join()
    model = run.result.model
    assert seen == {"worker_during": "mixed_float16", "main_during": "float32"}
    assert model.get_layer("conv").compute_dtype == "float16"
    assert model.get_layer("conv").variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    assert run.policy_after == "float32"  # put back in the worker thread too
    project.training.mixed_precision = False
    plain = run_training(project, load_data(project), EventLog(), epochs=1)
    assert plain.model.get_layer("conv").compute_dtype == "float32"


def test_checkpoint_on_validation_without_validation_data_fails_plainly(demo_project, tmp_path):
    project = tiny(demo_project)
    project.training.validation_split = 0.0
    project.training.checkpointing.enabled = True
    log = EventLog()
    with pytest.raises(TrainingError, match="no validation data"):
        run_training(project, load_data(project), log, epochs=1, out_dir=tmp_path)
    failed = log.of(TrainingFailed)
    assert len(failed) == 1 and "validation split" in failed[0].message
    assert failed[0].details == ""  # a user error: no traceback behind "Show Details"


def test_unexpected_errors_are_reported_and_wrapped(demo_project):
    project = tiny(demo_project)
    log = EventLog()

    def broken(event: Any) -> None:
        log(event)
        if isinstance(event, BatchEnded):
            raise RuntimeError("listener broke")

    with pytest.raises(TrainingError, match="RuntimeError: listener broke") as info:
        run_training(project, load_data(project), broken, epochs=1)
    assert isinstance(info.value.__cause__, RuntimeError)
    failed = log.of(TrainingFailed)
    assert len(failed) == 1 and "listener broke" in failed[0].details


def test_a_nan_loss_stops_training_with_a_plain_message(demo_project):
    from mogui.core.errors import TrainingError
    from mogui.core.events import TrainingFailed
    from mogui.engine.data import load_data
    from mogui.engine.training import run_training

    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = (
        "def loss(y_true, y_pred):\n    return ops.log(ops.mean(y_pred, axis=-1) - 2.0)\n")
    log = EventLog()
    with pytest.raises(TrainingError, match=r"became nan at epoch 1, batch 1 \(head: bbox\)"):
        run_training(demo_project, load_data(demo_project), log, epochs=3)
    assert "Lower the learning rate" in log.of(TrainingFailed)[0].message


def test_log_keys_are_what_keras_logs(demo_project):
    from mogui.core.log_keys import log_keys, weight_keys

    result = run_training(demo_project, load_data(demo_project), EventLog(), epochs=1)
    keys = log_keys(demo_project)
    assert set(result.history) == set(keys) | {f"val_{k}" for k in keys} | set(
        weight_keys(demo_project))
