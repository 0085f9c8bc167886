"""The Data dialog: choose a source, map columns, see checks, apply as one undoable edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from mogui.core.io import save_project
from mogui.core.project import CsvData, DemoShapesData, ImageFolderData
from mogui.qt.data_dialog import DataDialog
from mogui.qt.document import ProjectDocument
from tests.engine.data_builders import (
    KINDS,
    image_project,
    table_project,
    write_image_folder,
    write_table,
)


def _document(tmp_path: Path, project) -> ProjectDocument:
    path = tmp_path / "project.mogui.json"
    save_project(project, path)
    return ProjectDocument(project, path)


def _dialog(qtbot, document) -> DataDialog:
    dialog = DataDialog(document)
    qtbot.addWidget(dialog)
    return dialog


def _choose(dialog: DataDialog, kind: str) -> None:
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))


def _mapping(dialog: DataDialog) -> dict[str, tuple[str, str]]:
    table = dialog.mapping
    return {table.item(r, 0).text(): (table.item(r, 2).text(), table.item(r, 3).text())
            for r in range(table.rowCount())}


def _set_columns(dialog: DataDialog, name: str, columns: str) -> None:
    for r in range(dialog.mapping.rowCount()):
        if dialog.mapping.item(r, 0).text() == name:
            dialog.mapping.item(r, 2).setText(columns)


def test_csv_source_is_mapped_checked_and_applied_undoably(qtbot, tmp_path):
    write_table(tmp_path, 30, missing_size=(2, 5), missing_kind=(7,))
    project = table_project()
    project.data = DemoShapesData()
    document = _document(tmp_path, project)
    dialog = _dialog(qtbot, document)
    assert dialog.kind.currentData() == "demo_shapes"
    assert not dialog.mapping_box.isVisibleTo(dialog)

    _choose(dialog, "csv")
    dialog.csv_path.set_path(str(tmp_path / "table.csv"))
    assert dialog.csv_path.text() == "table.csv"
    assert dialog.preview.rowCount() == 20 and dialog.preview.columnCount() == 5
    assert dialog.preview.horizontalHeaderItem(4).text() == "kind"
    _set_columns(dialog, "x", "a, b, c")
    dialog.auto_map_columns()
    assert _mapping(dialog) == {"x": ("a, b, c", ""), "size": ("size", ""),
                                "kind": ("kind", ", ".join(sorted(KINDS)))}

    report = _check(qtbot, dialog)
    assert report.ok, report.errors
    summary = {dialog.summary.item(r, 0).text(): (dialog.summary.item(r, 1).text(),
                                                  dialog.summary.item(r, 2).text())
               for r in range(dialog.summary.rowCount())}
    assert summary == {"size": ("28", "2"), "kind": ("29", "1")}
    assert "Ready" in dialog.problems.text() and "30 rows" in dialog.problems.text()

    dialog.validation_split.setValue(0.3)
    dialog.seed.setValue(7)
    dialog.shuffle.setChecked(False)
    dialog.accept()
    data = document.project.data
    assert isinstance(data, CsvData) and data.path == "table.csv"
    assert [m.columns for m in data.inputs] == [["a", "b", "c"]]
    assert data.targets[1].classes == sorted(KINDS)
    training = document.project.training
    assert (training.validation_split, training.seed, training.shuffle) == (0.3, 7, False)
    document.undo_stack.undo()
    assert isinstance(document.project.data, DemoShapesData)
    assert document.project.training.seed == 3


def _check(qtbot, dialog):
    """Run the data checks (in their worker thread) and return the report."""
    with qtbot.waitSignal(dialog.checked, timeout=30_000) as blocker:
        assert dialog.run_checks()
    return blocker.args[0]


def _csv_dialog(qtbot, tmp_path) -> DataDialog:
    """The dialog on a 12-row table.csv, CSV chosen, columns not mapped yet."""
    write_table(tmp_path, 12)
    dialog = _dialog(qtbot, _document(tmp_path, table_project()))
    _choose(dialog, "csv")
    dialog.csv_path.set_path("table.csv")
    return dialog


def test_problems_are_shown_in_plain_words(qtbot, tmp_path):
    dialog = _csv_dialog(qtbot, tmp_path)
    _set_columns(dialog, "x", "a, b, missing_col")
    _set_columns(dialog, "size", "size")
    _set_columns(dialog, "kind", "kind")
    report = _check(qtbot, dialog)
    assert not report.ok
    text = dialog.problems.text()
    assert "Error" in text and "missing_col" in text and "(for 'x')" in text


def test_checks_run_off_the_gui_thread_and_say_so(qtbot, tmp_path):
    dialog = _csv_dialog(qtbot, tmp_path)
    dialog.auto_map_columns()
    with qtbot.waitSignal(dialog.checked, timeout=30_000):
        assert dialog.run_checks()
        assert not dialog.check_button.isEnabled()
        assert dialog.check_button.text() == "Checking…"
        assert "Checking the data" in dialog.problems.text()
        assert not dialog.run_checks()  # one check at a time
    assert dialog.check_button.isEnabled() and dialog.check_button.text() == "Check data"
    dialog.csv_path.set_path("")
    report = _check(qtbot, dialog)  # nothing to read: said at once, no thread needed
    assert not report.ok and "Choose the CSV table" in dialog.problems.text()


def test_image_folder_source_with_class_names(qtbot, tmp_path):
    write_image_folder(tmp_path, 12, pixels=16, missing_shape=(3,))
    project = image_project(16)
    project.data = DemoShapesData()
    document = _document(tmp_path, project)
    dialog = _dialog(qtbot, document)
    _choose(dialog, "image_folder")
    dialog.image_folder.set_path(str(tmp_path / "images"))
    dialog.labels_path.set_path(str(tmp_path / "labels.csv"))
    assert dialog.file_column.currentText() == "file"
    _set_columns(dialog, "bbox", "x_min, y_min, x_max, y_max")
    _set_columns(dialog, "shape", "shape")
    dialog.auto_map_columns()
    report = _check(qtbot, dialog)
    assert report.ok, report.errors
    assert (report.summaries["shape"].labelled, report.summaries["shape"].missing) == (11, 1)
    dialog.accept()
    data = document.project.data
    assert isinstance(data, ImageFolderData)
    assert (data.folder, data.labels, data.file_column) == ("images", "labels.csv", "file")


def test_ok_without_a_file_says_what_to_choose(qtbot, tmp_path):
    document = _document(tmp_path, table_project())
    dialog = _dialog(qtbot, document)
    _choose(dialog, "csv")
    dialog.csv_path.set_path("")
    dialog.accept()
    assert "Choose the CSV table" in dialog.problems.text()
    assert document.undo_stack.count() == 0


@pytest.mark.gui
def test_main_window_opens_the_data_dialog(qtbot, window, monkeypatch):
    opened = []
    monkeypatch.setattr(DataDialog, "exec", lambda self: opened.append(self) or 0)
    window.findChild(type(window.action_undo), "actionData").trigger()
    assert opened and opened[0].document is window.document


def test_an_unexpected_error_in_the_check_is_reported_plainly(qtbot, tmp_path, monkeypatch):
    import mogui.engine.data.checks as data_checks

    def broken(*_args):
        raise RuntimeError("disk vanished")

    monkeypatch.setattr(data_checks, "check_data", broken)
    dialog = _csv_dialog(qtbot, tmp_path)
    report = _check(qtbot, dialog)
    assert not report.ok
    text = dialog.problems.text()
    assert "unexpected error: RuntimeError: disk vanished" in text and "Traceback" not in text
    assert dialog.check_button.isEnabled()
