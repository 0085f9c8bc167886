"""Epoch figures mean what they say: a new batch order every epoch, and per-head losses that add
up to ``loss`` when the last batch is short, checked against NumPy."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from mogui.core.events import BatchEnded
from mogui.core.project import HeadSpec, InputSpec, LayerSpec, Project
from mogui.engine.data import Dataset
from mogui.engine.plain_keras.batches import epoch_batches
from mogui.engine.training import run_training

#: 70 rows, a quarter for validation: 52 training rows in batches of 16 (the last one holds 4)
#: and 18 validation rows (16 + 2).
ROWS, BATCH = 70, 16
#: So small that no weight changes in float32: the model is the same for every batch.
FROZEN = 1e-30


def _project(mode: str = "per_output", learning_rate: float = FROZEN, shuffle: bool = True,
             seed: int = 3) -> Project:
    project = Project(
        name="numbers",
        inputs=[InputSpec(name="x", shape=[3])],
        trunk=[LayerSpec(name="hidden", kind="Dense", params={"units": 8, "activation": "tanh"})],
        heads=[HeadSpec(name="size", task="regression", units=1, loss={"weight": 0.7}),
               HeadSpec(name="level", task="regression", units=2, loss={"weight": 2.5})],
        training={"batch_size": BATCH, "epochs": 1, "validation_split": 0.25, "seed": seed,
                  "learning_rate": learning_rate, "optimizer": "sgd", "shuffle": shuffle},
        data={"kind": "npz", "path": "unused.npz"})
    if mode == "joint":
        project.loss_mode = "joint"
        project.joint_loss.source = (
            "from keras import ops\n\n\n"
            "def loss(y_true, y_pred):\n"
            "    return {head: ops.mean(ops.square(y_true[head] - y_pred[head]), axis=-1)\n"
            "            for head in y_pred}\n")
        project.joint_loss.term_weights = {"size": 0.7, "level": 2.5}
    return project


def _data(missing: tuple[int, ...] = ()) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 3)).astype("float32")
    size = (x @ np.array([[0.5], [-1.0], [2.0]]) + 3.0).astype("float32")
    level = np.stack([x[:, 0] * 4.0, x[:, 1] - 2.0], axis=1).astype("float32")
    size[list(missing)] = np.nan
    return Dataset(x={"x": x}, y={"size": size, "level": level})


def _train(project: Project, data: Dataset, epochs: int = 1):
    events: list[object] = []
    result = run_training(project, data, events.append, epochs=epochs)
    return result, events


def _batch_losses_per_epoch(events: list[object], epochs: int) -> list[list[float]]:
    batches = [e for e in events if isinstance(e, BatchEnded)]
    per_epoch: list[list[float]] = [[] for _ in range(epochs)]
    for event in batches:
        per_epoch[event.epoch].append(round(float(event.logs["loss"]), 6))
    return per_epoch


def test_epoch_batches_visit_every_row_in_a_new_order_each_epoch_repeatably():
    x = {"x": np.arange(10, dtype="float32")[:, None]}
    y = {"h": np.zeros((10, 1), "float32")}
    w = {"h": np.ones(10, "float32")}

    def orders(seed, shuffle=True):
        batches = epoch_batches(x, y, w, 4, seed, shuffle=shuffle)
        return [[b[0]["x"].numpy().ravel().astype(int).tolist() for b in batches]
                for _ in range(3)]

    first = orders(seed=1)
    for epoch in first:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(sum(epoch, [])) == list(range(10))
    flat = [sum(epoch, []) for epoch in first]
    assert flat[0] != flat[1] and flat[1] != flat[2], "an epoch repeated the previous order"
    assert orders(seed=1) == first, "the same seed must give the same orders"
    assert orders(seed=2) != first
    assert orders(seed=1, shuffle=False) == [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]] * 3


def test_training_reshuffles_every_epoch_and_repeats_with_the_seed():
    """With frozen weights, the same batch order gives the same per-batch losses."""
    project = _project()
    result, events = _train(project, _data(), epochs=3)
    assert result.epochs_run == 3
    epochs = _batch_losses_per_epoch(events, 3)
    assert len(epochs[0]) == 4
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2], "batches repeated their order"
    again = _batch_losses_per_epoch(_train(_project(), _data(), epochs=3)[1], 3)
    assert again == epochs
    project.training.shuffle = False
    unshuffled = _batch_losses_per_epoch(_train(project, _data(), epochs=3)[1], 3)
    assert unshuffled[0] == unshuffled[1] == unshuffled[2]


def _rows_of(result, project: Project, data: Dataset):
    """Training and validation rows in the split's order (shared with the script)."""
    from mogui.engine.plain_keras.split import split_rows

    train, val = split_rows(ROWS, project.training.validation_split, project.training.seed)
    predictions = result.model.predict(data.x, verbose=0)
    return train, val, predictions


def _squared_error(predictions, data: Dataset, head: str) -> np.ndarray:
    """Per-row mean squared error of a head (NaN where the row has no label)."""
    return np.mean((np.asarray(predictions[head]) - data.y[head]) ** 2, axis=1)


def _batched_mean(errors: np.ndarray, batch: int) -> float:
    """Mean over batches of each batch's mean over labelled rows, weighted by batch size."""
    total = 0.0
    for start in range(0, len(errors), batch):
        part = errors[start:start + batch]
        labelled = part[~np.isnan(part)]
        total += len(part) * (labelled.mean() if len(labelled) else 0.0)
    return total / len(errors)


@pytest.mark.parametrize("mode", ["per_output", "joint"])
def test_head_losses_are_sample_weighted_and_add_up_to_the_loss(mode):
    project = _project(mode)
    data = _data()
    result, _ = _train(project, data)
    logs = {key: values[0] for key, values in result.history.items()}
    train, val, predictions = _rows_of(result, project, data)
    weights = {"size": 0.7, "level": 2.5}
    for prefix, rows in (("", train), ("val_", val)):
        for head in weights:
            # No label is missing: every batch's mean, weighted by its size, is the plain mean.
            expected = _squared_error(predictions, data, head)[rows].mean()
            assert logs[f"{prefix}{head}_loss"] == pytest.approx(expected, rel=1e-5)
        summed = sum(w * logs[f"{prefix}{h}_loss"] for h, w in weights.items())
        assert logs[f"{prefix}loss"] == pytest.approx(summed, rel=1e-6)


def test_masked_head_losses_weigh_each_batch_by_its_rows():
    """Rows without a label count nowhere within their batch; batches weigh by their size."""
    project = _project(shuffle=False)
    data = _data(missing=(1, 5, 8, 30, 44, 61, 62, 63, 69))
    result, _ = _train(project, data)
    logs = {key: values[0] for key, values in result.history.items()}
    train, val, predictions = _rows_of(result, project, data)
    errors = _squared_error(predictions, data, "size")
    assert np.isnan(errors[val]).any() and np.isnan(errors[train]).any()
    assert logs["size_loss"] == pytest.approx(_batched_mean(errors[train], BATCH), rel=1e-5)
    assert logs["val_size_loss"] == pytest.approx(_batched_mean(errors[val], BATCH), rel=1e-5)
    for prefix in ("", "val_"):
        summed = 0.7 * logs[f"{prefix}size_loss"] + 2.5 * logs[f"{prefix}level_loss"]
        assert logs[f"{prefix}loss"] == pytest.approx(summed, rel=1e-6)


def test_losses_add_up_while_the_weights_change():
    """A real learning rate: the figures still add up over an epoch with a short last batch."""
    project = _project(learning_rate=0.05)
    result, _ = _train(project, _data(missing=(2, 3, 40)), epochs=2)
    for epoch in range(2):
        logs = {key: values[epoch] for key, values in result.history.items()}
        for prefix in ("", "val_"):
            summed = 0.7 * logs[f"{prefix}size_loss"] + 2.5 * logs[f"{prefix}level_loss"]
            assert logs[f"{prefix}loss"] == pytest.approx(summed, rel=1e-6)


def test_a_stop_inside_an_epoch_keeps_exactly_the_complete_epochs(tmp_path):
    """Stopped in epoch 2: history, files and weights are those of epoch 1, nothing after."""
    import keras

    from mogui.core.events import EpochEnded
    from mogui.engine.training import TrainingControl, read_history_csv

    project = _project(learning_rate=0.05)
    control = TrainingControl()
    events: list[object] = []

    def report(event: object) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == (1, 1):
            control.stop()

    stopped = run_training(project, _data(), report, control, epochs=4, out_dir=tmp_path / "run",
                           save_each_epoch=True)
    assert stopped.stopped and stopped.epochs_run == 1
    assert all(len(values) == 1 for values in stopped.history.values())
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0]
    assert len(read_history_csv(tmp_path / "run" / "history.csv")["loss"]) == 1
    # Run files are readable as any new file of the user's (not a temporary's 0600).
    umask = os.umask(0)
    os.umask(umask)
    for name in ("history.csv", "model.keras"):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o666 & ~umask

    one_epoch = run_training(_project(learning_rate=0.05), _data(), lambda _e: None, epochs=1)
    assert stopped.history["loss"] == pytest.approx(one_epoch.history["loss"], rel=1e-6)
    saved = keras.saving.load_model(tmp_path / "run" / "model.keras")
    for kept, reference in zip(saved.get_weights(), one_epoch.model.get_weights(), strict=True):
        np.testing.assert_allclose(kept, reference, rtol=1e-6, atol=1e-7)
    for kept, reference in zip(stopped.model.get_weights(), one_epoch.model.get_weights(),
                               strict=True):
        np.testing.assert_allclose(kept, reference, rtol=1e-6, atol=1e-7)


def test_a_stop_inside_the_first_epoch_writes_no_model(tmp_path):
    from mogui.engine.training import TrainingControl

    control = TrainingControl()

    def report(event: object) -> None:
        if isinstance(event, BatchEnded) and event.batch == 1:
            control.stop()

    result = run_training(_project(learning_rate=0.05), _data(), report, control, epochs=3,
                          out_dir=tmp_path / "run")
    assert result.stopped and result.epochs_run == 0 and result.history["loss"] == []
    assert not (tmp_path / "run" / "model.keras").exists()


def test_sample_weights_are_passed_only_when_some_label_is_missing():
    from mogui.engine.plain_keras.batches import needed_weights

    full = {"a": np.ones(5, "float32"), "b": np.ones(5, "float32")}
    assert needed_weights(full) is None
    holey = {"a": np.ones(5, "float32"), "b": np.array([1, 0, 1, 1, 1], "float32")}
    assert needed_weights(holey) is holey
    batch = next(iter(epoch_batches({"x": np.zeros((5, 1))}, {"a": np.zeros((5, 1))}, None, 2,
                                    seed=0)))
    assert len(batch) == 2  # (x, y): no weights to gather or reduce
