"""Starting a sweep of the open project, or opening a sweep folder (File ▸ Sweep…).

:class:`SweepDialog` asks what to search (the loss weights always; the balancing method and
the learning rate when chosen), how many trials of how many epochs, how many worker
processes, and where the results go. :class:`SweepManager` (one per main window) starts the
sweep as ``mogui sweep`` in a child process (:mod:`mogui.qt.sweep_process`) and opens a
:class:`~mogui.qt.sweep_view.SweepView` on its folder, live. The project runs as the editor
shows it: an unsaved project (or unsaved changes) is saved to a copy for the sweep. Its code
runs only if the user has trusted it here (then the sweep gets ``--trust``); a project whose
code is not trusted, or that Start would refuse to train, does not start. With the preference
"Log runs to MLflow" on (Edit ▸ Run tracking) the sweep gets ``--mlflow``, and the dialog says
where its trials are logged.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mogui.core.readiness import CANNOT_TRAIN
from mogui.core.recovery import data_dir
from mogui.core.runs import plural
from mogui.core.sweep_results import MANIFEST_FILE, SweepManifest, read_manifest
from mogui.core.tracking import URI_VARIABLE, experiment_name, mlflow_missing, tracking_uri
from mogui.core.trust import project_code
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.process_runner import SpareChild
from mogui.qt.readiness import start_blocker
from mogui.qt.settings import MLFLOW_KEY, tracking_enabled
from mogui.qt.sweep_process import SweepProcess, SweepRequest, project_copy_path, project_file
from mogui.qt.sweep_view import SweepView
from mogui.qt.sweep_watch import read_sweep
from mogui.runner.sweep_plan import SweepError, objectives_of

DEFAULT_TRIALS = 20
DEFAULT_OBJECTIVE = "val_{head}_loss"
#: Each document's last entries in the dialog (by its identity), while the app runs.
_CHOICES: dict[str, dict[str, object]] = {}
CANNOT_SWEEP = "Cannot start the sweep: "


def default_out_folder(document: ProjectDocument, now: datetime | None = None) -> Path:
    """A new folder for a sweep of the document's project: ``sweeps/<stem>-<time>`` beside a
    saved project, in mogui's data folder for an untitled one."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = document.path
    if path is not None:
        stem = Path(path).name.removesuffix(".json").removesuffix(".mogui")
        return Path(path).absolute().parent / "sweeps" / f"{stem}-{stamp}"
    return data_dir() / "sweeps" / f"{document.project.slug or 'untitled'}-{stamp}"


def existing_manifest(folder: Path) -> SweepManifest | None:
    """The manifest of the sweep in ``folder`` (``None``: none, or unreadable)."""
    try:
        return read_manifest(folder) if (folder / MANIFEST_FILE).is_file() else None
    except (OSError, ValueError):
        return None


def folder_problem(folder: Path) -> str:
    """Why a sweep cannot write into ``folder`` ("" when it can: new, empty, or a sweep)."""
    if folder.exists() and not folder.is_dir():
        return f"'{folder}' is a file; choose a folder for the sweep's results."
    if not folder.is_dir() or (folder / MANIFEST_FILE).is_file():
        return ""
    try:
        holds = any(folder.iterdir())
    except OSError as exc:
        return f"'{folder}' cannot be read ({exc.strerror or exc}); choose another folder."
    if holds:
        return (f"'{folder}' holds files that are not a sweep; choose a new or empty folder "
                "(or a sweep's folder, to continue that sweep).")
    return ""


class SweepDialog(QDialog):
    """What to sweep and where; Start (gives :attr:`request`) or Open (gives :attr:`opened`)."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepDialog")
        self.setWindowTitle("Sweep")
        self.document = document
        self.request: SweepRequest | None = None
        self.opened: Path | None = None
        self._prefilled: Path | None = None
        project = document.project
        heads = [h.name for h in project.loss_heads()]

        intro = QLabel(
            f"Search the loss weights of <b>{project.name}</b> for the best trade-off between "
            f"its heads ({', '.join(heads) or 'none with a loss'}). Each trial trains the "
            "project with other weights; the trials that no other trial beats on every "
            "head form the Pareto front.", wordWrap=True)
        self.trials_spin = QSpinBox(objectName="sweepTrials", minimum=1, maximum=100_000,
                                    value=DEFAULT_TRIALS)
        self.epochs_spin = QSpinBox(objectName="sweepEpochs", minimum=1, maximum=100_000,
                                    value=project.training.epochs)
        self.workers_spin = QSpinBox(objectName="sweepWorkers", minimum=1,
                                     maximum=max(1, os.cpu_count() or 1), value=1)
        self.workers_spin.setToolTip("Trials trained at once, each in a process of its own")
        self.weights_box = QCheckBox("Loss weights", objectName="sweepSearchWeights",
                                     checked=True, enabled=False)
        self.balancing_box = QCheckBox("Balancing method", objectName="sweepSearchBalancing")
        self.rate_box = QCheckBox("Learning rate", objectName="sweepSearchRate")
        search = QHBoxLayout()
        for box in (self.weights_box, self.balancing_box, self.rate_box):
            search.addWidget(box)
        search.addStretch(1)
        self.objective_box = QComboBox(objectName="sweepObjective", editable=True)
        self.objective_box.addItem(DEFAULT_OBJECTIVE)
        metrics = sorted({m for h in project.loss_heads() for m in h.loss.metrics})
        self.objective_box.addItems([f"val_{{head}}_{m}" for m in metrics])
        self.objective_box.setToolTip("What each head is judged by, {head} standing for its "
                                      "name: its validation loss, or a metric it logs")
        self.storage_edit = QLineEdit(objectName="sweepStorage")
        self.storage_edit.setPlaceholderText("blank: a file in the output folder")
        self.storage_edit.setToolTip("An Optuna storage URL (e.g. postgresql://…) shared by "
                                     "sweeps on several machines")
        self.out_edit = QLineEdit(str(default_out_folder(document)), objectName="sweepOut")
        self.out_edit.textChanged.connect(self._update)
        self.objective_box.currentTextChanged.connect(self._update)
        browse = QPushButton("Browse…", objectName="sweepBrowseOut")
        browse.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Trials:", self.trials_spin)
        form.addRow("Epochs per trial:", self.epochs_spin)
        form.addRow("Workers:", self.workers_spin)
        form.addRow("Search:", search)
        form.addRow("Objective per head:", self.objective_box)
        form.addRow("Storage:", self.storage_edit)
        form.addRow("Output folder:", out_row)
        self.note = QLabel(objectName="sweepNote", wordWrap=True)
        self.tracking_label = QLabel(objectName="sweepTracking", wordWrap=True)
        self.problem_label = QLabel(objectName="sweepProblem", wordWrap=True)
        self.problem_label.setStyleSheet("color: #c62828;")

        self.open_button = QPushButton("Open sweep folder…", objectName="openSweepButton")
        self.open_button.clicked.connect(self._browse_sweep)
        self.start_button = QPushButton("Start sweep", objectName="startSweepButton",
                                        default=True)
        self.start_button.clicked.connect(self.accept_start)
        cancel = QPushButton("Cancel", objectName="cancelSweepButton")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.tracking_label)
        layout.addWidget(self.problem_label)
        layout.addLayout(buttons)
        self.resize(640, 0)
        self._restore_choices()
        self._update()

    # -- the choices made, kept while the app runs ----------------------------------------------
    def _choices(self) -> dict[str, object]:
        return {"trials": self.trials_spin.value(), "epochs": self.epochs_spin.value(),
                "workers": self.workers_spin.value(),
                "balancing": self.balancing_box.isChecked(),
                "rate": self.rate_box.isChecked(),
                "objective": self.objective_box.currentText()}

    def _restore_choices(self) -> None:
        """The entries as this document's last sweep dialog left them."""
        chosen = _CHOICES.get(self.document.identity)
        if chosen is None:
            return
        self.trials_spin.setValue(int(chosen["trials"]))
        self.epochs_spin.setValue(int(chosen["epochs"]))
        self.workers_spin.setValue(int(chosen["workers"]))
        self.balancing_box.setChecked(bool(chosen["balancing"]))
        self.rate_box.setChecked(bool(chosen["rate"]))
        self.objective_box.setCurrentText(str(chosen["objective"]))

    def done(self, result: int) -> None:  # noqa: D102 - QDialog's: Start, Cancel, Esc, close
        _CHOICES[self.document.identity] = self._choices()
        super().done(result)

    # -- checks -----------------------------------------------------------------------------
    def blocker(self) -> str:
        """Why the sweep cannot start as set ("" when it can)."""
        document = self.document
        if (blocked := start_blocker(document)) is not None:
            return CANNOT_SWEEP + blocked.message.removeprefix(CANNOT_TRAIN)
        if document.project.loss_mode == "joint":
            return (CANNOT_SWEEP + "a sweep searches each head's loss weight, and this project "
                    "trains all heads with one joint loss. Switch the Losses tab to per-output "
                    "mode to sweep it.")
        if len(document.project.loss_heads()) < 2:
            return (CANNOT_SWEEP + "a sweep trades heads off against each other, and this "
                    "project trains fewer than two heads with a loss. Give a second head a "
                    "loss on the Losses tab.")
        try:
            objectives_of(document.project, self.objective_box.currentText())
        except SweepError as exc:
            return CANNOT_SWEEP + str(exc).replace("--objective", "the objective")
        folder = self.out_folder()
        if folder is None:
            return CANNOT_SWEEP + "choose the output folder for its results."
        if problem := folder_problem(folder):
            return CANNOT_SWEEP + problem
        existing = existing_manifest(folder)
        if existing is not None:
            ours = self.project_path(folder)
            if Path(existing.project) != ours:
                return (CANNOT_SWEEP + f"'{folder}' holds a sweep of {existing.project}, not "
                        f"of {ours}. Open it with “Open sweep folder…”, or choose another "
                        "output folder.")
        return ""

    def out_folder(self) -> Path | None:
        text = self.out_edit.text().strip()
        return Path(text).expanduser().absolute() if text else None

    def project_path(self, out: Path) -> Path:
        """The project file a sweep into ``out`` reads (see :func:`project_file`)."""
        document = self.document
        if document.path is not None and not document.dirty:
            return Path(document.path).resolve()
        return project_copy_path(out).resolve()

    def _prefill(self, manifest: SweepManifest) -> None:
        """Set the options a sweep in the chosen folder was started with, so it resumes."""
        self.trials_spin.setValue(manifest.trials)
        if manifest.epochs is not None:
            self.epochs_spin.setValue(manifest.epochs)
        self.balancing_box.setChecked("balancing" in manifest.parameters)
        self.rate_box.setChecked("learning_rate" in manifest.parameters)
        heads = [h.name for h in self.document.project.loss_heads()]
        default = tuple(DEFAULT_OBJECTIVE.replace("{head}", h) for h in heads)
        self.objective_box.setCurrentText(DEFAULT_OBJECTIVE if manifest.objectives == default
                                          else ",".join(manifest.objectives))
        if "***" not in manifest.storage:  # a password is never written down
            self.storage_edit.setText(manifest.storage)

    def _update(self) -> None:
        folder = self.out_folder()
        existing = existing_manifest(folder) if folder is not None else None
        if existing is not None and folder != self._prefilled:
            self._prefilled = folder
            self._prefill(existing)
        problem = self.blocker()
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.start_button.setEnabled(not problem)
        if existing is not None:
            self.note.setText("This folder holds a sweep already: starting continues it with "
                              "the options it was started with (trials done are kept, the "
                              "missing ones run).")
        elif self.document.dirty or self.document.path is None:
            self.note.setText("The project is not saved as shown: the sweep trains a copy of "
                              "it as the editor shows it now.")
        else:
            self.note.setText("")
        tracking = self.tracking_note()
        self.tracking_label.setText(tracking)
        self.tracking_label.setVisible(bool(tracking))

    # -- run tracking -----------------------------------------------------------------------
    def logs_to_mlflow(self) -> bool:
        """Whether the sweep is logged to MLflow: the preference is on and MLflow is here."""
        if not tracking_enabled(MLFLOW_KEY):
            return False
        return mlflow_missing(self._mlflow_uri()) is None

    def tracking_note(self) -> str:
        """Where the sweep's trials are logged to MLflow ("" when the preference is off)."""
        if not tracking_enabled(MLFLOW_KEY):
            return ""
        document = self.document
        uri = self._mlflow_uri()
        if (missing := mlflow_missing(uri)) is not None:
            return missing.replace(", or train without --mlflow.", " to log the sweep; "
                                   "until then it runs without being logged.")
        text = (f"Logged to MLflow (Edit ▸ Run tracking): the sweep as a run in experiment "
                f"'{experiment_name(document.project, document.path)}' at {uri}, each trial "
                "as a run nested under it.")
        if self._reads_copy() and not os.environ.get(URI_VARIABLE):
            text += " Save the project first to log it with the project's other runs."
        return text

    def _reads_copy(self) -> bool:
        return self.document.path is None or self.document.dirty

    def _mlflow_uri(self) -> str:
        """The MLflow store ``mogui sweep`` logs to: the one of the file it reads."""
        out = self.out_folder() or default_out_folder(self.document)
        path = project_copy_path(out) if self._reads_copy() else Path(self.document.path)
        return tracking_uri(self.document.project, path.absolute())

    # -- answers ----------------------------------------------------------------------------
    def build_request(self) -> SweepRequest:
        """The sweep as set (the project saved to a copy when needed); ``OSError`` when that
        copy cannot be written."""
        document = self.document
        out = self.out_folder() or default_out_folder(document)
        search = ["weights"]
        if self.balancing_box.isChecked():
            search.append("balancing")
        if self.rate_box.isChecked():
            search.append("learning_rate")
        objective = self.objective_box.currentText().strip()
        path = project_file(document.project, document.path, document.dirty, out)
        # The user's consent: code there is trusted here (no banner), so the sweep may run it.
        trust = bool(project_code(document.project)) and not document.untrusted_code
        mlflow = self.logs_to_mlflow()
        # A copy is named after its folder: the experiment is named after the project still.
        experiment = experiment_name(document.project, document.path) \
            if mlflow and self._reads_copy() else ""
        return SweepRequest(project=path, out=out, trials=self.trials_spin.value(),
                            epochs=self.epochs_spin.value(), workers=self.workers_spin.value(),
                            search=tuple(search),
                            objective="" if objective == DEFAULT_OBJECTIVE else objective,
                            storage=self.storage_edit.text().strip(), trust=trust,
                            mlflow=mlflow, mlflow_experiment=experiment)

    def accept_start(self) -> bool:
        """Start as set: gives :attr:`request` and closes, or says why not."""
        problem = self.blocker()
        if problem:
            self._update()
            return False
        try:
            self.request = self.build_request()
        except OSError as exc:
            error_dialog.show_error(self, "Cannot start the sweep",
                                    f"The project could not be saved for the sweep: "
                                    f"{exc.strerror or exc}. Save it with File ▸ Save As, "
                                    "then start the sweep again.")
            return False
        self.accept()
        return True

    def open_folder(self, folder: Path) -> bool:
        """Open the sweep in ``folder``: gives :attr:`opened` and closes, or says why not."""
        state = read_sweep(Path(folder))
        if state.manifest is None:
            error_dialog.show_error(self, "Not a sweep folder", state.problem)
            return False
        self.opened = Path(folder).absolute()
        self.accept()
        return True

    def _browse_out(self) -> None:
        start = self.out_edit.text().strip() or str(Path.home())
        name = QFileDialog.getExistingDirectory(self, "Folder for the sweep's results",
                                                str(Path(start).parent))
        if name:
            self.out_edit.setText(name)

    def _browse_sweep(self) -> None:
        start = default_out_folder(self.document).parent
        name = QFileDialog.getExistingDirectory(self, "Open a sweep folder",
                                                str(start if start.is_dir() else Path.home()))
        if name:
            self.open_folder(Path(name))


class SweepManager(QObject):
    """The sweeps of one main window: started here, or opened; one view per folder."""

    def __init__(self, document: ProjectDocument, window: QWidget, *,
                 spare: SpareChild | None = None) -> None:
        super().__init__(window)
        self.document = document
        self.window = window
        self.spare = spare
        self.views: dict[Path, SweepView] = {}
        self.processes: list[SweepProcess] = []

    @property
    def running(self) -> list[SweepProcess]:
        return [p for p in self.processes if p.running]

    def open_dialog(self) -> SweepDialog:
        """Show the dialog (non-blocking); starting or opening there opens the view."""
        dialog = SweepDialog(self.document, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._answered(dialog))
        dialog.open()
        return dialog

    def _answered(self, dialog: SweepDialog) -> None:
        if dialog.request is not None:
            self.start(dialog.request)
        elif dialog.opened is not None:
            self.open(dialog.opened)

    def start(self, request: SweepRequest) -> SweepView | None:
        """Start ``request`` and show it; a sweep already running into that folder is shown
        instead."""
        folder = request.out.absolute()
        if any(p.running and p.request.out.absolute() == folder for p in self.processes):
            error_dialog.show_error(self.window, "The sweep is running",
                                    f"A sweep into {folder} is already running; its window "
                                    "shows it.")
            return self.open(folder)
        folder.mkdir(parents=True, exist_ok=True)
        process = SweepProcess(request, self)
        process.ended.connect(lambda *_: self._forget(process))
        self.processes.append(process)
        old = self.views.pop(folder, None)
        if old is not None:
            old.close()
        view = self._view(folder, process)
        process.start()
        return view

    def open(self, folder: Path) -> SweepView:
        """Show the sweep in ``folder`` (its window raised when it is open already)."""
        folder = Path(folder).absolute()
        view = self.views.get(folder)
        if view is None:
            return self._view(folder, None)
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def _view(self, folder: Path, process: SweepProcess | None) -> SweepView:
        view = SweepView(folder, self.document, self.window, process=process, spare=self.spare)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.destroyed.connect(lambda *_: self.views.pop(folder, None)
                               if self.views.get(folder) is view else None)
        self.views[folder] = view
        view.show()
        return view

    def _forget(self, process: SweepProcess) -> None:
        if process in self.processes:
            self.processes.remove(process)

    def close_all(self) -> bool:
        """Before the app quits: a running sweep is stopped, after asking (False: the user
        chose to keep it running, and nothing was stopped)."""
        running = self.running
        if running:
            answer = QMessageBox.question(
                self.window, "Sweep in progress",
                f"{plural(len(running), 'sweep')} still running. Stop and quit? The trials "
                "completed so far are kept; starting a sweep again on its folder runs the "
                "missing ones.", QMessageBox.StandardButton.Yes
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.shutdown()
        return True

    def shutdown(self, msecs: int = 30_000) -> None:
        """Stop every sweep started here and wait for each to end (the app quits)."""
        for process in self.running:
            process.stop()
        for process in self.running:
            process.shutdown(msecs)
        for view in list(self.views.values()):
            view.watcher.stop()
