"""Loss weights edited while a run is paused: editable only then, sent to the run at Resume,
and shown where they took effect; the Weights view plots each head's weight per epoch."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from mogui.core.events import BatchEnded, EpochEnded, LossWeightsChanged
from mogui.core.head_palette import head_colours
from mogui.qt.document import ProjectDocument
from mogui.qt.training_panel import TrainingPanel
from mogui.qt.training_worker import TrainingWorker
from mogui.qt.weight_view import WeightView, describe_change

pytestmark = pytest.mark.gui

HEADS = ("box", "kind")


@pytest.fixture
def view(qtbot):
    widget = WeightView()
    qtbot.addWidget(widget)
    widget.show()
    widget.reset(HEADS, 4, head_colours(HEADS), {"box": 2.0, "kind": 1.0})
    return widget


def test_weights_are_plotted_per_epoch_from_the_logs_or_the_project(view):
    view.add_epoch(EpochEnded(0, {"box_loss": 1.0, "kind_loss": 1.0}, 1.0))  # none logged
    view.add_epoch(EpochEnded(1, {"weight_box": 0.5, "weight_kind": 1.0}, 2.0))
    assert view.weights("box") == [2.0, 0.5] and view.weights("kind") == [1.0, 1.0]
    assert view.table.item(0, 1).text() == "0.5"  # the Now column
    x, y = view._curves["box"].getData()
    assert list(x) == [1.0, 2.0] and list(y) == [2.0, 0.5]


def test_editable_only_while_paused(view):
    box = view.box("box")
    assert not view.editable and not box.isEnabled()
    assert "Pause the run" in view.note.text()
    box.setValue(5.0)  # typed by a script while running: nothing is pending
    assert view.pending() == {}
    view.set_paused(True)
    assert box.isEnabled() and box.value() == 2.0  # the run's weight again
    box.setValue(0.25)
    assert view.pending() == {"box": 0.25}
    assert "1 weight changed" in view.note.text()
    assert view.findChild(QPushButton, "revertWeights").isEnabled()
    view.revert()
    assert view.pending() == {} and box.value() == 2.0
    box.setValue(0.25)
    view.set_paused(False)  # resumed without sending: the edit is dropped
    assert not box.isEnabled() and box.value() == 2.0 and view.pending() == {}


def test_the_weight_edited_is_the_heads_own_not_the_one_in_effect(view):
    """A schedule or balancing method multiplies the head's own weight: the run logs the
    product (Now); an edit sets the head's own weight."""
    view.add_batches([BatchEnded(0, 3, 8, {"weight_box": 0.4, "weight_kind": 1.0}, 1.0, 1.0)])
    assert view.table.item(0, 1).text() == "0.4"  # box: 2 × 0.2 in a warm-up, say
    view.set_paused(True)
    assert view.box("box").value() == 2.0 and view.pending() == {}
    view.box("box").setValue(3.0)
    assert view.pending() == {"box": 3.0}
    view.mark_change(LossWeightsChanged(0, 4, {"box": 3.0}), 8)
    assert view.base() == {"box": 3.0, "kind": 1.0}
    assert view.current()["box"] == 0.4  # until the run logs the weight in effect


def test_a_change_is_marked_and_listed(view):
    view.set_paused(True)
    view.box("box").setValue(0.25)
    line = view.mark_change(LossWeightsChanged(1, 3, {"box": 0.25}), 8)
    assert line == "Epoch 2, batch 4: box 2 → 0.25"
    assert view.base() == {"box": 0.25, "kind": 1.0} and view.pending() == {}
    assert view.marker_positions() == pytest.approx([1.5 + 3 / 8])
    assert "Epoch 2, batch 4: box 2 → 0.25" in view.changes_label.text()
    assert describe_change(LossWeightsChanged(0, 0, {"new": 3.0}), {}) == \
        "Epoch 1, batch 1: new 3"


def test_the_worker_sends_weights_only_while_paused(qtbot, monkeypatch):
    worker = TrainingWorker()
    sent: list = []
    monkeypatch.setattr(worker._runner, "command", sent.append)
    assert not worker.set_loss_weights({"box": 0.5})  # no run
    assert sent == []


# -- a real run ---------------------------------------------------------------------------

@pytest.fixture
def panel(qtbot, demo_project):
    demo_project.training.batch_size = 4
    demo_project.training.epochs = 3
    widget = TrainingPanel(ProjectDocument(demo_project))
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    widget.shutdown()


@pytest.mark.slow
def test_weights_edited_in_a_pause_are_sent_at_resume(qtbot, panel, monkeypatch):
    """Pause a real run of the demo, edit a weight, resume: the child is sent the weights
    before it is told to resume, applies them from the next batch and says so; the views mark
    the change and the history has the new weight from then on."""
    runner = panel.worker._runner
    commands: list = []
    send = runner.command

    def record(command) -> None:  # noqa: ANN001
        commands.append(command)
        send(command)

    monkeypatch.setattr(runner, "command", record)
    editable_while_running: list[bool] = []
    changes: list[LossWeightsChanged] = []
    panel.worker.weights_changed.connect(changes.append)
    seen: list[tuple[int, int]] = []  # (epoch, batch) of each batch reported
    panel.worker.batches.connect(lambda items: seen.extend((b.epoch, b.batch) for b in items))
    held: list[tuple[int, int]] = []  # the last batch before the pause
    panel.worker.state_changed.connect(
        lambda state: held.append(seen[-1]) if state == "paused" else None)

    def pause_once(_items: list) -> None:
        if not editable_while_running:
            editable_while_running.append(panel.weight_view.box("bbox").isEnabled())
            panel.findChild(QPushButton, "pauseButton").click()

    panel.worker.batches.connect(pause_once)
    qtbot.mouseClick(panel.findChild(QPushButton, "startButton"), Qt.MouseButton.LeftButton)
    resume = panel.findChild(QPushButton, "resumeButton")
    qtbot.waitUntil(resume.isEnabled, timeout=90_000)
    assert editable_while_running == [False]
    box = panel.weight_view.box("bbox")
    assert box.isEnabled() and box.value() == 1.0
    box.setValue(0.25)
    assert panel.weight_view.pending() == {"bbox": 0.25}
    qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    assert commands[-2:] == [("loss_weights", {"bbox": 0.25}), "resume"]
    assert "New loss weights sent for 1 head" in panel.status_label.text()
    qtbot.waitUntil(lambda: not box.isEnabled(), timeout=10_000)  # running again
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    result = panel.worker.last_result
    assert result is not None and not result.stopped
    assert len(changes) == 1 and changes[0].weights == {"bbox": 0.25}
    # Applied from the batch after the one the run paused at.
    assert (changes[0].epoch, changes[0].batch) > held[0]
    assert panel.weight_view.base()["bbox"] == 0.25
    assert len(panel.weight_view.marker_positions()) == 1
    assert len(panel.contributions.marker_positions()) == 1
    assert "bbox 1 → 0.25" in panel.weight_view.changes_label.text()
    # Every epoch's mean weight in effect; the epochs after the change weigh bbox 0.25.
    history = result.history
    assert len(history["weight_bbox"]) == 3
    assert history["weight_bbox"][-1] == pytest.approx(0.25)
    assert history["weight_classification"] == pytest.approx([1.5, 1.5, 1.5])
    assert panel.weight_view.weights("bbox") == pytest.approx(history["weight_bbox"])
    # The run's record keeps the change (1-based epoch and batch).
    record = json.loads((panel.runs.current.folder / "run.json").read_text())
    assert record["weight_changes"] == [{"epoch": changes[0].epoch + 1,
                                         "batch": changes[0].batch + 1,
                                         "weights": {"bbox": 0.25}}]


def test_a_hidden_view_draws_its_curves_when_it_is_shown(qtbot):
    widget = WeightView()
    qtbot.addWidget(widget)
    widget.reset(HEADS, 4, head_colours(HEADS), {"box": 2.0, "kind": 1.0})
    widget.add_epoch(EpochEnded(0, {"weight_box": 0.5, "weight_kind": 1.0}, 1.0))
    assert len(widget._curves["box"].getData()[0] or []) == 0  # hidden: not drawn yet
    assert widget.weights("box") == [0.5]
    widget.show()
    qtbot.waitExposed(widget)
    x, y = widget._curves["box"].getData()
    assert list(x) == [1.0] and list(y) == [0.5]
