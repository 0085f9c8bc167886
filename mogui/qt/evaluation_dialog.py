"""A run's evaluation: per head, what its model gets right and wrong (see
:mod:`mogui.qt.evaluation_views`), on the run's validation rows, its training rows or all rows.

The model is loaded and run by the ``evaluate`` job in a child process (a model file may hold
the project's loss code, which runs only there, and only when trusted); the app receives plain
figures. Opened from the Runs tab (**Evaluate…**).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mogui.qt.child_jobs import failure_text, model_code
from mogui.qt.engine_loader import load_engine
from mogui.qt.evaluation_views import HeadEvaluationView
from mogui.qt.jobs import JobError
from mogui.qt.process_runner import ProcessRunner, SpareChild

ROWS = (("validation", "Validation rows (held out from training)"),
        ("training", "Training rows"), ("all", "All rows"))
#: Worst rows listed per head.
WORST = 10


class EvaluationDialog(QDialog):
    """The evaluation of the run in ``folder``; ``evaluated`` carries the
    :class:`~mogui.engine.evaluation.Evaluation` (``None`` after an error)."""

    evaluated = Signal(object)

    def __init__(self, folder: Path, title: str, parent: QWidget | None = None, *,
                 spare: SpareChild | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationDialog")
        self.setWindowTitle(f"Evaluation — {title}")
        self.folder = Path(folder)
        self.evaluation = None
        self.views: dict[str, HeadEvaluationView] = {}
        self.runner = ProcessRunner(self, spare=spare)
        self.runner.succeeded.connect(self._succeeded)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(self._finished)

        self.rows = QComboBox(objectName="evaluationRows")
        for value, label in ROWS:
            self.rows.addItem(label, value)
        self.evaluate_button = QPushButton("Evaluate", objectName="evaluateButton")
        self.evaluate_button.clicked.connect(lambda _checked=False: self.start())
        self.status = QLabel(objectName="evaluationStatus", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(objectName="evaluationError", wordWrap=True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setVisible(False)
        self.tabs = QTabWidget(objectName="evaluationHeads")
        close = QPushButton("Close", objectName="closeEvaluation")
        close.clicked.connect(lambda _checked=False: self.reject())

        top = QHBoxLayout()
        top.addWidget(QLabel("Rows:"))
        top.addWidget(self.rows)
        top.addWidget(self.evaluate_button)
        top.addWidget(self.status, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Run folder: {self.folder}", wordWrap=True))
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self.resize(1100, 820)

    def start(self) -> bool:
        """Evaluate the run on the chosen rows, in a child process; False while one runs."""
        if self.runner.is_running:
            return False
        # The figures come back as the engine's types: TensorFlow is imported here once (on
        # the loader's terms, see engine_loader) before the reader thread rebuilds them.
        load_engine()
        import mogui.engine.evaluation  # noqa: F401 - the result's types, imported first

        self.error.setVisible(False)
        self.evaluate_button.setEnabled(False)
        self.status.setText("Evaluating: loading the model and the data…")
        return self.runner.start("evaluate", self.folder, self.rows.currentData(), WORST,
                                 allowed_code=model_code(self.folder))

    def _succeeded(self, evaluation) -> None:  # noqa: ANN001 - an Evaluation
        self.evaluation = evaluation
        self.tabs.clear()
        self.views = {}
        for name, head in evaluation.heads.items():
            view = HeadEvaluationView(head)
            self.views[name] = view
            self.tabs.addTab(view, name)
        self.status.setText(evaluation.lines()[0] + ".")
        self.evaluated.emit(evaluation)

    def _failed(self, error: JobError) -> None:
        self.status.setText("The evaluation failed.")
        self.error.setText(failure_text(error, "evaluation"))
        self.error.setVisible(True)
        self.evaluated.emit(None)

    def _finished(self) -> None:
        self.evaluate_button.setEnabled(True)

    def reject(self) -> None:
        """Close; an evaluation still running is stopped."""
        if self.runner.is_running:
            self.runner.cancel()
        super().reject()
