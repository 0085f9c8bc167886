"""One sweep trial's run, opened in the app: what it trained with, how each head's loss went,
and what to do with it (evaluate, export, predict, save its model, use its settings).

A trial's run is a run folder like any other (:mod:`mogui.core.run_store`), kept in the sweep's
folder rather than beside the project, so the Runs tab does not list it: this window is where
it is opened. "Use these settings" copies what a sweep searches (each head's loss weight, the
balancing method and the learning rate) from the run's project into the open project, as one
step that Undo takes back.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mogui.core import run_store
from mogui.core.head_palette import head_colours
from mogui.core.project import Project
from mogui.core.run_store import RunInfo, RunStoreError
from mogui.core.runs import HISTORY_FILE, Run
from mogui.core.sweep_results import SweepTrial
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.evaluation_dialog import EvaluationDialog
from mogui.qt.export_dialog import ExportDialog
from mogui.qt.log_axis import log_axes
from mogui.qt.predict_dialog import PredictDialog
from mogui.qt.process_runner import SpareChild
from mogui.qt.run_list import model_file_name, save_run_model


def read_history(path: Path) -> dict[str, list[float]]:
    """A run's ``history.csv`` as columns (``{}`` when it is missing or unreadable)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key in (None, "epoch") or value in (None, ""):
                continue
            try:
                columns.setdefault(key, []).append(float(value))
            except ValueError:
                continue
    return columns


def trial_settings_changes(current: Project, trained: Project) -> list[str]:
    """What "Use these settings" would change in ``current`` to train as ``trained`` did, in
    words (empty: nothing differs)."""
    changes = []
    trained_heads = {h.name: h for h in trained.heads}
    for head in current.heads:
        other = trained_heads.get(head.name)
        if other is not None and other.loss.weight != head.loss.weight:
            changes.append(f"{head.name} weight {head.loss.weight:g} → {other.loss.weight:g}")
    if trained.joint_loss.term_weights != current.joint_loss.term_weights:
        changes.append("joint loss term weights")
    if trained.training.balancing != current.training.balancing:
        changes.append(f"balancing {current.training.balancing.method} → "
                       f"{trained.training.balancing.method}")
    if trained.training.learning_rate != current.training.learning_rate:
        changes.append(f"learning rate {current.training.learning_rate:g} → "
                       f"{trained.training.learning_rate:g}")
    return changes


def apply_trial_settings(document: ProjectDocument, trained: Project, label: str) -> str:
    """Copy the weights, balancing and learning rate of ``trained`` into the document (one
    undoable step named after ``label``); returns what changed in words, or why nothing did."""
    shared = {h.name for h in trained.heads} & set(document.project.head_names)
    if not shared:
        return (f"The open project has none of the heads {label} trained "
                f"({', '.join(h.name for h in trained.heads)}): open the project the sweep "
                "ran, then use its settings.")
    changes = trial_settings_changes(document.project, trained)
    if not changes:
        return f"The open project already trains with the settings of {label}."

    def copy(project: Project) -> None:
        weights = {h.name: h.loss.weight for h in trained.heads}
        for head in project.heads:
            if head.name in weights:
                head.loss.weight = weights[head.name]
        project.joint_loss.term_weights = dict(trained.joint_loss.term_weights)
        project.training.balancing = trained.training.balancing.model_copy(deep=True)
        project.training.learning_rate = trained.training.learning_rate

    document.edit(f"Use the settings of {label}", copy)
    return "Now training with " + "; ".join(changes) + " (Edit ▸ Undo takes it back)."


def loss_plot(parent: QWidget, run: Run, history: dict[str, list[float]]) -> pg.PlotWidget:
    """Each head's loss per epoch (validation solid, training dashed), in the head's colour;
    on a log scale when every value is positive (heads' losses differ by orders of
    magnitude). The legend sits below the axes, where it hides no curve."""
    plot = pg.PlotWidget(parent, background="w", axisItems=log_axes())
    plot.setObjectName("trialLossPlot")
    plot.setMinimumSize(360, 220)
    item = plot.plotItem
    item.setMenuEnabled(False)
    item.hideButtons()
    item.setLabel("bottom", "epoch")
    for name in ("left", "bottom"):
        item.getAxis(name).setTextPen("#333")
    heads = [h.name for h in run.project.loss_heads()]
    colours = head_colours(heads)
    keys = [(f"val_{h}_loss", f"{h} (validation)", colours[h], Qt.PenStyle.SolidLine)
            for h in heads] + [(f"{h}_loss", f"{h} (training)", colours[h], Qt.PenStyle.DashLine)
                               for h in heads]
    if not any(key in history for key, *_ in keys):  # one head: Keras logs only the total
        keys = [("val_loss", "validation", "#222222", Qt.PenStyle.SolidLine),
                ("loss", "training", "#222222", Qt.PenStyle.DashLine)]
    shown = [(key, *rest) for key, *rest in keys if history.get(key)]
    logarithmic = bool(shown) and all(v > 0 for key, *_ in shown for v in history[key])
    item.setLogMode(y=logarithmic)
    item.setLabel("left", "loss (log scale)" if logarithmic else "loss")
    legend = pg.LegendItem(labelTextColor="#333", colCount=max(1, len(heads)))
    item.layout.addItem(legend, 4, 1)
    for key, label, colour, style in shown:
        values = history[key]
        curve = item.plot(list(range(1, len(values) + 1)), values, symbol="o", symbolSize=5,
                          symbolBrush=colour, symbolPen=None,
                          pen=pg.mkPen(colour, width=2, style=style))
        legend.addItem(curve, label)
    return plot


class TrialRunDialog(QDialog):
    """The run of one sweep trial (see the module's docstring)."""

    def __init__(self, folder: Path, trial: SweepTrial, document: ProjectDocument,
                 parent: QWidget | None = None, *, spare: SpareChild | None = None) -> None:
        """Raises :class:`RunStoreError` when ``folder`` holds no readable run."""
        super().__init__(parent)
        self.setObjectName("trialRunDialog")
        self.folder = Path(folder)
        self.trial = trial
        self.document = document
        self.spare = spare
        self.info: RunInfo = run_store.read_run_info(self.folder)
        self.run: Run = run_store.load_run(self.folder)
        self.history = read_history(self.folder / HISTORY_FILE)
        self.label = f"sweep trial {trial.number}"
        self.setWindowTitle(f"Trial {trial.number} — {self.run.project.name}")

        params = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in trial.params.items()) or "none recorded"
        objectives = ", ".join(f"{k} {v:.4g}" for k, v in trial.objectives.items()) or \
            "none (the trial did not complete)"
        self.summary = QLabel(objectName="trialRunSummary", wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setText(f"<b>Trial {trial.number}</b> ({trial.state.lower()}): "
                             f"{self.info.describe()}<br>Parameters: {params}<br>"
                             f"Objectives: {objectives}<br>Run folder: {self.folder}")
        self.plot = loss_plot(self, self.run, self.history)
        self.message = QLabel(objectName="trialRunMessage", wordWrap=True)
        usable = self.info.has_model
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot, tip, enabled in (
                ("evaluate", "Evaluate…", self.evaluate, "Per head: confusion matrix, "
                 "predicted against true, the rows it gets most wrong", usable),
                ("export", "Export…", self.export, "Export this trial's model with the "
                 "project it trained", usable),
                ("predict", "Predict…", self.predict, "Predict a new data file with this "
                 "trial's model", usable),
                ("save", "Save model…", self._save_model_dialog, "Save this trial's model as "
                 "a .keras file, with its history as CSV", usable),
                ("folder", "Open folder", self.open_folder, "Show the run's folder in the "
                 "file manager", True),
                ("use", "Use these settings", self.use_settings, "Train the open project "
                 "with this trial's loss weights, balancing and learning rate", True)):
            button = QPushButton(text, self, objectName=f"trialRun_{name}", toolTip=tip)
            button.setEnabled(enabled)
            button.clicked.connect(lambda _checked=False, s=slot: s())
            buttons.addWidget(button)
            self.buttons[name] = button
        buttons.addStretch(1)
        close = QPushButton("Close", self, objectName="trialRun_close")
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(760, 520)

    def evaluate(self) -> EvaluationDialog:
        dialog = EvaluationDialog(self.folder, f"trial {self.trial.number}", self,
                                  spare=self.spare)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()
        return dialog

    def export(self) -> ExportDialog:
        dialog = ExportDialog(self.document, self, spare=self.spare, run=self.run)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def predict(self) -> PredictDialog:
        dialog = PredictDialog(self.document, self, spare=self.spare, run=self.folder)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _save_model_dialog(self) -> None:
        path = self.document.path
        start = path.parent if path is not None else Path.home()
        name, _ = QFileDialog.getSaveFileName(
            self, "Save trained model",
            str(start / model_file_name(self.run.project).replace(
                ".keras", f"_trial{self.trial.number}.keras")), "Keras model (*.keras)")
        if name:
            saved = save_run_model(self, self.folder, Path(name))
            if saved is not None:
                self.message.setText(f"Saved {saved.path} and {saved.history.name}.")

    def open_folder(self) -> bool:
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder))):
            return True
        error_dialog.show_error(self, "Cannot open the folder",
                                f"The run's folder could not be opened; it is {self.folder}")
        return False

    def use_settings(self) -> str:
        """Copy this trial's settings into the open project (see the module's docstring)."""
        text = apply_trial_settings(self.document, self.run.project, self.label)
        self.message.setText(text)
        return text


def open_trial_run(folder: Path, trial: SweepTrial, document: ProjectDocument,
                   parent: QWidget | None = None, *,
                   spare: SpareChild | None = None) -> TrialRunDialog | None:
    """Show the run of ``trial`` (in ``folder``); a folder without a readable run is said so
    and gives ``None``."""
    try:
        dialog = TrialRunDialog(folder, trial, document, parent, spare=spare)
    except RunStoreError as exc:
        error_dialog.show_error(parent, "Cannot open the trial's run",
                                f"{exc} The sweep may still be writing it, the trial may have "
                                "run on another machine (its run is in that machine's output "
                                "folder), or the folder was moved; the trial's other results "
                                "are in the table.")
        return None
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
