"""The Gradients view, its settings, and a run in the app with gradient diagnostics on."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QSpinBox

from mogui.core.events import GradientsSampled
from mogui.core.head_palette import head_colours
from mogui.qt.document import ProjectDocument
from mogui.qt.gradient_settings import GradientSettingsGroup
from mogui.qt.gradient_view import COSINE, NORM, TEXT_LIMIT, GradientView
from mogui.qt.loss_curves import classify_key
from mogui.qt.training_panel import TrainingPanel

pytestmark = pytest.mark.gui

HEADS = ("box", "kind", "size")


def sample(step: int, steps: int = 10, scale: float = 1.0,
           cosines: tuple[float, float, float] = (0.5, -0.8, 0.1)) -> GradientsSampled:
    """A sample at ``step``: norms 1, 2, 3 (× ``scale``), layer norms 0.6 and 0.8 of them."""
    norms = {head: scale * (i + 1) for i, head in enumerate(HEADS)}
    return GradientsSampled(
        epoch=step // steps, batch=step % steps, step=step, norms=norms,
        block_norms={head: {"conv": 0.6 * n, "dense": 0.8 * n} for head, n in norms.items()},
        cosines=dict(zip(("box__kind", "box__size", "kind__size"), cosines, strict=True)),
        seconds=0.061, share=0.034)


@pytest.fixture
def view(qtbot):
    widget = GradientView()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    widget.reset(HEADS, 3, head_colours(HEADS), steps_per_epoch=10)
    widget.set_sampling("every 5 steps")
    return widget


def test_the_heatmap_shows_the_last_samples_cosines(view):
    assert "every 5 steps" in view.status_label.text() and not view.cell_texts()
    view.add_sample(sample(0))
    view.add_sample(sample(5, cosines=(0.25, -1.0, math.nan)))
    assert view.rows() == list(HEADS)
    expected = np.array([[1.0, 0.25, -1.0], [0.25, 1.0, np.nan], [-1.0, np.nan, 1.0]])
    np.testing.assert_allclose(view.matrix(), expected)
    assert view.cell_texts() == ["1.00", "0.25", "−1.00", "0.25", "1.00", "–", "−1.00", "–",
                                 "1.00"]
    status = view.status_label.text()
    assert status == ("2 samples, every 5 steps; the heatmap shows the last (epoch 1, batch 6, "
                      "step 5; 61 ms). Sampling has added 3% to the training steps' time.")
    assert view.describe(0, 2) == "box · size: cosine −1.00 at epoch 1, batch 6 (step 5)"
    assert view.image.isVisible()


def test_the_plot_follows_norms_per_layer_and_one_heads_cosines(view):
    for step, scale in ((0, 1.0), (5, 2.0), (10, 4.0)):
        view.add_sample(sample(step, scale=scale))
    assert view.series_names()[:3] == ["Gradient norm: whole trunk", "Gradient norm: layer conv",
                                       "Gradient norm: layer dense"]
    xs, ys = view.series("kind")
    assert xs == [0.0, 0.5, 1.0] and ys == [2.0, 4.0, 8.0]
    view.choose_series(NORM, "dense")
    assert view.series("size")[1] == pytest.approx([2.4, 4.8, 9.6])
    view.choose_series(COSINE, "box")
    assert view.series("kind")[1] == [0.5, 0.5, 0.5]
    assert view.series("size")[1] == [-0.8, -0.8, -0.8]  # negative: shown, not on a log scale
    assert view.series("box") == ([], [])
    assert view.plot.plotItem.getAxis("left").labelText == "cosine"


def test_shown_heads_narrow_the_heatmap_and_the_curves(view):
    view.add_sample(sample(0))
    view.set_shown_heads(["box", "size"])
    assert view.rows() == ["box", "size"]
    np.testing.assert_allclose(view.matrix(), [[1.0, -0.8], [-0.8, 1.0]])
    assert len(view.cell_texts()) == 4
    assert view.drawn_heads() == ["box", "size"]


def test_many_heads_get_colours_without_numbers(qtbot):
    heads = [f"head{i}" for i in range(TEXT_LIMIT + 2)]
    widget = GradientView()
    qtbot.addWidget(widget)
    widget.show()
    widget.reset(heads, 2, head_colours(heads))
    pairs = {f"{a}__{b}": 0.1 for i, a in enumerate(heads) for b in heads[i + 1:]}
    widget.add_sample(GradientsSampled(0, 0, 0, {h: 1.0 for h in heads},
                                       {h: {"t": 1.0} for h in heads}, pairs))
    assert widget.matrix().shape == (len(heads), len(heads)) and not widget.cell_texts()
    assert widget.series(heads[0]) == ([0.0], [1.0])  # no steps per epoch yet: x in steps


def test_a_run_without_diagnostics_says_how_to_switch_them_on(view):
    view.set_sampling(None)
    assert "Gradient diagnostics are off" in view.status_label.text()
    assert "Settings ▸ Gradient diagnostics" in view.status_label.text()


def test_the_loss_plots_leave_gradient_columns_alone():
    heads = ["gradnorm", "box"]  # even a head called "gradnorm" keeps its own metrics
    assert classify_key("gradnorm_box", heads) is None
    assert classify_key("gradcos_gradnorm__box", heads) is None
    assert classify_key("gradnorm_mae", heads) == ("gradnorm", False, False)
    assert classify_key("val_box_loss", heads) == ("box", True, True)


def test_the_settings_switch_diagnostics_on_undoably_with_an_automatic_interval(qtbot,
                                                                               demo_project):
    document = ProjectDocument(demo_project)
    group = GradientSettingsGroup(document)
    qtbot.addWidget(group)
    group.show()
    check = group.findChild(QCheckBox, "setting_gradient_diagnostics_enabled")
    spin = group.findChild(QSpinBox, "setting_gradient_diagnostics_every")
    assert not check.isChecked() and not spin.isEnabled() and "Off" in group.note.text()
    check.setChecked(True)
    settings = document.project.training.gradient_diagnostics
    assert settings.enabled and settings.every is None and spin.text() == "Auto"
    assert "Auto spaces them at least 50 steps apart, spaced to take at most 10% of the " \
        "training time" in group.note.text()
    spin.setValue(5)
    assert document.project.training.gradient_diagnostics.every == 5 and not group.error_text()
    assert "up to about 31% more training time (less where" in group.note.text()
    assert "sample less often" in group.note.text()
    spin.setValue(0)  # back to Auto
    assert document.project.training.gradient_diagnostics.every is None
    assert spin.text() == "Auto" and not group.error_text()
    assert spin.minimum() == 0  # nothing below Auto can be typed
    document.undo_stack.undo()
    assert document.project.training.gradient_diagnostics.every == 5
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert not document.project.training.gradient_diagnostics.enabled
    assert not check.isChecked()


def test_the_settings_show_why_one_head_cannot_be_diagnosed(qtbot, demo_project):
    demo_project.heads[1].loss.enabled = False
    document = ProjectDocument(demo_project)
    group = GradientSettingsGroup(document)
    qtbot.addWidget(group)
    group.show()
    assert not group.problem_label.isVisible()
    group.enabled.widget.setChecked(True)
    assert group.problem_label.isVisible()
    assert group.problem_label.text().startswith("Gradient diagnostics: on, but 1 head has")


@pytest.mark.slow
def test_a_run_in_the_app_fills_the_view_and_keeps_the_columns(qtbot, demo_project):
    demo_project.training.gradient_diagnostics.enabled = True
    demo_project.training.gradient_diagnostics.every = 1
    document = ProjectDocument(demo_project)
    panel = TrainingPanel(document)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    try:
        assert panel.views.tabText(panel.views.indexOf(panel.gradient_view)) == "Gradients"
        running: list[bool] = []
        panel.running_changed.connect(running.append)
        panel.start()
        qtbot.waitUntil(lambda: running == [True, False], timeout=90_000)
        assert panel.run is not None and "Finished" in panel.status_label.text()
        samples = panel.gradient_view.samples
        steps = [s.step for s in samples]
        assert steps == list(range(len(steps))) and len(steps) >= 3  # every step sampled
        assert set(samples[0].norms) == {"bbox", "classification"}
        assert panel.gradient_view.matrix().shape == (2, 2)
        history = panel.run.history
        assert history["gradnorm_bbox"][0] == pytest.approx(
            np.mean([s.norms["bbox"] for s in samples]))
        assert "gradcos_bbox__classification" in history
        with open(panel.run.folder / "history.csv", newline="") as file:
            row = next(csv.DictReader(file))
        assert float(row["gradnorm_classification"]) == pytest.approx(
            history["gradnorm_classification"][0])
    finally:
        panel.shutdown()
