"""The Data dialog's scaling of regression targets (``standardize``) and the image folder's
cache of decoded images: shown as the project has them, applied as one undoable step."""

from __future__ import annotations

from mogui.core.io import save_project
from mogui.qt.data_dialog import DataDialog
from mogui.qt.document import ProjectDocument
from tests.engine.data_builders import image_project, table_project, write_image_folder


def test_standardize_is_set_per_regression_head_and_undone_in_one_step(qtbot, tmp_path):
    project = table_project()  # heads: size (regression), kind (multiclass)
    document = ProjectDocument(project)
    dialog = DataDialog(document)
    qtbot.addWidget(dialog)
    assert list(dialog.standardize) == ["size"]  # only regression heads have the choice
    box = dialog.standardize["size"]
    assert box.objectName() == "standardize_size" and not box.isChecked()
    box.setChecked(True)
    dialog.accept()
    assert document.project.head("size").standardize
    assert not document.project.head("kind").standardize
    document.undo_stack.undo()
    assert not document.project.head("size").standardize
    document.edit("on", lambda p: setattr(p.head("size"), "standardize", True))
    again = DataDialog(document)
    qtbot.addWidget(again)
    assert again.standardize["size"].isChecked()


def test_the_image_cache_is_chosen_with_the_image_folder(qtbot, tmp_path):
    write_image_folder(tmp_path, 12, pixels=16)
    project = image_project(16)
    path = tmp_path / "images.mogui.json"
    save_project(project, path)
    document = ProjectDocument(project, path)
    dialog = DataDialog(document)
    qtbot.addWidget(dialog)
    assert dialog.cache.currentData() == "none"
    assert list(dialog.standardize) == ["bbox"]
    dialog.cache.setCurrentIndex(dialog.cache.findData("disk"))
    dialog.accept()
    assert document.project.data.cache == "disk"
    reopened = DataDialog(document)
    qtbot.addWidget(reopened)
    assert reopened.cache.currentData() == "disk"
