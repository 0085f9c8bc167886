"""The Sweep view: one sweep folder's trials and Pareto front, live while the sweep runs.

It watches the folder (:class:`~mogui.qt.sweep_watch.SweepWatcher`) and shows a sortable table
of every trial (its parameters, objectives and state; failed trials with their error) beside
the front (:class:`~mogui.qt.sweep_plots.ParetoPlot`). Picking a trial in either selects it in
both; "Open run" opens its run (:mod:`mogui.qt.trial_run`), "Use these settings" copies its
settings into the open project. A sweep started from the app (:class:`SweepProcess`) shows its
output below, and Stop ends it as Ctrl-C would; it resumes when started again on the folder.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QCloseEvent, QColor, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core import run_store
from mogui.core.run_store import RunStoreError
from mogui.core.runs import plural
from mogui.core.sweep_results import SweepTrial
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.process_runner import SpareChild
from mogui.qt.sweep_plots import ParetoPlot, direction_word
from mogui.qt.sweep_process import SweepProcess, swept_project_title
from mogui.qt.sweep_watch import POLL_MS, SweepState, SweepWatcher
from mogui.qt.trial_run import TrialRunDialog, apply_trial_settings, open_trial_run

_NUMBER_ROLE = Qt.ItemDataRole.UserRole
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FAILED_COLOUR = QColor("#b71c1c")
FRONT_MARK = "★"
#: Output lines kept in the view's log.
LOG_LINES = 2000


class _Cell(QTableWidgetItem):
    """A table cell that sorts by its key (numbers as numbers; blanks last)."""

    def __init__(self, text: str, key: float | str) -> None:
        super().__init__(text)
        self.setData(_SORT_ROLE, key)
        self.setFlags(self.flags() & ~Qt.ItemFlag.ItemIsEditable)
        if isinstance(key, float):
            self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if isinstance(mine, float) and isinstance(theirs, float):
            return mine < theirs
        if isinstance(mine, float) != isinstance(theirs, float):
            return isinstance(mine, float)  # numbers before blanks and words
        return str(mine) < str(theirs)


def _value_cell(value: float | str | None) -> _Cell:
    if value is None or value == "":
        return _Cell("", "")
    if isinstance(value, float):
        return _Cell("" if math.isnan(value) else f"{value:.4g}",
                     value if math.isfinite(value) else math.inf)
    return _Cell(str(value), str(value))


class SweepView(QWidget):
    """One sweep folder, as a window of its own (see the module's docstring)."""

    def __init__(self, folder: Path, document: ProjectDocument, parent: QWidget | None = None,
                 *, process: SweepProcess | None = None, spare: SpareChild | None = None,
                 poll_ms: int | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("sweepView")
        self.folder = Path(folder).absolute()
        self.document = document
        self.spare = spare
        self.process = process
        self.run_dialog: TrialRunDialog | None = None
        self.setWindowTitle(f"Sweep — {self.folder.name}")

        self.summary = QLabel(objectName="sweepSummary", wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = ParetoPlot(self)
        self.plot.picked.connect(self.select_trial)
        self.table = QTableWidget(0, 0, self, objectName="sweepTrialTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.table.itemDoubleClicked.connect(lambda *_: self.open_run())
        self.detail = QLabel(objectName="sweepTrialDetail", wordWrap=True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit(objectName="sweepLog", readOnly=True)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setVisible(process is not None)

        self.open_run_button = self._button("Open run", "openTrialRunButton", self.open_run,
                                            "Open the selected trial's run: its curves, "
                                            "evaluation, export and predictions")
        self.use_button = self._button("Use these settings", "useTrialSettingsButton",
                                       self.use_settings, "Train the open project with the "
                                       "selected trial's loss weights, balancing and "
                                       "learning rate")
        self.folder_button = self._button("Open folder", "openSweepFolderButton",
                                          self.open_folder, "Show the sweep's folder (its "
                                          "trials.csv, pareto.csv and pareto.png)")
        self.stop_button = self._button("Stop", "stopSweepButton", self.stop,
                                        "Stop the sweep (it resumes when started again on "
                                        "this folder)")
        self.stop_button.setVisible(process is not None)
        buttons = QHBoxLayout()
        for button in (self.open_run_button, self.use_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)

        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.table, 1)
        lower_layout.addWidget(self.detail)
        lower_layout.addLayout(buttons)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(lower)
        self.splitter.addWidget(self.log)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.splitter, 1)

        self.watcher = SweepWatcher(self.folder, self, poll_ms=poll_ms or POLL_MS)
        self.watcher.updated.connect(self.show_state)
        if process is not None:
            process.output.connect(self._on_output)
            process.ended.connect(self._on_ended)
            for line in process.lines:
                self._on_output(line)
        self.state = self.watcher.state
        self.show_state(self.state)
        self.resize(1100, 820)

    def _button(self, text: str, name: str, slot, tip: str) -> QPushButton:  # noqa: ANN001
        button = QPushButton(text, self, objectName=name, toolTip=tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- state ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running

    def show_state(self, state: SweepState) -> None:
        """Show ``state`` (the watcher's latest), keeping the selected trial selected."""
        self.state = state
        chosen = self.selected_trial()
        self._fill_table(state)
        self.plot.show_state(state)
        self.summary.setText(self._summary_text(state))
        self.select_trial(chosen)
        self._update_buttons()

    def _summary_text(self, state: SweepState) -> str:
        manifest = state.manifest
        if manifest is None:
            if self.process is not None and state.missing:
                return f"Starting the sweep into {self.folder}…"
            return state.problem
        counts = state.counts()
        done = counts.get("COMPLETE", 0)
        parts = [f"{done} of {manifest.trials} trials complete"]
        if counts.get("FAIL"):
            parts.append(f"{counts['FAIL']} failed")
        if counts.get("RUNNING"):
            parts.append(f"{counts['RUNNING']} running")
        goals = ", ".join(f"{o} ({direction_word(d)})"
                          for o, d in zip(manifest.objectives, manifest.directions,
                                          strict=True))
        searched = ", ".join(manifest.parameters)
        title = html.escape(swept_project_title(manifest.project), quote=False)
        text = (f"<b>Sweep of {title}</b> in {self.folder}: "
                f"{', '.join(parts)}; {plural(len(state.front), 'trial')} on the front.<br>"
                f"Objectives: {goals}. Searched: {searched}.")
        if state.problem:
            text += f"<br><span style='color:#b71c1c'>{state.problem}</span>"
        return text

    def _fill_table(self, state: SweepState) -> None:
        manifest = state.manifest
        params = list(manifest.parameters) if manifest is not None else []
        objectives = list(manifest.objectives) if manifest is not None else []
        headers = ["Trial", "State", *params, *objectives, "Front"]
        front = set(state.front)
        table = self.table
        table.blockSignals(True)
        table.setSortingEnabled(False)
        table.clearContents()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(state.trials))
        for row, trial in enumerate(state.trials):
            cells = [_Cell(str(trial.number), float(trial.number)),
                     _Cell(trial.state.lower(), trial.state),
                     *(_value_cell(trial.params.get(p)) for p in params),
                     *(_value_cell(trial.objectives.get(o)) for o in objectives),
                     _Cell(FRONT_MARK if trial.number in front else "",
                           "0" if trial.number in front else "1")]
            cells[-1].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            tip = self._trial_tip(trial)
            for column, cell in enumerate(cells):
                cell.setData(_NUMBER_ROLE, trial.number)
                cell.setToolTip(tip)
                if trial.state == "FAIL":
                    cell.setForeground(FAILED_COLOUR)
                table.setItem(row, column, cell)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()
        table.blockSignals(False)

    @staticmethod
    def _trial_tip(trial: SweepTrial) -> str:
        if trial.state == "FAIL":
            return f"Trial {trial.number} failed: {trial.error or 'no reason was recorded'}"
        if trial.run:
            return f"Trial {trial.number}: its run is in {trial.run}"
        return f"Trial {trial.number} ({trial.state.lower()})"

    # -- selection --------------------------------------------------------------------------
    def rows(self) -> list[list[str]]:
        """The table's text, row by row as shown (tests)."""
        return [[self.table.item(r, c).text() if self.table.item(r, c) else ""
                 for c in range(self.table.columnCount())] for r in range(self.table.rowCount())]

    def selected_trial(self) -> int | None:
        items = self.table.selectedItems()
        return None if not items else int(items[0].data(_NUMBER_ROLE))

    def select_trial(self, number: int | None) -> None:
        """Select trial ``number`` in the table and the plot (``None``: clear)."""
        table = self.table
        table.blockSignals(True)
        table.clearSelection()
        if number is not None:
            for row in range(table.rowCount()):
                item = table.item(row, 0)
                if item is not None and item.data(_NUMBER_ROLE) == number:
                    table.selectRow(row)
                    table.scrollToItem(item)
                    break
            else:
                number = None
        table.blockSignals(False)
        self.plot.select(number)
        self._show_detail(number)
        self._update_buttons()

    def _on_table_selection(self) -> None:
        number = self.selected_trial()
        self.plot.select(number)
        self._show_detail(number)
        self._update_buttons()

    def _show_detail(self, number: int | None) -> None:
        trial = None if number is None else self.state.trial(number)
        if trial is None:
            self.detail.setText("Pick a trial in the table or on the plot."
                                if self.state.trials else "")
            return
        text = self._trial_tip(trial)
        if trial.state == "COMPLETE" and trial.number not in self.state.front:
            text += " (another trial is at least as good on every objective)"
        elif trial.number in self.state.front:
            text += " (on the Pareto front)"
        self.detail.setText(text)

    def _update_buttons(self) -> None:
        number = self.selected_trial()
        folder = None if number is None else self.state.run_folder(number)
        self.open_run_button.setEnabled(folder is not None)
        self.use_button.setEnabled(folder is not None)
        self.stop_button.setEnabled(self.running and not self.process.stopping)

    # -- actions ----------------------------------------------------------------------------
    def open_run(self, number: int | None = None) -> TrialRunDialog | None:
        """Open the run of trial ``number`` (the selected one)."""
        number = self.selected_trial() if number is None else number
        trial = None if number is None else self.state.trial(number)
        folder = None if number is None else self.state.run_folder(number)
        if trial is None or folder is None:
            return None
        self.run_dialog = open_trial_run(folder, trial, self.document, self, spare=self.spare)
        return self.run_dialog

    def use_settings(self, number: int | None = None) -> str:
        """Copy the settings of trial ``number`` (the selected one) into the open project;
        returns what changed in words ("" when no trial with a run is chosen)."""
        number = self.selected_trial() if number is None else number
        folder = None if number is None else self.state.run_folder(number)
        if folder is None:
            return ""
        try:
            trained = run_store.run_project(folder)
        except RunStoreError as exc:
            error_dialog.show_error(self, "Cannot use the trial's settings", str(exc))
            return ""
        text = apply_trial_settings(self.document, trained, f"sweep trial {number}")
        self.detail.setText(text)
        return text

    def open_folder(self) -> bool:
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder))):
            return True
        error_dialog.show_error(self, "Cannot open the folder",
                                f"The sweep's folder could not be opened; it is {self.folder}")
        return False

    def stop(self) -> None:
        """Stop the sweep started from here (trials under way end; files stay consistent)."""
        if self.running:
            self.process.stop()
            self.log.appendPlainText("Stopping the sweep…")
        self._update_buttons()

    def _on_output(self, line: str) -> None:
        self.log.appendPlainText(line)

    def _on_ended(self, code: int, stopped: bool) -> None:
        self.watcher.check()
        if stopped:
            note = ("The sweep was stopped. Start it again on this folder to run the "
                    "missing trials.")
        elif code == 0:
            note = "The sweep has finished."
        else:
            said = [line.removeprefix("mogui: ") for line in
                    (self.process.lines if self.process else []) if line.startswith("mogui: ")]
            reason = said[-1] if said else "see its output below"
            note = (f"The sweep did not start: {reason}" if code == 2 else
                    f"The sweep ended before its last trial (exit code {code}): {reason}")
        self.log.appendPlainText(note)
        self.detail.setText(note)
        self._update_buttons()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing while the sweep runs asks whether to stop it; Cancel keeps the window."""
        if self.running and not self.process.stopping:
            answer = QMessageBox.question(
                self, "Sweep in progress",
                "The sweep is still running. Stop it and close? The trials completed so far "
                "are kept; starting the sweep again on this folder runs the missing ones.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.process.stop()
        self.watcher.stop()
        event.accept()
