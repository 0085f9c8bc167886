"""The training tab: settings, start/pause/resume/stop, progress with ETA, device, live views.

Beside the live views, the head table (:mod:`mogui.qt.head_table`) chooses the heads they show
and holds each head's losses and metrics of the last epoch; the views are the curves
(:mod:`mogui.qt.loss_plots`), the relative-loss heatmap (:mod:`mogui.qt.loss_heatmap`), each
head's weighted contribution (:mod:`mogui.qt.contribution_view`) and its loss weight, editable
while paused (:mod:`mogui.qt.weight_view`). Every head has one colour in all of them
(:mod:`mogui.core.head_palette`).

Each run trains a snapshot of the project in a child process and writes ``model.keras`` and
``history.csv`` to a run folder of its own after every epoch; the folder is kept (the Runs
tab lists it). The run itself is a :class:`~mogui.qt.run_model.RunModel` entry, which File ▸
Export… and "Save model…" read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    LossWeightsChanged,
    TrainingFailed,
    TrainingFinished,
)
from mogui.core.events import TrainingStarted as Started
from mogui.core.head_palette import head_colours
from mogui.core.run_store import RunStoreError
from mogui.core.runs import RunStatus, plural
from mogui.qt import error_dialog
from mogui.qt.collapsible import Collapsible
from mogui.qt.contribution_view import ContributionView
from mogui.qt.document import ProjectDocument
from mogui.qt.elided_label import ElidedLabel
from mogui.qt.gradient_view import GradientView
from mogui.qt.head_table import HeadTable
from mogui.qt.inspection import LiveInspection
from mogui.qt.loss_heatmap import LossHeatmap
from mogui.qt.loss_plots import LossPlots
from mogui.qt.process_runner import SpareChild
from mogui.qt.readiness import start_blocker
from mogui.qt.run_list import model_file_name, save_run_model
from mogui.qt.run_model import RunModel
from mogui.qt.tracking_menu import app_tracking
from mogui.qt.training_settings import TrainingSettingsForm
from mogui.qt.training_worker import TrainingWorker
from mogui.qt.weight_view import WeightView, project_weights

SNAPSHOT_NOTE = "Edits made now apply to the next run (this one trains the project as at Start)."


#: The settings fold away in a Training tab shorter than this (until the user opens them).
SETTINGS_FROM = 700


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def epoch_summary(event: EpochEnded, epochs: int) -> str:
    """The status line after an epoch: the total losses; each head's are in the head table."""
    parts = [f"{key} {event.logs[key]:.4g}" for key in ("loss", "val_loss") if key in event.logs]
    return (f"Epoch {event.epoch + 1}/{epochs} done: {', '.join(parts) or 'no loss logged'}. "
            "Each head's losses and metrics are in the table.")


class TrainingPanel(QWidget):
    """Controls and live view of one training run of the document's project."""

    running_changed = Signal(bool)

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 runs: RunModel | None = None, spare: SpareChild | None = None,
                 inspection: LiveInspection | None = None) -> None:
        """``inspection``: the model editor's shapes; a model they cannot build does not start."""
        super().__init__(parent)
        self._document = document
        self._inspection = inspection
        self.runs = runs if runs is not None else RunModel(self)
        self._epochs = 0
        self._steps = 0
        self._heads: tuple[str, ...] = ()
        self._tasks: dict[str, str] = {}  # head -> task of the project that trains
        self._weights: dict[str, float] = {}  # head -> loss weight of the project that trains
        self._last_batch: tuple[int, int] | None = None  # (epoch, batch) last seen
        self._paused = False
        self._position = ""  # "Epoch 2/5 · batch 7/32" of the last batch shown
        self._stopping = False
        self.worker = TrainingWorker(self, spare=spare)
        self.error_dialog: QMessageBox | None = None
        self.settings_form = TrainingSettingsForm(document, self)

        self.start_button = self._button("Start", "startButton", self.start)
        self.pause_button = self._button("Pause", "pauseButton", self.worker.pause)
        self.resume_button = self._button("Resume", "resumeButton", self.resume)
        self.stop_button = self._button("Stop", "stopButton", self.worker.stop)
        self.save_model_button = self._button("Save model…", "saveModelButton",
                                              self._save_model_dialog)
        self.save_model_button.setToolTip("Save the model trained by the last run as a .keras "
                                          "file, with its history as CSV")
        self.device_label = QLabel("Device: –", self)
        self.device_label.setObjectName("deviceLabel")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("trainingProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)
        self.status_label = ElidedLabel("", self)
        self.status_label.setObjectName("trainingStatusLabel")
        self.status_label.setWordWrap(True)
        self.snapshot_label = ElidedLabel(SNAPSHOT_NOTE, self)
        self.snapshot_label.setObjectName("snapshotNote")
        self.snapshot_label.setWordWrap(True)
        self.snapshot_label.setStyleSheet("color: #8a5a00;")
        keep_place = self.snapshot_label.sizePolicy()
        keep_place.setRetainSizeWhenHidden(True)  # the plots do not jump at Start and Stop
        self.snapshot_label.setSizePolicy(keep_place)
        self.snapshot_label.hide()
        self.head_table = HeadTable(self)
        self.plots = LossPlots(self)
        self.heatmap = LossHeatmap(self)
        self.views = QTabWidget(self)
        self.views.setObjectName("trainingViews")
        self.views.addTab(self.plots, "Curves")
        self.views.addTab(self.heatmap, "Heatmap")
        self.views.setTabToolTip(1, "Each head's loss relative to its first epoch, per epoch")
        self.contributions = ContributionView(self)
        self.views.addTab(self.contributions, "Contributions")
        self.views.setTabToolTip(2, "Each head's loss × its weight, and its share of the total")
        self.weight_view = WeightView(self)
        self.views.addTab(self.weight_view, "Weights")
        self.views.setTabToolTip(3, "Each head's loss weight per epoch; editable while paused")
        self.gradient_view = GradientView(self)
        index = self.views.addTab(self.gradient_view, "Gradients")
        self.views.setTabToolTip(index, "Do the heads help or fight each other in the shared "
                                 "trunk: their gradients' cosines and norms (gradient "
                                 "diagnostics)")
        self.head_table.shown_changed.connect(self._on_shown_heads)
        self.head_table.highlighted_changed.connect(
            lambda: self.plots.set_highlighted(self.head_table.highlighted()))
        self.plots.head_clicked.connect(  # a click on a curve picks its head out in the table
            lambda head: self.head_table.set_highlighted([head] if head else []))
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("trainingSplitter")
        splitter.addWidget(self.head_table)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 900])

        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button,
                       self.stop_button):
            controls.addWidget(button)
        controls.addSpacing(16)
        controls.addWidget(self.save_model_button)
        controls.addStretch(1)
        controls.addWidget(self.device_label)
        # One compact banner: buttons, progress and device in a row, the status line below.
        self.settings_box = Collapsible("Settings", self.settings_form, "training/settingsShown",
                                        self, name="settings", auto_below=SETTINGS_FROM)
        controls.insertWidget(0, self.settings_box.toggle)
        controls.insertWidget(controls.indexOf(self.save_model_button), self.progress, 1)
        stretch = next(i for i in range(controls.count()) if controls.stretch(i) > 0
                       and controls.itemAt(i).spacerItem() is not None)
        controls.removeItem(controls.itemAt(stretch))  # the progress bar takes the room
        status = QHBoxLayout()
        status.addWidget(self.status_label, 3)
        status.addWidget(self.snapshot_label, 2)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.settings_box)
        layout.addLayout(controls)
        layout.addLayout(status)
        layout.addWidget(splitter, 1)

        self.worker.started.connect(self._on_started)
        self.worker.batches.connect(self._on_batches)
        self.worker.epoch_ended.connect(self._on_epoch)
        self.worker.state_changed.connect(self._on_state)
        self.worker.weights_changed.connect(self._on_weights_changed)
        self.worker.gradients_sampled.connect(self.gradient_view.add_sample)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.running_changed.connect(self._on_running_changed)
        # Save model offers a run only to the project it trained (a new document has none).
        document.path_changed.connect(lambda: self._update_buttons(
            "running" if self.is_running else None))
        self.runs.changed.connect(lambda: self.save_model_button.setEnabled(  # e.g. deleted
            not self.is_running and self.has_trained_model))
        self._update_buttons()

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- actions ----------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self.worker.is_running

    @property
    def run(self):  # noqa: ANN201 - a mogui.core.runs.Run or None
        """The last run started here, if it belongs to the open project (else ``None``)."""
        run = self.runs.current
        return run if run is not None and run.belongs_to(self._document.identity) else None

    def start(self) -> None:
        """Train a snapshot of the current project in a child process, into a new run folder."""
        if self.worker.is_running:
            return
        if (blocker := start_blocker(self._document, self._inspection)) is not None:
            self.status_label.setText(blocker.message)  # what the status bar says, too
            return
        project = self._document.project
        self._epochs = project.training.epochs
        self._last_batch = None
        self._stopping = False
        self._paused = False
        self._position = ""
        path = self._document.path
        try:
            run = self.runs.begin(project, self._document.identity, path)
        except RunStoreError as exc:
            self.status_label.setText(f"Cannot train: {exc}")
            hint = ("Save the project in a folder you can write to (File ▸ Save As…)"
                    if path is not None else "Save the project in a folder you can write to "
                    "(File ▸ Save As…) or set MOGUI_DATA_DIR to one")
            error_dialog.show_error(self, "Cannot train", f"{exc} {hint}, then start again.")
            return
        self._tasks = {h.name: h.task.value for h in project.heads}
        self._weights = project_weights(project)
        self._set_heads([h.name for h in project.loss_heads()], self._epochs)
        diagnostics = project.training.gradient_diagnostics
        self.gradient_view.set_sampling(diagnostics.describe() if diagnostics.enabled else None)
        self.status_label.setText("Preparing data and building the model…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self.worker.start(project, project_dir=path.parent if path is not None else None,
                          out_dir=run.folder, tracking=app_tracking(project, path, run.folder))

    @property
    def has_trained_model(self) -> bool:
        """True after a run of this project that completed at least one epoch."""
        run = self.run
        return bool(run is not None and run.ended and run.has_model)

    def save_model(self, path: Path) -> bool:
        """Copy the last run's model to ``path`` (.keras) and its history beside it."""
        run = self.run
        if not self.has_trained_model or run is None:
            return False
        saved = save_run_model(self, run.folder, Path(path))
        if saved is None:
            return False
        self.status_label.setText(f"Model saved to {saved.path} (history: "
                                  f"{saved.history.name}).")
        return True

    def _save_model_dialog(self) -> None:
        run = self.run
        if run is None:
            return
        start = self._document.path.parent if self._document.path is not None else Path.home()
        name, _ = QFileDialog.getSaveFileName(
            self, "Save trained model", str(start / model_file_name(run.project)),
            "Keras model (*.keras)")
        if name:
            self.save_model(Path(name))

    def shutdown(self) -> None:
        """Stop a run and wait for its process (before closing); its folder is kept."""
        self.worker.shutdown()

    # -- events -----------------------------------------------------------------------------
    def _on_started(self, event: Started) -> None:
        self._epochs = event.epochs
        self._steps = event.steps_per_epoch
        self._heads = tuple(event.heads)
        self.device_label.setText(f"Device: {event.device}")
        self._set_heads(event.heads, event.epochs)
        self.progress.setRange(0, max(1, event.epochs * event.steps_per_epoch))
        self.progress.setValue(0)
        self.progress.setFormat(f"Epoch 1/{event.epochs}")
        self.status_label.setText(f"Training on {event.train_samples} samples, validating on "
                                  f"{event.val_samples}.")

    def _set_heads(self, heads: Sequence[str], epochs: int) -> None:
        """Empty views for a run training ``heads``; one colour per head in all of them."""
        heads = list(heads)
        tasks = self._tasks or {h.name: h.task.value for h in self._document.project.heads}
        colours = head_colours(heads)
        self.head_table.set_heads(heads, tasks, colours)
        self.plots.reset(heads, epochs, colours)
        self.heatmap.reset(heads, epochs)
        weights = self._weights or project_weights(self._document.project)
        self.contributions.reset(heads, epochs, colours, weights)
        self.weight_view.reset(heads, epochs, colours, weights)
        self.gradient_view.reset(heads, epochs, colours, self._steps)
        self._on_shown_heads()

    def _on_shown_heads(self) -> None:
        shown = self.head_table.shown_heads()
        self.plots.set_shown_heads(shown)
        self.heatmap.set_shown_heads(shown)
        self.contributions.set_shown_heads(shown)
        self.weight_view.set_shown_heads(shown)
        self.gradient_view.set_shown_heads(shown)

    def _on_batches(self, events: list[BatchEnded]) -> None:
        self.plots.add_batches(events)
        self.contributions.add_batches(events)
        self.weight_view.add_batches(events)
        last = events[-1]
        self._last_batch = (last.epoch, last.batch)
        steps = max(1, last.steps_per_epoch)
        done = last.epoch * steps + last.batch + 1
        total = max(done, self._epochs * steps)
        remaining = last.elapsed / done * (total - done)
        # QProgressBar.setValue repaints at once; with updates off it joins the next paint.
        self.progress.setUpdatesEnabled(False)
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self._position = f"Epoch {last.epoch + 1}/{self._epochs} · batch {last.batch + 1}/{steps}"
        if self._paused:  # no time left or speed to speak of while nothing runs
            self.progress.setFormat(f"{self._position} · paused")
        else:
            self.progress.setFormat(
                f"{self._position} · ETA {format_duration(remaining)} · "
                f"{last.samples_per_second:,.0f} samples/s")
        self.progress.setUpdatesEnabled(True)

    def _is_partial(self, epoch: int) -> bool:
        """True when a stop ended ``epoch`` before its last batch."""
        last = self._last_batch
        return (self._stopping and last is not None and last[0] == epoch
                and last[1] + 1 < self._steps)

    def _on_epoch(self, event: EpochEnded) -> None:
        # Only complete epochs end: the engine reports none for an epoch a stop cut short.
        self.plots.add_epoch(event)
        self.heatmap.add_epoch(event)
        self.contributions.add_epoch(event)
        self.weight_view.add_epoch(event)
        self.head_table.update_epoch(event)
        self.runs.record_epoch(event.logs)
        self.status_label.setText(epoch_summary(event, self._epochs))

    def _on_state(self, state: str) -> None:
        self._update_buttons(state)
        self._paused = state == "paused"
        self.weight_view.set_paused(self._paused)
        if state == "paused":
            self.status_label.setText("Paused. Press Resume to continue.")
            if self._position:
                self.progress.setFormat(f"{self._position} · paused")
        elif state == "running" and "Paused" in self.status_label.text():
            self.status_label.setText("Resumed.")
        elif state == "stopping":
            self._stopping = True
            self.status_label.setText("Stopping after the current batch…")

    def resume(self) -> None:
        """Continue a paused run, first sending it the weights edited in the Weights view."""
        weights = self.weight_view.pending()
        if weights and self.worker.set_loss_weights(weights):
            self.status_label.setText(f"New loss weights sent for {plural(len(weights), 'head')};"
                                      " they apply from the next batch.")
        self.worker.resume()

    def _on_weights_changed(self, event: LossWeightsChanged) -> None:
        self.runs.record_weight_change(event)
        line = self.weight_view.mark_change(event, self._steps)
        self.contributions.mark_change(event, self._steps)
        self.status_label.setText(f"Loss weights changed: {line}.")

    def _on_finished(self, event: TrainingFinished) -> None:
        took = format_duration(event.elapsed)
        complete = event.epochs_run
        partial = None
        if event.forced:
            text = (f"Stopped: the loss code did not return, so its process was ended after "
                    f"{plural(complete, 'complete epoch')} ({took}).")
        elif event.stopped and self._is_partial(complete):
            # The engine leaves out the epoch a stop cut short: history, files and weights.
            partial = complete + 1
            text = (f"Stopped during epoch {partial} after "
                    f"{plural(complete, 'complete epoch')} ({took}).")
        elif event.stopped:
            text = f"Stopped after {plural(complete, 'complete epoch')} ({took})."
        else:
            text = f"Finished after {plural(complete, 'epoch')} in {took}."
        stop = event.early_stop.summary if event.early_stop is not None else ""
        if stop and complete:
            text += f" {stop}"
        self.runs.finish(RunStatus.STOPPED if event.stopped else RunStatus.FINISHED,
                         stopped_during_epoch=partial, message=stop,
                         restored_epoch=event.early_stop.restored_epoch
                         if event.early_stop is not None else None)
        if self.has_trained_model:
            text += (" Save the model with “Save model…” or export it with File ▸ Export…; "
                     "the Runs tab keeps every run.")
        self.status_label.setText(text)
        how = "Stopped" if event.stopped else "Finished"
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if not event.stopped:
            self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(f"{how} · {complete}/{self._epochs} epochs complete")

    def _on_failed(self, event: TrainingFailed) -> None:
        self.runs.finish(RunStatus.FAILED, message=event.message)
        self.status_label.setText(f"Training failed: {event.message}")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Failed")
        dialog = QMessageBox(QMessageBox.Icon.Critical, "Training failed", event.message,
                             QMessageBox.StandardButton.Close, self)
        dialog.setObjectName("trainingFailedDialog")
        if event.details:
            dialog.setDetailedText(event.details)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda _result: setattr(self, "error_dialog", None))
        self.error_dialog = dialog
        dialog.open()

    def _on_running_changed(self, running: bool) -> None:
        if not running:
            self.plots.refresh()  # draw the last points now rather than on the next tick
        self.snapshot_label.setVisible(running)
        self.settings_form.setEnabled(not running)
        if not running:
            self.weight_view.set_paused(False)
        self._update_buttons("running" if running else None)
        self.running_changed.emit(running)

    def _update_buttons(self, state: str | None = None) -> None:
        running = self.worker.is_running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running and state != "stopping")
        self.pause_button.setEnabled(running and state == "running")
        self.resume_button.setEnabled(running and state == "paused")
        self.save_model_button.setEnabled(not running and self.has_trained_model)
