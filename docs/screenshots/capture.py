"""Regenerate the screenshots in this folder from the real app.

Run under a real display (e.g. ``xvfb-run -a -s "-screen 0 1440x900x24" python
docs/screenshots/capture.py``). It opens the demo, trains it briefly and grabs each main state,
then does the same with a 40-head variant of the demo (training view, heatmap, model graph),
and makes a project from the houses example's table with New ▸ From data…, trains it and grabs
its evaluation and Predict… (``capture.py from-data`` grabs only these; ``capture.py
gradients`` only the demo trained with gradient diagnostics on; ``capture.py compare`` only
three runs of the demo compared in the Runs tab).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from mogui.core.io import example_path, load_example, save_project
from mogui.core.project import HeadLoss, HeadSpec, Project
from mogui.qt.app import create_window
from mogui.qt.data_dialog import DataDialog
from mogui.qt.graph_gestures import DropTarget
from mogui.qt.new_project_wizard import NewProjectWizard

HERE = Path(__file__).resolve().parent


def wait_until(app: QApplication, condition, timeout_s: float = 300.0) -> None:
    waited = 0.0
    while not condition():
        loop = QEventLoop()
        QTimer.singleShot(100, loop.quit)
        loop.exec()
        waited += 0.1
        if waited > timeout_s:
            raise SystemExit("timed out waiting for the app")
    app.processEvents()


def grab(widget: QWidget, name: str) -> None:
    widget.grab().save(str(HERE / name))
    print("wrote", HERE / name)


def shrink(document) -> None:
    """A smaller demo, so the screenshots take a minute rather than ten."""
    def edit(project) -> None:
        project.data.samples = 768
        project.training.epochs = 6

    document.edit("Smaller demo for screenshots", edit)


SHARED_LOSS = '''import pathlib


def loss(y_true, y_pred):
    """Absolute error, one value per sample."""
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)
'''


def untrusted_project(folder: Path) -> Path:
    """The demo with a custom bbox loss, saved as if someone had sent it."""
    project = load_example("bbox_classification")
    project.name = "Shared: shapes with a custom box loss"
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = SHARED_LOSS
    path = folder / "shared_project.json"
    save_project(project, path)
    return path


#: (demo quantity, task, units, metric) the 40-head variant alternates between.
REGRESSION = (("size", "regression", 1, "mae"), ("center", "regression", 2, "mae"),
              ("bbox", "regression", 4, "mae"))
CLASSIFICATION = (("classification", "multiclass", 6, "sparse_categorical_accuracy"),
                  ("is_round", "binary", 1, "binary_accuracy"),
                  ("is_hollow", "binary", 1, "binary_accuracy"))


def many_heads_project(folder: Path, count: int = 40) -> Path:
    """The demo with ``count`` heads on its quantities, half regression, saved in ``folder``."""
    project: Project = load_example("bbox_classification")
    heads, targets = [], {}
    for i in range(count):
        quantity, task, units, metric = (REGRESSION, CLASSIFICATION)[i % 2][(i // 2) % 3]
        name = f"{quantity}_{i // 2}"
        heads.append(HeadSpec(name=name, task=task, units=units,
                              loss=HeadLoss(metrics=[metric])))
        targets[name] = quantity
    project.heads = heads
    project.data.targets = targets
    project.data.samples = 512
    project.training.epochs = 8
    project.name = f"Shapes: {count} heads"
    path = folder / "forty_heads.json"
    save_project(project, path)
    return path


def canvas_shot(app: QApplication, window) -> None:  # noqa: ANN001
    """The graph being edited: a Dropout dropped on an arrow, a Dense branch from flatten, and
    its output being dragged onto class_hidden (the target lit green). Undone afterwards."""
    editor = window.editor
    graph, canvas = editor.graph, editor.canvas
    canvas.drop("Dropout", DropTarget("edge", "shared_dense", "bbox_hidden"))
    canvas.drop("Dense", DropTarget("branch", "flatten"))
    editor.palette.search.setText("norm")
    wait_until(app, lambda: not editor.inspection.pending)
    start = graph.mapFromScene(graph.node_by_name("dense").out_point())
    end = graph.mapFromScene(graph.node_by_name("class_hidden").sceneBoundingRect().center())
    viewport = graph.viewport()
    for kind, pos, buttons in ((QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton),
                               (QEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton)):
        QApplication.sendEvent(viewport, QMouseEvent(
            kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), Qt.MouseButton.LeftButton,
            buttons, Qt.KeyboardModifier.NoModifier))
    app.processEvents()
    grab(window, "canvas.png")
    graph.gestures.cancel()
    QApplication.sendEvent(viewport, QMouseEvent(
        QEvent.Type.MouseButtonRelease, QPointF(end), QPointF(viewport.mapToGlobal(end)),
        Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    editor.palette.search.clear()
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    wait_until(app, lambda: not editor.inspection.pending)


def contribution_shot(app: QApplication, window) -> None:  # noqa: ANN001
    """After a run: the Training tab's weighted-contribution view."""
    training = window.training_panel
    training.views.setCurrentWidget(training.contributions)
    app.processEvents()
    grab(window, "contributions.png")
    training.views.setCurrentWidget(training.plots)


def gradients_shot(app: QApplication, window) -> None:  # noqa: ANN001
    """The demo trained with gradient diagnostics on (every 5 steps): the Gradients view."""
    document, training = window.document, window.training_panel

    def edit(project) -> None:  # noqa: ANN001
        project.training.gradient_diagnostics.enabled = True
        project.training.gradient_diagnostics.every = 5

    document.edit("Gradient diagnostics for the screenshot", edit)
    window.tabs.setCurrentWidget(training)
    training.views.setCurrentWidget(training.gradient_view)
    training.start()
    wait_until(app, lambda: not training.is_running, timeout_s=600)
    app.processEvents()
    grab(window, "gradients.png")
    training.views.setCurrentWidget(training.plots)
    document.undo_stack.undo()


def compare_shot(app: QApplication, window) -> None:  # noqa: ANN001
    """Two more runs of the demo with other loss weights and balancing, then the Runs tab with
    the last three selected: their per-head curves on one plot."""
    document, training, runs = window.document, window.training_panel, window.run_list

    def weigh_bbox(project) -> None:  # noqa: ANN001
        project.heads[0].loss.weight = 0.2

    def balance(project) -> None:  # noqa: ANN001
        project.training.balancing.method = "dwa"

    window.tabs.setCurrentWidget(training)
    for text, edit in (("Lighter bbox weight", weigh_bbox), ("Dynamic weight average",
                                                             balance)):
        document.edit(text, edit)
        training.start()
        wait_until(app, lambda: not training.is_running, timeout_s=600)
    window.tabs.setCurrentWidget(runs)
    runs.refresh()
    runs.select(*(info.folder for info in runs.entries[:3]))
    app.processEvents()
    grab(window, "compare_runs.png")
    document.undo_stack.undo()
    document.undo_stack.undo()


def many_heads_shots(app: QApplication, window) -> None:  # noqa: ANN001
    """Train the 40-head variant; grab the training view, the heatmap and the graph."""
    window.files.open_path(str(many_heads_project(Path(os.environ["MOGUI_CONFIG_DIR"]))))
    editor, training = window.editor, window.training_panel
    window.tabs.setCurrentWidget(training)
    wait_until(app, lambda: not editor.inspection.pending and editor.inspection.inspection)
    training.start()
    wait_until(app, lambda: not training.is_running, timeout_s=900)
    table = training.head_table
    table.set_highlighted([table.heads[1], table.heads[6]])  # two heads picked out
    app.processEvents()
    grab(window, "training_many_heads.png")
    table.set_highlighted([])
    training.views.setCurrentWidget(training.heatmap)
    training.heatmap.set_order("least_improved")
    app.processEvents()
    grab(window, "heatmap_many_heads.png")
    training.views.setCurrentWidget(training.plots)
    window.tabs.setCurrentWidget(editor)
    editor.graph.zoom_to_fit()
    app.processEvents()
    grab(window, "graph_many_heads.png")


def from_data_shots(app: QApplication, window) -> None:  # noqa: ANN001
    """File ▸ New ▸ From data… on the houses example's table (the wizard's pages), its Data
    dialog checked, the project trained as made, its evaluation (a class head, a regression
    head) and Predict…."""
    wizard = NewProjectWizard(window)
    wizard.resize(1000, 640)
    wizard.show()
    wizard.source_page.set_data(example_path("houses").parent / "houses.csv")
    wizard.next()
    wait_until(app, lambda: wizard.currentPage() is wizard.columns_page)
    columns = wizard.columns_page
    columns.select_edit.setText("price, category")
    columns.make_targets(columns.select_typed())
    columns.table.clearSelection()  # the colours of the Use column show
    grab(wizard, "new_from_data_columns.png")
    wizard.next()
    grab(wizard, "new_from_data_heads.png")
    wizard.next()  # Finish
    window.document.replace(wizard.project, None)
    wizard.close()
    data = DataDialog(window.document, window)
    data.show()
    data.run_checks()
    wait_until(app, lambda: data.report is not None)
    grab(data, "data_dialog.png")
    data.reject()
    training = window.training_panel
    window.tabs.setCurrentWidget(training)
    wait_until(app, lambda: not window.editor.inspection.pending)
    training.start()
    wait_until(app, lambda: not training.is_running, timeout_s=900)
    runs = window.run_list
    window.tabs.setCurrentWidget(runs)
    runs.refresh()
    runs.select(runs.entries[0].folder)
    dialog = runs.evaluate_run()
    wait_until(app, lambda: dialog.evaluation is not None or dialog.error.isVisible())
    for head, shot in (("category", "evaluation_classes.png"),
                       ("price", "evaluation_regression.png")):
        dialog.tabs.setCurrentWidget(dialog.views[head])
        app.processEvents()
        grab(dialog, shot)
    dialog.reject()
    predict = runs.predict_run()
    predict.data_path.set_path(str(example_path("houses").parent / "houses.csv"))
    predict.out_edit.setText(str(Path(os.environ["MOGUI_DATA_DIR"]) / "houses_predictions.csv"))
    predict.predict()
    wait_until(app, lambda: predict.predict_button.isEnabled())
    grab(predict, "predict.png")
    predict.reject()


def main() -> int:
    # A throwaway trust store and data folder: the shots never read or change the user's own
    # (the run they train is kept there, not among the user's runs).
    os.environ["MOGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="mogui-capture-")
    os.environ["MOGUI_DATA_DIR"] = tempfile.mkdtemp(prefix="mogui-capture-data-")
    # Default window size and layout, whatever the user's own window remembers.
    os.environ["MOGUI_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="mogui-capture-settings-")
    app = QApplication(sys.argv)
    window = create_window()
    window.resize(1400, 860)
    window.show()
    editor = window.editor
    wait_until(app, lambda: not editor.inspection.pending and editor.inspection.inspection)
    if sys.argv[1:] == ["from-data"]:  # only the shots of a project made from data
        from_data_shots(app, window)
        window.document.undo_stack.setClean()
        window.close()
        return 0
    document = window.document
    shrink(document)
    if sys.argv[1:] == ["gradients"]:  # only the Gradients view
        gradients_shot(app, window)
        document.undo_stack.setClean()
        window.close()
        return 0
    if sys.argv[1:] == ["compare"]:  # only the Runs tab comparing three runs
        window.training_panel.start()
        wait_until(app, lambda: not window.training_panel.is_running, timeout_s=600)
        compare_shot(app, window)
        document.undo_stack.setClean()
        window.close()
        return 0
    editor.selection.select("heads[0].layers[0]")
    wait_until(app, lambda: not editor.inspection.pending)
    grab(window, "editor.png")
    canvas_shot(app, window)

    window.tabs.setCurrentWidget(window.loss_panel)
    panel = window.loss_panel
    for example, shot in (("bbox_classification_joint", "losses_per_output.png"),
                          ("bbox_classification", "losses_joint.png")):
        panel.dry_run()
        wait_until(app, lambda: not panel.runner.is_running and not panel.contract_busy)
        grab(window, shot)
        document.undo_stack.setClean()
        window.files.new_from_example(example)  # the next example, for the next shot
        shrink(document)

    document.undo_stack.setClean()
    window.files.open_path(str(untrusted_project(Path(os.environ["MOGUI_CONFIG_DIR"]))))
    panel.show_custom_head("bbox")
    wait_until(app, lambda: not panel.contract_busy and not editor.inspection.pending)
    grab(window, "trust_banner.png")
    document.undo_stack.setClean()
    window.files.new_from_example("bbox_classification")
    shrink(document)

    window.tabs.setCurrentWidget(window.training_panel)
    training = window.training_panel
    training.start()
    wait_until(app, lambda: not training.is_running, timeout_s=600)
    grab(window, "training.png")
    grab(window, "main.png")
    contribution_shot(app, window)
    gradients_shot(app, window)
    compare_shot(app, window)
    window.document.undo_stack.setClean()
    many_heads_shots(app, window)
    window.document.undo_stack.setClean()
    from_data_shots(app, window)
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
