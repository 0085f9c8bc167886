"""The main window: menus, tabs (Model | Losses | Training | Runs), title and status bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from mogui.core.io import example_names
from mogui.core.runs import plural
from mogui.qt import error_dialog
from mogui.qt.autosave import Autosaver
from mogui.qt.data_dialog import DataDialog
from mogui.qt.document import ProjectDocument
from mogui.qt.engine_loader import release_engine
from mogui.qt.export_dialog import ExportDialog
from mogui.qt.file_actions import FileActions, recent_files
from mogui.qt.loss_panel import LossPanel
from mogui.qt.model_editor import ModelEditor
from mogui.qt.predict_dialog import PredictDialog
from mogui.qt.process_runner import SpareChild
from mogui.qt.project_dialog import ProjectPropertiesDialog
from mogui.qt.readiness import READY, start_blocker
from mogui.qt.run_list import RunList
from mogui.qt.run_model import RunModel
from mogui.qt.settings import (
    lower_priority_enabled,
    reopen_last_enabled,
    set_lower_priority_enabled,
    set_reopen_last_enabled,
    settings,
)
from mogui.qt.tracking_menu import TrackingMenu
from mogui.qt.trust_banner import TrustBanner
from mogui.qt.undo_keys import FieldUndoKeys

if TYPE_CHECKING:
    from mogui.qt.sweep_dialog import SweepManager
    from mogui.qt.training_panel import TrainingPanel

GEOMETRY_KEY = "mainWindow/geometry"
STATE_KEY = "mainWindow/state"


def redo_shortcuts() -> list[QKeySequence]:
    """The platform's redo keys (Ctrl+Shift+Z on Linux and macOS), and Ctrl+Y everywhere."""
    keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
    ctrl_y = QKeySequence("Ctrl+Y")
    return keys if ctrl_y in keys else [*keys, ctrl_y]


class MainWindow(QMainWindow):
    """Hosts the editors of one :class:`ProjectDocument`."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 warm_child: bool = False, defer_training_tab: bool = False) -> None:
        """``warm_child``: keep a child process ready for the next run (the app does).
        ``defer_training_tab``: build the Training tab only in :meth:`build_training_tab`
        (the app calls it once the window is on screen; switching to the tab does too), so
        that its plotting library does not delay the window."""
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.document = document
        self.runs = RunModel(self)
        self.spare = SpareChild() if warm_child else None
        self.files = FileActions(document, self)
        self.autosave = Autosaver(document, self)  # unsaved changes survive a crash
        self.editor = ModelEditor(document)
        self.loss_panel = LossPanel(document, spare=self.spare)
        self.training_panel: TrainingPanel | None = None
        self.sweeps: SweepManager | None = None  # made by the first File ▸ Sweep…
        self.tabs = QTabWidget(objectName="mainTabs")
        self.tabs.addTab(self.editor, "Model")
        self.tabs.addTab(self.loss_panel, "Losses")
        self._training_placeholder = QLabel("Loading the Training tab…",
                                            alignment=Qt.AlignmentFlag.AlignCenter)
        self.tabs.addTab(self._training_placeholder, "Training")
        self.run_list = RunList(document, self.runs, spare=self.spare)
        self.tabs.addTab(self.run_list, "Runs")
        self.trust_banner = TrustBanner(document)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.trust_banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.problems_label = QLabel(objectName="problemsLabel")
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)  # "val_<head>_loss"
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long message is cut at the window's edge (the tooltip has it all); it never makes
        # the window wider.
        self.problems_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.problems_label, 1)
        self._build_menus()

        self.tabs.currentChanged.connect(self._on_tab_changed)
        if not defer_training_tab:
            self.build_training_tab()
        document.changed.connect(self._update_status)
        document.trust_changed.connect(self._update_status)
        document.path_changed.connect(self._update_status)  # data paths are relative to it
        self.editor.inspection.updated.connect(self._update_status)
        document.path_changed.connect(self._update_title)
        document.changed.connect(self._update_title)  # a new project name shows at once
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.files.recent_changed.connect(self._fill_recent_menu)
        self.files.first_saved.connect(self._runs_follow_first_save)
        self._update_title()
        self._update_status()
        self.resize(1400, 860)
        stored = settings()
        geometry = stored.value(GEOMETRY_KEY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = stored.value(STATE_KEY)
        if state is not None:
            self.restoreState(state)

    # -- menus ------------------------------------------------------------------------------
    def _action(self, name: str, text: str, slot, shortcut=None) -> QAction:  # noqa: ANN001
        action = QAction(text, self, objectName=name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_menu = file_menu.addMenu("&New")
        self.new_menu.setObjectName("menuNew")
        self.action_new_blank = self._action("actionNewBlank", "&Blank", self.files.new_blank,
                                             QKeySequence.StandardKey.New)
        self.new_menu.addAction(self.action_new_blank)
        self.examples_menu = self.new_menu.addMenu("From &example")
        self.examples_menu.setObjectName("menuNewFromExample")
        self.action_new_from_data = self._action("actionNewFromData", "From &data…",
                                                 self.files.new_from_data)
        self.new_menu.addAction(self.action_new_from_data)
        for name in example_names():
            stem = name.removesuffix(".json")
            self.examples_menu.addAction(self._action(
                f"actionExample_{stem}", stem.replace("_", " "),
                lambda s=stem: self.files.new_from_example(s)))
        self.action_open = self._action("actionOpen", "&Open…", self.files.open_dialog,
                                        QKeySequence.StandardKey.Open)
        file_menu.addAction(self.action_open)
        self.recent_menu = QMenu("Open &Recent", self, objectName="menuOpenRecent")
        file_menu.addMenu(self.recent_menu)
        self._fill_recent_menu()
        file_menu.addSeparator()
        self.action_save = self._action("actionSave", "&Save", self.files.save,
                                        QKeySequence.StandardKey.Save)
        self.action_save_as = self._action("actionSaveAs", "Save &As…", self.files.save_as,
                                           QKeySequence.StandardKey.SaveAs)
        self.action_quit = self._action("actionQuit", "&Quit", self.close,
                                        QKeySequence.StandardKey.Quit)
        file_menu.addActions([self.action_save, self.action_save_as])
        self.action_export = self._action("actionExport", "&Export…", self._open_export)
        file_menu.addAction(self.action_export)
        self.action_predict = self._action("actionPredict", "&Predict…", self.open_predict)
        file_menu.addAction(self.action_predict)
        self.action_sweep = self._action("actionSweep", "S&weep…", self.open_sweeps)
        file_menu.addAction(self.action_sweep)
        file_menu.addSeparator()
        file_menu.addAction(self.action_quit)

        edit_menu = self.menuBar().addMenu("&Edit")
        stack = self.document.undo_stack
        self.action_undo = stack.createUndoAction(self)
        self.action_undo.setObjectName("actionUndo")
        self.action_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.action_redo = stack.createRedoAction(self)
        self.action_redo.setObjectName("actionRedo")
        self.action_redo.setShortcuts(redo_shortcuts())
        edit_menu.addActions([self.action_undo, self.action_redo])
        # Qt enables them again whenever the stack can undo; a run keeps them locked.
        self._running = False
        self._field_keys = FieldUndoKeys(self)
        QApplication.instance().installEventFilter(self._field_keys)
        stack.canUndoChanged.connect(lambda can: self._allow(self.action_undo, can))
        stack.canRedoChanged.connect(lambda can: self._allow(self.action_redo, can))
        edit_menu.addSeparator()
        self.action_data = self._action("actionData", "&Data…", self.open_data_dialog)
        edit_menu.addAction(self.action_data)
        self.action_properties = self._action("actionProjectProperties",
                                              "Project &properties…",
                                              self.open_project_properties)
        edit_menu.addAction(self.action_properties)
        self.action_lower_priority = QAction(
            "Lower background threads' priority while training", self,
            objectName="actionLowerPriority", checkable=True, checked=lower_priority_enabled())
        self.action_lower_priority.toggled.connect(set_lower_priority_enabled)
        edit_menu.addAction(self.action_lower_priority)
        self.action_reopen_last = QAction(
            "Reopen the last project on launch", self, objectName="actionReopenLast",
            checkable=True, checked=reopen_last_enabled())
        self.action_reopen_last.toggled.connect(set_reopen_last_enabled)
        edit_menu.addAction(self.action_reopen_last)
        self.tracking_menu = TrackingMenu(self.document, self)
        edit_menu.addMenu(self.tracking_menu)

    def open_data_dialog(self) -> None:
        DataDialog(self.document, self).exec()

    def open_project_properties(self) -> None:
        ProjectPropertiesDialog(self.document, self).exec()

    def _open_export(self) -> None:
        ExportDialog(self.document, self, runs=self.runs, spare=self.spare).exec()

    def open_sweeps(self) -> SweepManager:
        """Show the Sweep dialog: start a sweep of the project, or open a sweep folder."""
        if self.sweeps is None:
            # Imported here, for the window's start: the Sweep view's plots bring pyqtgraph.
            # Not a way round a circle.
            from mogui.qt.sweep_dialog import SweepManager

            self.sweeps = SweepManager(self.document, self, spare=self.spare)
        self.sweeps.open_dialog()
        return self.sweeps

    def open_predict(self) -> None:
        dialog = PredictDialog(self.document, self, spare=self.spare)
        dialog.exec()
        dialog.deleteLater()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.files.open_recent(p))
        self.recent_menu.setEnabled(bool(files))

    # -- the Training tab -------------------------------------------------------------------
    def build_training_tab(self) -> TrainingPanel:
        """The Training tab's panel, built now if it is not yet (see ``defer_training_tab``)."""
        if self.training_panel is not None:
            return self.training_panel
        # Imported here, for the window's start: the panel's plots bring pyqtgraph (about
        # 0.2 s of CPU), which the window does not need to appear. Not a way round a circle.
        from mogui.qt.training_panel import TrainingPanel

        panel = TrainingPanel(self.document, runs=self.runs, spare=self.spare,
                              inspection=self.editor.inspection)
        index = self.tabs.indexOf(self._training_placeholder)
        current = self.tabs.currentIndex()
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, panel, "Training")
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        self._training_placeholder.deleteLater()
        panel.running_changed.connect(self.set_training_running)
        self.training_panel = panel
        return panel

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self._training_placeholder:
            self.build_training_tab()
            self.tabs.setCurrentIndex(index)

    # -- state ------------------------------------------------------------------------------
    def _lock_undo(self) -> None:
        stack = self.document.undo_stack
        self._allow(self.action_undo, stack.canUndo())
        self._allow(self.action_redo, stack.canRedo())

    def _allow(self, action: QAction, can: bool) -> None:
        """Undo or Redo as the stack allows, and never during a run: an edit made during the
        run (a loss setting) would otherwise open the way back to locked ones."""
        if isValid(action):  # the stack also says so while the window is being destroyed
            action.setEnabled(can and not self._running)

    def set_training_running(self, running: bool) -> None:
        """Lock model edits (and undo, new, open) while training runs."""
        self._running = running
        self.editor.set_locked(running)
        self._lock_undo()
        self.action_open.setEnabled(not running)
        self.action_data.setEnabled(not running)
        self.new_menu.setEnabled(not running)
        self.recent_menu.setEnabled(not running and bool(recent_files()))


    def _runs_follow_first_save(self, path: Path) -> None:
        """The runs trained while the project was untitled move beside its new file."""
        moved, stayed = self.runs.follow_first_save(self.document.identity,
                                                    self.document.project, path)
        said = []
        if moved:
            said.append(f"{plural(len(moved), 'run')} moved to {moved[0].folder.parent}.")
        said.extend(stayed)
        if said:
            self.statusBar().showMessage(" ".join(said), 20_000)

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _update_title(self) -> None:
        dirty = self.document.dirty
        self.setWindowTitle(f"{self.files.display_name()}{'*' if dirty else ''} — mogui")

    def _update_status(self) -> None:
        """What Start would say: ``Cannot train: …`` (the same check and words), or Ready."""
        blocker = start_blocker(self.document, self.editor.inspection)
        if blocker is not None:
            self._show_status(blocker.message, "#c62828", blocker.details)
        else:
            self._show_status(READY)

    def _show_status(self, text: str, color: str = "", details: str = "") -> None:
        self.problems_label.setText(text)
        self.problems_label.setToolTip(details or text)
        self.problems_label.setStyleSheet(f"color: {color};" if color else "")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quit: a run is stopped first (after asking), then unsaved changes are asked about;
        Cancel at either question keeps the window (a run stopped by the first stays so)."""
        training = self.training_panel
        if training is not None and training.is_running:
            if not error_dialog.confirm_stop_training(self):
                event.ignore()
                return
            training.worker.shutdown()
        if self.sweeps is not None and not self.sweeps.close_all():
            event.ignore()
            return
        if not self.files.confirm_discard("quitting"):
            event.ignore()
            return
        self.autosave.shutdown()  # saved, discarded or clean: nothing left to recover
        stored = settings()
        stored.setValue(GEOMETRY_KEY, self.saveGeometry())
        stored.setValue(STATE_KEY, self.saveState())
        stored.sync()
        release_engine()  # jobs still held for the window's first paint may finish now
        if training is not None:
            training.shutdown()
        self.loss_panel.shutdown()
        self.editor.inspection.wait()
        if self.spare is not None:
            self.spare.close()
        # The document may outlive the window (and its undo stack emits while it is deleted).
        self.document.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
        event.accept()
