"""The Export dialog with a real document, real files and the export in a worker thread."""

from __future__ import annotations

import ast
import csv

import pytest
from PySide6.QtGui import QGuiApplication

from mogui.core.io import save_project
from mogui.engine.model.build import build_model
from mogui.qt.document import ProjectDocument
from mogui.qt.export_dialog import ExportDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot, demo_project, tmp_path):
    path = tmp_path / "demo.json"
    save_project(demo_project, path)
    document = ProjectDocument(demo_project, path)
    widget = ExportDialog(document)
    qtbot.addWidget(widget)
    return widget


def test_shows_the_script_and_copies_and_saves_it(dialog, tmp_path):
    code = dialog.code()
    ast.parse(code)
    assert "EPOCHS = 1" in code and "def build_model():" in code
    dialog.epochs_spin.setValue(7)
    assert "EPOCHS = 7" in dialog.code()
    dialog.copy_code()
    assert QGuiApplication.clipboard().text() == dialog.code()
    dialog.save_code(tmp_path / "script.py")
    assert (tmp_path / "script.py").read_text() == dialog.code()
    assert dialog.folder_edit.text().endswith("demo_export")
    assert not dialog.from_run_box.isChecked() and not dialog.run_edit.isEnabled()


def test_bad_folder_shows_a_readable_error(dialog, qtbot, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    dialog.folder_edit.setText(str(tmp_path / "taken"))
    with qtbot.waitSignal(dialog.finished_export, timeout=30000) as blocker:
        dialog.start_export()
    assert blocker.args == [None]
    assert "already holds other files" in dialog.error_label.text()
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())


def test_exports_from_an_existing_training_output(dialog, qtbot, demo_project, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    build_model(demo_project).save(run / "model.keras")  # stands in for a trained model
    with open(run / "history.csv", "w", newline="") as file:
        csv.writer(file).writerows([["epoch", "loss", "bbox_loss", "classification_loss"],
                                    [1, 2.5, 0.5, 1.3]])
    dialog.from_run_box.setChecked(True)
    assert not dialog.epochs_spin.isEnabled()
    dialog.run_edit.setText(str(run))
    dialog.format_boxes["keras"].setChecked(True)
    out = tmp_path / "out"
    dialog.folder_edit.setText(str(out))
    with qtbot.waitSignal(dialog.finished_export, timeout=60000) as blocker:
        dialog.start_export()
    result = blocker.args[0]
    assert result is not None, dialog.error_label.text()
    assert (out / "model_inference.keras").is_file() and (out / "loss.png").is_file()
    assert dialog.error_label.text() == ""
    assert str(out) in dialog.status_label.text()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())
