"""The Sweep view on real sweep folders: result files written with the sweep's own writer, run
folders written with the run store; real widgets, real clicks, a real file watcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from mogui.core import run_store
from mogui.core.project import Project
from mogui.core.runs import HISTORY_FILE, RunStatus
from mogui.core.sweep_results import (
    TRIALS_FILE,
    SweepManifest,
    SweepTrial,
    write_manifest,
    write_results,
)
from mogui.qt.document import ProjectDocument
from mogui.qt.sweep_dialog import SweepDialog
from mogui.qt.sweep_view import SweepView
from mogui.qt.sweep_watch import read_sweep

pytestmark = pytest.mark.gui

TWO = ("val_bbox_loss", "val_classification_loss")
# (bbox, classification) per trial. Front by hand: 0 (1, 9), 2 (2, 4), 3 (6, 1), 6 (2, 4) again
# (a tie: neither dominates); 1 is beaten by 2, 4 by 3, 5 by 2.
POINTS_2 = [(1.0, 9.0), (3.0, 5.0), (2.0, 4.0), (6.0, 1.0), (7.0, 1.5), (2.5, 4.0), (2.0, 4.0)]


def _non_dominated(points: dict[int, tuple[float, ...]]) -> list[int]:
    """Brute force, written here on its own: no other point is <= everywhere and < once."""
    return sorted(i for i, p in points.items()
                  if not any(all(a <= b for a, b in zip(q, p, strict=True)) and q != p
                             for j, q in points.items() if j != i))


def _run(project: Project, folder: Path, weights: tuple[float, float],
         losses: tuple[float, ...]) -> None:
    """A trial's run folder as training leaves it: the weights it trained with, a tiny
    history (two epochs), finished."""
    trained = project.model_copy(deep=True)
    trained.heads[0].loss.weight, trained.heads[1].loss.weight = weights
    run = run_store.create_run(trained, None, folder=folder)
    for epoch in range(2):
        scale = 2.0 - epoch
        logs = {"loss": 3.0 * scale, "bbox_loss": losses[0] * scale,
                "classification_loss": losses[1] * scale, "val_loss": 4.0 * scale,
                "val_bbox_loss": losses[0] * scale, "val_classification_loss": losses[1] * scale}
        run_store.record_epoch(run, logs)
    history = ["epoch,loss,bbox_loss,classification_loss,val_loss,val_bbox_loss,"
               "val_classification_loss"]
    for epoch, values in enumerate(zip(*(run.history[k] for k in (
            "loss", "bbox_loss", "classification_loss", "val_loss", "val_bbox_loss",
            "val_classification_loss")), strict=True)):
        history.append(",".join([str(epoch), *(repr(v) for v in values)]))
    (run.folder / HISTORY_FILE).write_text("\n".join(history) + "\n", encoding="utf-8")
    run_store.finish_run(run, RunStatus.FINISHED)


def _sweep(folder: Path, project: Project, points: list[tuple[float, ...]],
           objectives: tuple[str, ...] = TWO, extra: list[SweepTrial] = ()) -> SweepManifest:
    """A sweep folder: manifest, results and a run folder per complete trial."""
    manifest = SweepManifest(project="demo.json", parameters=("weight_bbox",
                                                              "weight_classification"),
                             objectives=objectives, directions=("minimize",) * len(objectives),
                             trials=len(points) + len(extra), epochs=2)
    trials = []
    for n, point in enumerate(points):
        weights = (round(0.5 + n * 0.25, 3), round(2.0 - n * 0.2, 3))
        run = f"trials/{n:04d}"
        _run(project, folder / run, weights, point[:2])
        trials.append(SweepTrial(number=n, state="COMPLETE",
                                 params={"weight_bbox": weights[0],
                                         "weight_classification": weights[1]},
                                 objectives=dict(zip(objectives, point, strict=True)), run=run))
    folder.mkdir(parents=True, exist_ok=True)
    write_manifest(folder, manifest)
    write_results(folder, manifest, [*trials, *extra])
    return manifest


FAILED = SweepTrial(number=7, state="FAIL", params={"weight_bbox": 50.0},
                    error="Training failed: the loss became NaN in epoch 1")
RUNNING = SweepTrial(number=8, state="RUNNING", params={"weight_bbox": 3.0})


@pytest.fixture
def document(demo_project) -> ProjectDocument:
    return ProjectDocument(demo_project)


@pytest.fixture
def two(tmp_path, demo_project) -> Path:
    folder = tmp_path / "sweep"
    _sweep(folder, demo_project, POINTS_2, extra=[FAILED, RUNNING])
    return folder


def _view(qtbot, folder: Path, document: ProjectDocument, **kwargs) -> SweepView:
    view = SweepView(folder, document, **kwargs)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def _click_scene(qtbot, view: SweepView, scene_pos: QPointF) -> None:
    widget = view.plot.plot
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.mapFromScene(scene_pos))


def test_rows_failed_trials_and_the_plotted_front(qtbot, two, document):
    view = _view(qtbot, two, document)
    rows = view.rows()
    assert [row[0] for row in rows] == [str(n) for n in range(9)]
    assert [row[1] for row in rows[-2:]] == ["fail", "running"]
    header = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert header == ["Trial", "State", "weight_bbox", "weight_classification", *TWO, "Front"]
    assert rows[3][4:6] == ["6", "1"]
    assert rows[7][4:6] == ["", ""]  # the failed trial has no objectives
    assert "NaN" in view.table.item(7, 0).toolTip()

    expected = _non_dominated(dict(enumerate(POINTS_2)))
    assert expected == [0, 2, 3, 6]  # the brute force agrees with the hand count
    assert view.plot.mode == "scatter"
    assert view.plot.plotted_trials() == list(range(7))  # failed and running: not plotted
    assert view.plot.plotted_front() == expected
    assert [row[0] for row in rows if row[-1] == "★"] == [str(n) for n in expected]
    assert "7 of 9 trials complete, 1 failed, 1 running" in view.summary.text()


def test_sorting_by_an_objective_keeps_numbers_in_order(qtbot, two, document):
    view = _view(qtbot, two, document)
    view.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)  # val_classification_loss
    values = [row[5] for row in view.rows()]
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers) and numbers[0] == 1.0
    assert values[-2:] == ["", ""]  # blanks last
    view.select_trial(3)
    assert view.selected_trial() == 3 and view.plot.selected == 3


def test_clicking_a_front_point_selects_it_and_opens_its_run(qtbot, two, document):
    view = _view(qtbot, two, document)
    target = view.plot.scene_points(3)[0]
    _click_scene(qtbot, view, target + QPointF(3, -2))  # a few pixels off the point
    assert view.selected_trial() == 3 and view.plot.selected == 3
    assert "on the Pareto front" in view.detail.text()
    assert view.open_run_button.isEnabled()
    qtbot.mouseClick(view.open_run_button, Qt.MouseButton.LeftButton)
    dialog = view.run_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.run.folder == two / "trials" / "0003"
    assert dialog.run.project.heads[0].loss.weight == 1.25  # trial 3's own weights
    assert dialog.history["val_classification_loss"] == [2.0, 1.0]
    assert "Trial 3" in dialog.summary.text() and "finished" in dialog.summary.text()
    assert dialog.buttons["evaluate"].isEnabled() is False  # no model file in this folder
    # A click on empty plot space changes nothing.
    empty = view.plot.plot.plotItem.vb.mapViewToScene(QPointF(6.0, 8.0))
    assert view.plot.trial_at(empty) is None
    # A table row selects on the plot too.
    view.table.selectRow(next(r for r, row in enumerate(view.rows()) if row[0] == "1"))
    assert view.plot.selected == 1
    dialog.close()


def test_use_these_settings_copies_the_trials_weights_undoably(qtbot, two, document):
    view = _view(qtbot, two, document)
    view.select_trial(2)
    text = view.use_settings()
    assert "classification weight 1.5 → 1.6" in text and "bbox" not in text  # bbox: same
    assert [h.loss.weight for h in document.project.heads] == [1.0, 1.6]
    document.undo_stack.undo()
    assert [h.loss.weight for h in document.project.heads] == [1.0, 1.5]


def test_the_view_follows_trials_csv_as_it_is_rewritten(qtbot, tmp_path, demo_project,
                                                        document):
    folder = tmp_path / "live"
    manifest = _sweep(folder, demo_project, POINTS_2[:2])
    view = _view(qtbot, folder, document)
    assert len(view.rows()) == 2 and view.plot.plotted_front() == [0, 1]
    view.select_trial(1)
    _sweep(folder, demo_project, POINTS_2[:4])  # two more trials: 2 now beats 1
    assert manifest.objectives == TWO
    qtbot.waitUntil(lambda: len(view.rows()) == 4, timeout=10_000)
    assert view.plot.plotted_front() == [0, 2, 3]
    assert view.selected_trial() == 1  # the selection is kept
    assert "4 of 4 trials complete" in view.summary.text()


def test_parallel_coordinates_for_three_objectives(qtbot, tmp_path, demo_project, document):
    three = ("val_bbox_loss", "val_classification_loss", "val_bbox_mae")
    points = [p + (float(i % 3),) for i, p in enumerate(POINTS_2)]
    points[1] = (3.0, 5.0, -1.0)  # now the best third objective: on the front
    folder = tmp_path / "three"
    _sweep(folder, demo_project, points, objectives=three)
    view = _view(qtbot, folder, document)
    plot = view.plot
    assert plot.mode == "parallel"
    expected = _non_dominated(dict(enumerate(points)))
    assert 1 in expected and 4 not in expected
    assert plot.plotted_front() == expected
    assert plot.plotted_trials() == list(range(len(points)))
    ticks = plot.plot.plotItem.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == list(three)
    # A click on trial 1's line between the second and third axes picks it.
    a, b = plot.scene_points(1)[1:3]
    _click_scene(qtbot, view, (a + b) / 2)
    assert view.selected_trial() == 1


def test_a_folder_that_is_no_sweep_is_refused_with_a_reason(qtbot, tmp_path, document,
                                                            dialogs):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"jpeg")
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    assert dialog.open_folder(other) is False and dialog.opened is None
    assert "not a sweep folder" in dialogs.errors[-1] and "sweep.json" in dialogs.errors[-1]
    assert "does not exist" in read_sweep(tmp_path / "nowhere").problem
    # As an output folder it is refused too: it holds files that are not a sweep.
    dialog.out_edit.setText(str(other))
    assert "holds files that are not a sweep" in dialog.problem_label.text()
    assert not dialog.start_button.isEnabled()


def test_a_sweep_without_trials_then_a_damaged_trials_file(qtbot, tmp_path, demo_project,
                                                           document):
    folder = tmp_path / "empty"
    folder.mkdir()
    write_manifest(folder, SweepManifest(project="demo.json", parameters=("weight_bbox",),
                                         objectives=TWO, directions=("minimize", "minimize"),
                                         trials=4))
    view = _view(qtbot, folder, document)
    assert view.rows() == [] and view.plot.mode == "empty"
    assert "0 of 4 trials complete" in view.summary.text()
    assert not view.open_run_button.isEnabled()
    (folder / TRIALS_FILE).write_text("trial,state\nseven,COMPLETE\n", encoding="utf-8")
    assert view.watcher.check()
    assert "cannot be read" in view.summary.text() and view.rows() == []


def test_the_sweep_of_an_unsaved_project_is_named_after_the_project(qtbot, tmp_path,
                                                                     demo_project, document):
    from mogui.core.io import save_project
    from mogui.qt.sweep_process import project_copy_path

    folder = tmp_path / "sweep"
    folder.mkdir()
    copy = project_copy_path(folder)
    copy.parent.mkdir(parents=True, exist_ok=True)
    demo = demo_project.model_copy(deep=True)
    demo.name = "toy <1>"
    save_project(demo, copy)
    write_manifest(folder, SweepManifest(project=str(copy), parameters=("weight_bbox",),
                                         objectives=TWO, directions=("minimize", "minimize"),
                                         trials=4))
    view = _view(qtbot, folder, document)
    assert "Sweep of the unsaved project 'toy &lt;1&gt;'</b>" in view.summary.text()
    assert copy.name not in view.summary.text()


def test_an_objective_a_head_does_not_log_is_refused_in_the_dialog(qtbot, tmp_path, document):
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(tmp_path / "out"))
    dialog.objective_box.setCurrentText("val_{head}_recall")  # no head logs a recall
    text = dialog.problem_label.text()
    assert text.startswith("Cannot start the sweep: the objective ") and "recall" in text, text
    assert not dialog.start_button.isEnabled() and not dialog.accept_start()
    assert not (tmp_path / "out").exists()  # no folder made for a sweep that cannot start
    dialog.objective_box.setCurrentText("val_{head}_loss")
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()


def test_the_dialog_builds_the_sweep_command(qtbot, tmp_path, document, demo_project):
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()
    out = tmp_path / "out"
    dialog.out_edit.setText(str(out))
    dialog.trials_spin.setValue(12)
    dialog.workers_spin.setValue(1)
    dialog.rate_box.setChecked(True)
    request = dialog.build_request()
    args = request.arguments()
    assert args[:2] == ["sweep", str(request.project)]
    assert args[args.index("--trials") + 1] == "12" and args[args.index("--out") + 1] == str(out)
    assert args[args.index("--search") + 1] == "weights,learning_rate"
    assert "--trust" not in args  # the demo holds no code
    assert "--objective" not in args  # each head's validation loss is the default
    # Untitled: the sweep reads a copy of the project as the editor shows it.
    assert request.project.is_file() and request.project != out
    # Saved and clean: the file itself.
    path = tmp_path / "demo.json"
    document.save(path)
    assert dialog.build_request().project == path


def test_custom_code_needs_the_users_trust_and_then_passes_it_on(qtbot, tmp_path, document):
    document.edit("custom loss", lambda p: (
        setattr(p.heads[0].loss, "kind", "custom"),
        setattr(p.heads[0].loss, "source", "def loss(y_true, y_pred):\n"
                "    return (y_true - y_pred) ** 2\n")))
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(tmp_path / "out"))
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()  # typed here: trusted
    assert "--trust" in dialog.build_request().arguments()


@pytest.mark.untrusted
def test_untrusted_code_does_not_start_a_sweep(qtbot, tmp_path, demo_project):
    project = demo_project.model_copy(deep=True)
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = "def loss(y_true, y_pred):\n    return y_pred * 0\n"
    document = ProjectDocument(project)  # opened, not typed: not trusted
    assert document.untrusted_code
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    assert not dialog.start_button.isEnabled()
    assert "not trusted" in dialog.problem_label.text()
    assert dialog.problem_label.text().startswith("Cannot start the sweep: ")
    assert dialog.accept_start() is False and dialog.request is None


def test_one_head_or_a_joint_loss_cannot_be_swept(qtbot, demo_project, joint_project):
    project = demo_project.model_copy(deep=True)
    project.heads[1].loss.enabled = False
    dialog = SweepDialog(ProjectDocument(project))
    qtbot.addWidget(dialog)
    assert "fewer than two heads" in dialog.problem_label.text()
    assert not dialog.start_button.isEnabled()
    dialog = SweepDialog(ProjectDocument(joint_project))
    qtbot.addWidget(dialog)
    assert "one joint loss" in dialog.problem_label.text()
    assert not dialog.start_button.isEnabled()


def test_a_sweep_folder_as_output_is_continued_with_its_own_options(qtbot, tmp_path,
                                                                     document):
    path = tmp_path / "demo.json"
    document.save(path)
    folder = tmp_path / "earlier"
    folder.mkdir()
    write_manifest(folder, SweepManifest(
        project=str(path.resolve()), parameters=("weight_bbox", "weight_classification",
                                                 "learning_rate"),
        objectives=("val_bbox_mae", "val_classification_loss"),
        directions=("minimize", "minimize"), trials=9, epochs=3))
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(folder))
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()
    assert "continues it" in dialog.note.text()
    args = dialog.build_request().arguments()
    assert args[args.index("--epochs") + 1] == "3" and args[args.index("--trials") + 1] == "9"
    assert args[args.index("--search") + 1] == "weights,learning_rate"
    assert args[args.index("--objective") + 1] == "val_bbox_mae,val_classification_loss"
    # A sweep of another project file in that folder: refused before the sweep is asked.
    other = tmp_path / "other"
    other.mkdir()
    write_manifest(other, SweepManifest(project=str(tmp_path / "elsewhere.json"),
                                        parameters=("weight_bbox",), objectives=TWO,
                                        directions=("minimize", "minimize"), trials=2))
    dialog.out_edit.setText(str(other))
    assert "holds a sweep of" in dialog.problem_label.text()
    assert not dialog.start_button.isEnabled()


def test_a_trial_whose_run_is_not_here_says_where_it_may_be(qtbot, tmp_path, demo_project,
                                                            document, dialogs):
    folder = tmp_path / "shared"
    elsewhere = SweepTrial(number=2, state="COMPLETE", params={"weight_bbox": 1.0},
                           objectives=dict(zip(TWO, (0.5, 0.5), strict=True)),
                           run="runs/trial-0002")
    _sweep(folder, demo_project, POINTS_2[:2], extra=[elsewhere])
    view = _view(qtbot, folder, document)
    view.select_trial(2)
    assert view.open_run_button.isEnabled()
    assert view.open_run() is None
    assert "another machine" in dialogs.errors[-1] and "trial-0002" in dialogs.errors[-1]
    assert view.use_settings() == "" and "cannot be read" in dialogs.errors[-1]
    assert [h.loss.weight for h in document.project.heads] == [1.0, 1.5]


def test_the_front_is_drawn_as_the_staircase_pareto_png_draws():
    from mogui.qt.sweep_plots import staircase

    # Both minimised: each trial's second objective holds until the next trial's first.
    assert staircase([1.0, 2.0, 3.0], [5.0, 3.0, 1.0]) == \
        ([1.0, 2.0, 2.0, 3.0, 3.0], [5.0, 5.0, 3.0, 3.0, 1.0])
    # The first objective maximised: the step comes first (matplotlib's steps-pre).
    assert staircase([1.0, 2.0, 3.0], [1.0, 3.0, 5.0], before=True) == \
        ([1.0, 1.0, 2.0, 2.0, 3.0], [1.0, 3.0, 3.0, 5.0, 5.0])
    assert staircase([1.0], [2.0]) == ([1.0], [2.0])


def test_the_dialog_keeps_the_entries_for_the_document_while_the_app_runs(qtbot, document,
                                                                          demo_project):
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    dialog.trials_spin.setValue(7)
    dialog.epochs_spin.setValue(3)
    dialog.rate_box.setChecked(True)
    dialog.objective_box.setCurrentText("val_{head}_loss, val_loss")
    dialog.reject()
    again = SweepDialog(document)
    qtbot.addWidget(again)
    assert (again.trials_spin.value(), again.epochs_spin.value()) == (7, 3)
    assert again.rate_box.isChecked()
    assert again.objective_box.currentText() == "val_{head}_loss, val_loss"
    other = SweepDialog(ProjectDocument(demo_project))  # another document starts afresh
    qtbot.addWidget(other)
    assert other.trials_spin.value() != 7 and not other.rate_box.isChecked()
