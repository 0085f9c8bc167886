"""File ▸ New: a blank project, and a project from your data through the wizard (real files, a
real background read, real widgets), which validates and trains in a child process."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenu, QWizard

from mogui.core.project import CsvData, ImageFolderData
from mogui.core.runs import MODEL_FILE
from mogui.core.tasks import Task
from mogui.core.validation import check_project
from mogui.qt.file_actions import blank_project
from mogui.qt.new_project_wizard import NewProjectWizard
from mogui.qt.predict_dialog import PredictDialog
from mogui.qt.readiness import READY
from tests.cli.test_init_predict import write_houses
from tests.engine.data_builders import write_image_folder
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def _wizard(qtbot) -> NewProjectWizard:
    wizard = NewProjectWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _read(qtbot, wizard: NewProjectWizard, path: Path, kind: str | None = None) -> None:
    """Choose ``path`` and press Next: the data is read in the background, then the columns
    page shows."""
    wizard.source_page.set_data(path, kind)
    wizard.next()
    assert wizard.currentPage() is wizard.source_page  # still reading
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.columns_page, timeout=30_000)


def _rows(table) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else table.cellWidget(r, c)
             .currentText() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_new_blank_is_a_valid_project_that_is_ready_to_train(qtbot, window, dialogs):
    window.document.edit("an edit", lambda p: setattr(p, "name", "Edited"))
    window.findChild(QAction, "actionNewBlank").trigger()
    assert dialogs.questions  # unsaved work was asked about first
    document = window.document
    assert document.project == blank_project() and document.path is None
    assert check_project(document.project) == [] and not document.dirty
    wait_for_shapes(qtbot, window.editor)
    assert window.problems_label.text() == READY
    assert window.windowTitle().startswith("Untitled")


def test_the_wizard_makes_a_project_from_a_csv_that_trains(qtbot, window, dialogs, tmp_path,
                                                          monkeypatch):
    """Two targets of different tasks with missing labels: the wizard shows the columns,
    takes features by a typed range, infers each head's task (changeable, with a reason when
    refused); the project validates and trains one epoch without touching a layer."""
    path = write_houses(tmp_path)  # area, year, note (text), price (5 empty), category (6 empty)

    def drive(wizard: NewProjectWizard) -> int:
        qtbot.addWidget(wizard)
        wizard.show()
        _read(qtbot, wizard, path)
        columns = wizard.columns_page
        assert "houses.csv</b>: 60 rows, 5 columns" in columns.heading.text()
        assert [row[:3] for row in _rows(columns.table)] == [
            ["area", "number", "0"], ["year", "integer", "0"], ["note", "text", "0"],
            ["price", "number", "5"], ["category", "text", "6"]]
        assert "3 values: budget, premium, standard" in _rows(columns.table)[4][3]
        assert columns.features == ["area", "year"]  # every usable column to start with
        assert _rows(columns.table)[2][4] == "— (holds text (inputs must be numbers))"
        assert not columns.isComplete()  # no target yet

        columns.select(["note"])
        assert not columns.make_features(columns.selected())
        assert "'note' holds text" in columns.message.text()
        columns.select_edit.setText("price:category")  # a range, in the file's order
        assert columns.select_typed() == ["price", "category"]
        assert columns.make_targets(columns.selected())
        columns.select_edit.setText("area, nope")
        assert columns.select_typed() == [] and "no column 'nope'" in columns.message.text()
        columns.leave_out(["year"])
        assert [row[4] for row in _rows(columns.table)] == \
            ["feature", "—", "— (holds text (inputs must be numbers))", "target", "target"]
        assert columns.isComplete()

        wizard.next()
        heads = wizard.heads_page
        assert wizard.currentPage() is heads
        rows = _rows(heads.table)
        assert [row[:3] for row in rows] == [["price", "price", "regression (inferred)"],
                                             ["category", "category", "multiclass (inferred)"]]
        assert "standardized" in rows[0][3] and "5 of 60 rows unlabelled" in rows[0][3]
        assert "3 classes (budget, premium, standard)" in rows[1][3]
        assert "6 of 60 rows unlabelled" in rows[1][3]
        plan = heads.plan_view.toPlainText()
        assert "Inputs: 1 columns: area" in plan
        assert "  left out 'year': you left it out" in plan
        assert "  left out 'note': holds text" in plan
        heads.set_task(1, Task.BINARY)  # three categories cannot be binary: said, not taken
        assert not heads.isComplete() and "cannot be a binary target" in heads.message.text()
        heads.set_task(1, Task.MULTICLASS)
        heads.set_name(0, "2nd price")
        assert not heads.isComplete() and "not usable" in heads.message.text()
        heads.set_name(0, "cost")
        assert heads.isComplete() and heads.message.text() == ""
        heads.name_edit.setText("My houses")
        wizard.button(QWizard.WizardButton.FinishButton).click()
        return wizard.result()

    monkeypatch.setattr(NewProjectWizard, "exec", drive)
    window.findChild(QAction, "actionNewFromData").trigger()
    document = window.document
    project = document.project
    assert project.name == "My houses" and document.path is None  # unsaved, like an example
    assert check_project(project) == []
    assert [(h.name, h.task, h.units, h.standardize) for h in project.heads] == \
        [("cost", Task.REGRESSION, 1, True), ("category", Task.MULTICLASS, 3, False)]
    data = project.data
    assert isinstance(data, CsvData) and Path(data.path) == path  # absolute until saved
    assert [(m.name, m.columns, m.classes) for m in data.targets] == \
        [("cost", ["price"], []), ("category", ["category"], ["budget", "premium", "standard"])]
    assert [m.columns for m in data.inputs] == [["area"]]
    assert project.trunk[0].kind == "Normalization"

    document.edit("one epoch", lambda p: setattr(p.training, "epochs", 1))
    wait_for_shapes(qtbot, window.editor)
    assert window.problems_label.text() == READY
    panel = window.training_panel
    with qtbot.waitSignal(panel.worker.running_changed, timeout=180_000,
                          check_params_cb=lambda running: not running):
        panel.start()
    assert panel.worker.last_failure is None, panel.worker.last_failure
    assert (panel.run.folder / MODEL_FILE).is_file()
    assert panel.run.history["val_cost_loss"] and panel.run.history["val_category_loss"]
    document.save(tmp_path / "houses.mogui.json")
    assert document.project.data.path == "houses.csv"  # relative once saved beside it


def test_cancel_keeps_the_project_and_a_bad_file_says_why(qtbot, window, dialogs, tmp_path,
                                                         monkeypatch):
    before = window.document.project
    monkeypatch.setattr(NewProjectWizard, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert not window.files.new_from_data()
    assert window.document.project is before

    bad = tmp_path / "twice.csv"
    bad.write_text("a,b,a\n1,2,3\n")
    wizard = _wizard(qtbot)
    wizard.source_page.set_data(bad)
    wizard.next()
    status = wizard.source_page.status
    qtbot.waitUntil(lambda: "twice" in status.text() and "Reading" not in status.text(),
                    timeout=30_000)
    assert "names the column(s) 'a' twice" in status.text()
    assert wizard.currentPage() is wizard.source_page
    wizard.source_page.set_data(tmp_path, "csv")  # a folder is no table
    wizard.next()
    qtbot.waitUntil(lambda: "is a folder" in status.text(), timeout=30_000)
    assert wizard.currentPage() is wizard.source_page


def test_the_wizard_makes_an_image_project(qtbot, tmp_path):
    write_image_folder(tmp_path, 16, pixels=16, missing_shape=(2,))
    wizard = _wizard(qtbot)
    _read(qtbot, wizard, tmp_path / "images")
    columns = wizard.columns_page
    assert "The images in 'images' are the input" in columns.heading.text()
    assert columns.table.item(0, 0).text() == "x_min"  # the file-name column is not listed
    assert not columns.make_features(["x_min"]) and "only be targets" in columns.message.text()
    columns.make_targets(["shape"])
    assert columns.make_group(["x_min", "y_min", "x_max", "y_max"])
    wizard.next()
    heads = wizard.heads_page
    assert [row[:3] for row in _rows(heads.table)] == [
        ["shape", "shape", "multiclass (inferred)"],
        ["x_min", "x_min, y_min, x_max, y_max", "regression (inferred)"]]
    assert "Input: the images, 16x16 pixels, 1 channel(s)" in heads.plan_view.toPlainText()
    heads.set_name(1, "box")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    project = wizard.project
    assert project is not None and check_project(project) == []
    assert isinstance(project.data, ImageFolderData)
    assert Path(project.data.folder) == tmp_path / "images"
    assert [(h.name, h.units) for h in project.heads] == [("shape", 6), ("box", 4)]
    assert project.inputs[0].shape == [16, 16, 1]


def test_enter_in_the_selection_box_selects_and_stays_on_the_page(qtbot, tmp_path):
    wizard = _wizard(qtbot)
    _read(qtbot, wizard, write_houses(tmp_path))
    columns = wizard.columns_page
    assert columns.make_targets(["price"]) and columns.isComplete()  # Next is on
    columns.select_edit.setFocus()
    qtbot.keyClicks(columns.select_edit, "area, nope")
    qtbot.keyClick(columns.select_edit, Qt.Key.Key_Return)
    assert wizard.currentPage() is columns and "no column 'nope'" in columns.message.text()
    columns.select_edit.clear()
    qtbot.keyClicks(columns.select_edit, "area:year")
    qtbot.keyClick(columns.select_edit, Qt.Key.Key_Enter)
    assert wizard.currentPage() is columns and columns.selected() == ["area", "year"]


def test_the_label_table_of_images_read_as_a_csv_says_to_choose_the_folder(qtbot, tmp_path):
    labels, _ = write_image_folder(tmp_path, 8, pixels=8)
    wizard = _wizard(qtbot)
    _read(qtbot, wizard, labels, "csv")
    heading = wizard.columns_page.heading.text()
    assert "labels.csv</b>: 8 rows" in heading
    assert "The column 'file' names image files" in heading
    assert "Image folder + table of labels" in heading


def test_the_file_menu_offers_new_and_predict(window, monkeypatch):
    new_menu = window.findChild(QMenu, "menuNew")
    assert [a.text().replace("&", "") for a in new_menu.actions()] == \
        ["Blank", "From example", "From data…"]
    assert window.findChild(QMenu, "menuNewFromExample").actions()  # the shipped examples
    opened = []
    monkeypatch.setattr(PredictDialog, "exec", lambda self: opened.append(self) or 0)
    window.findChild(QAction, "actionPredict").trigger()
    assert opened and opened[0].document is window.document
    assert "no trained run yet" in opened[0].error.text()  # the demo has not been trained


def test_a_bad_file_column_can_be_corrected_and_next_works_again(qtbot, tmp_path):
    write_image_folder(tmp_path, 16, pixels=16)
    wizard = _wizard(qtbot)
    page = wizard.source_page
    page.set_data(tmp_path / "images")
    page.file_column.setText("picture")
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    wizard.next()
    qtbot.waitUntil(lambda: "no column 'picture'" in page.status.text(), timeout=30_000)
    qtbot.waitUntil(lambda: not page.runner.is_running, timeout=30_000)
    assert next_button.isEnabled() and wizard.currentPage() is page
    page.file_column.setText("file")  # corrected: the old message goes, Next reads again
    assert page.status.text() == "" and next_button.isEnabled()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.columns_page, timeout=30_000)
