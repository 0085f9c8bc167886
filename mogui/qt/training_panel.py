"""The training tab: start/pause/resume/stop, progress with ETA, device, live plots."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import BatchEnded, EpochEnded, TrainingFailed, TrainingFinished
from mogui.core.events import TrainingStarted as Started
from mogui.qt.document import ProjectDocument
from mogui.qt.loss_plots import LossPlots
from mogui.qt.training_worker import TrainingWorker

SNAPSHOT_NOTE = ("Training uses a snapshot of the project taken at Start: edits you make now "
                 "apply to the next run.")


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingPanel(QWidget):
    """Controls and live view of one training run of the document's project."""

    running_changed = Signal(bool)

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._epochs = 0
        self.worker = TrainingWorker(self)
        self.error_dialog: QMessageBox | None = None

        self.start_button = self._button("Start", "startButton", self.start)
        self.pause_button = self._button("Pause", "pauseButton", self.worker.pause)
        self.resume_button = self._button("Resume", "resumeButton", self.worker.resume)
        self.stop_button = self._button("Stop", "stopButton", self.worker.stop)
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setObjectName("epochsSpin")
        self.epochs_spin.setRange(0, 100_000)
        self.epochs_spin.setSpecialValueText("as in project")
        self.epochs_spin.setToolTip("Number of epochs for this run (leave at 'as in project' to "
                                    "use the training settings)")
        self.device_label = QLabel("Device: –", self)
        self.device_label.setObjectName("deviceLabel")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("trainingProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("trainingStatusLabel")
        self.status_label.setWordWrap(True)
        self.snapshot_label = QLabel(SNAPSHOT_NOTE, self)
        self.snapshot_label.setObjectName("snapshotNote")
        self.snapshot_label.setWordWrap(True)
        self.snapshot_label.setStyleSheet("color: #8a5a00;")
        self.snapshot_label.hide()
        self.plots = LossPlots(self)

        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button,
                       self.stop_button):
            controls.addWidget(button)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Epochs:", self))
        controls.addWidget(self.epochs_spin)
        controls.addStretch(1)
        controls.addWidget(self.device_label)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.snapshot_label)
        layout.addWidget(self.plots, 1)

        self.worker.started.connect(self._on_started)
        self.worker.batches.connect(self._on_batches)
        self.worker.epoch_ended.connect(self._on_epoch)
        self.worker.state_changed.connect(self._on_state)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.running_changed.connect(self._on_running_changed)
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

    def start(self) -> None:
        """Train a snapshot of the current project."""
        if self.worker.is_running:
            return
        project = self._document.project
        epochs = self.epochs_spin.value() or None
        self._epochs = epochs or project.training.epochs
        path = self._document.path
        self.plots.reset((h.name for h in project.loss_heads()), self._epochs)
        self.status_label.setText("Preparing data and building the model…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self.worker.start(project, epochs=epochs,
                          project_dir=path.parent if path is not None else None)

    def shutdown(self) -> None:
        """Stop a run and wait for its thread (call before the window closes)."""
        self.worker.shutdown()

    # -- events -----------------------------------------------------------------------------
    def _on_started(self, event: Started) -> None:
        self._epochs = event.epochs
        self.device_label.setText(f"Device: {event.device}")
        self.plots.reset(event.heads, event.epochs)
        self.progress.setRange(0, max(1, event.epochs * event.steps_per_epoch))
        self.progress.setValue(0)
        self.progress.setFormat(f"Epoch 1/{event.epochs}")
        self.status_label.setText(f"Training on {event.train_samples} samples, validating on "
                                  f"{event.val_samples}.")

    def _on_batches(self, events: list[BatchEnded]) -> None:
        self.plots.add_batches(events)
        last = events[-1]
        steps = max(1, last.steps_per_epoch)
        done = last.epoch * steps + last.batch + 1
        total = max(done, self._epochs * steps)
        remaining = last.elapsed / done * (total - done)
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setFormat(
            f"Epoch {last.epoch + 1}/{self._epochs} · batch {last.batch + 1}/{steps} · "
            f"ETA {format_duration(remaining)} · {last.samples_per_second:,.0f} samples/s")

    def _on_epoch(self, event: EpochEnded) -> None:
        self.plots.add_epoch(event)
        parts = [f"{k} {v:.4g}" for k, v in event.logs.items() if k.endswith("loss")]
        self.status_label.setText(f"Epoch {event.epoch + 1} done: " + ", ".join(parts))

    def _on_state(self, state: str) -> None:
        self._update_buttons(state)
        if state == "paused":
            self.status_label.setText("Paused. Press Resume to continue.")
        elif state == "stopping":
            self.status_label.setText("Stopping after the current batch…")

    def _on_finished(self, event: TrainingFinished) -> None:
        how = "Stopped" if event.stopped else "Finished"
        self.status_label.setText(f"{how} after {event.epochs_run} epoch(s) in "
                                  f"{format_duration(event.elapsed)}.")
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if not event.stopped:
            self.progress.setValue(self.progress.maximum())
        self.progress.setFormat(f"{how} · epoch {event.epochs_run}/{self._epochs}")

    def _on_failed(self, event: TrainingFailed) -> None:
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
        self.epochs_spin.setEnabled(not running)
        self._update_buttons("running" if running else None)
        self.running_changed.emit(running)

    def _update_buttons(self, state: str | None = None) -> None:
        running = self.worker.is_running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running and state != "stopping")
        self.pause_button.setEnabled(running and state == "running")
        self.resume_button.setEnabled(running and state == "paused")
