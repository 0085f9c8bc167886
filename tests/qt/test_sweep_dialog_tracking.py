"""The Sweep dialog and Edit ▸ Run tracking ▸ Log runs to MLflow: the sweep it starts is
logged (``--mlflow``) exactly when the preference is on and MLflow is installed, and the dialog
says where; real widgets, the real preference store (a folder of the test's own)."""

from __future__ import annotations

import sys

import pytest

from mogui.core.tracking import INSTALL_HINT, URI_VARIABLE
from mogui.qt.document import ProjectDocument
from mogui.qt.settings import MLFLOW_KEY, set_tracking_enabled
from mogui.qt.sweep_dialog import SweepDialog

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _default_store(monkeypatch):
    monkeypatch.delenv(URI_VARIABLE, raising=False)


def _dialog(qtbot, document: ProjectDocument, out) -> SweepDialog:
    dialog = SweepDialog(document)
    qtbot.addWidget(dialog)
    dialog.out_edit.setText(str(out))
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()
    return dialog


@pytest.mark.parametrize("on", [False, True], ids=["preference off", "preference on"])
def test_the_sweep_is_logged_to_mlflow_exactly_when_the_preference_is_on(qtbot, tmp_path,
                                                                        demo_project, on):
    set_tracking_enabled(MLFLOW_KEY, on)
    document = ProjectDocument(demo_project)
    document.save(tmp_path / "demo.json")
    dialog = _dialog(qtbot, document, tmp_path / "out")
    request = dialog.build_request()
    assert ("--mlflow" in request.arguments()) is on
    assert ("--mlflow" in request.command_text()) is on
    assert "--mlflow-experiment" not in request.arguments()  # the file's own name: the default
    assert dialog.tracking_label.isHidden() is not on
    if on:  # the store `mogui sweep` uses for this file: runs/mlflow.db beside it
        text = dialog.tracking_label.text()
        assert f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}" in text
        assert "experiment 'demo'" in text and "Save the project first" not in text


def test_an_unsaved_project_is_logged_in_an_experiment_named_after_it(qtbot, tmp_path,
                                                                      demo_project):
    set_tracking_enabled(MLFLOW_KEY, True)
    document = ProjectDocument(demo_project)  # untitled: the sweep reads a copy
    dialog = _dialog(qtbot, document, tmp_path / "out")
    args = dialog.build_request().arguments()
    assert "--mlflow" in args
    experiment = args[args.index("--mlflow-experiment") + 1]
    assert experiment == demo_project.slug
    assert f"experiment '{experiment}'" in dialog.tracking_label.text()
    assert "Save the project first" in dialog.tracking_label.text()


def test_without_mlflow_the_sweep_runs_unlogged_and_the_dialog_says_why(qtbot, tmp_path,
                                                                        demo_project,
                                                                        monkeypatch):
    set_tracking_enabled(MLFLOW_KEY, True)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    document = ProjectDocument(demo_project)
    document.save(tmp_path / "demo.json")
    dialog = _dialog(qtbot, document, tmp_path / "out")
    assert "--mlflow" not in dialog.build_request().arguments()
    text = dialog.tracking_label.text()
    assert "mlflow is not installed" in text and INSTALL_HINT in text
    assert "--mlflow" not in text
