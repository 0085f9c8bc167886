"""The Data dialog's checks: a button that checks the data as configured (in a background
thread), a per-head summary (labelled, missing, range, class counts) and the problems found,
in plain words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from mogui.core.errors import DataError
from mogui.core.project import Project
from mogui.qt.engine_loader import load_engine
from mogui.qt.jobs import JobHandle, Priority, ThreadRunner

ERROR_COLOUR = QColor("#b00020")
CHECK_TEXT = "Check data"


def error_html(text: str) -> str:
    """``text`` as an error line of the problems label."""
    return f"<b style='color:{ERROR_COLOUR.name()}'>Error:</b> {text}"


class DataCheckPanel(QGroupBox):
    """"Check data", the per-head summary and the problems. ``checked`` carries the report
    (a :class:`mogui.engine.data.checks.DataReport`) once a check has ended."""

    checked = Signal(object)

    def __init__(self, owner: QObject, classes: Callable[[], dict[str, list[str]]]) -> None:
        """``owner`` keeps the check's runner (a check still running when the dialog closes
        ends harmlessly); ``classes`` gives each head's class names, to label class counts."""
        super().__init__("Checks")
        self._classes = classes
        self.button = QPushButton(CHECK_TEXT, objectName="checkData")
        self.summary = QTableWidget(0, 5, objectName="targetSummary")
        self.summary.setHorizontalHeaderLabels(["Head", "Labelled", "Missing", "Range",
                                                "Class counts"])
        self.summary.horizontalHeader().setStretchLastSection(True)
        self.summary.verticalHeader().hide()
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary.setMinimumHeight(110)
        self.problems = QLabel(objectName="checkProblems", wordWrap=True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report = None
        # Checks read the whole data set: they run as a background job.
        self._runner = ThreadRunner(owner, name="mogui-data-check",
                                    priority=Priority.LOWER_THREAD)
        self._runner.succeeded.connect(self._keep_report)
        self._runner.failed.connect(lambda error: self._keep_report(_failure(error.exception)))
        # The result is shown once the job has ended, so a new check can start.
        self._runner.finished.connect(self._show_result)
        self._result = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)

    @property
    def is_running(self) -> bool:
        return self._runner.is_running

    def start(self, candidate: Callable[[], Project], project_dir: Path | None) -> bool:
        """Check the project ``candidate()`` gives; a :class:`DataError` it raises is shown
        at once. False when a check is already running."""
        if self._runner.is_running:
            return False
        try:
            project = candidate()
        except DataError as exc:
            self._keep_report(_failure(exc))
            self._show_result()
            return True
        self.button.setEnabled(False)
        self.button.setText("Checking…")
        self.problems.setText("Checking the data…")
        self._runner.start(_check, project, project_dir)
        return True

    def show_errors(self, text: str) -> None:
        self.problems.setText(error_html(text))

    def _keep_report(self, report) -> None:  # noqa: ANN001 - a DataReport
        self._result = report

    def _show_result(self) -> None:
        report, self._result = self._result, None
        if report is None:
            return
        self.button.setEnabled(True)
        self.button.setText(CHECK_TEXT)
        self.report = report
        self._show_report(report)
        self.checked.emit(report)

    def _show_report(self, report) -> None:  # noqa: ANN001
        classes = self._classes()
        self.summary.setRowCount(len(report.summaries))
        for r, summary in enumerate(report.summaries.values()):
            value_range = "" if summary.low is None else f"{summary.low:.4g} .. {summary.high:.4g}"
            names = classes.get(summary.head) or []
            counts = ", ".join(f"{names[k] if 0 <= k < len(names) else k}: {v}"
                               for k, v in sorted(summary.class_counts.items()))
            cells = (summary.head, str(summary.labelled), str(summary.missing), value_range,
                     counts)
            for c, text in enumerate(cells):
                self.summary.setItem(r, c, QTableWidgetItem(text))
        self.summary.resizeColumnsToContents()
        lines = [error_html(m) for m in report.errors]
        lines += [f"<b>Warning:</b> {m}" for m in report.warnings]
        if not lines:
            lines = [f"<b style='color:#1b5e20'>Ready:</b> {report.rows} rows, no problems "
                     "found."]
        self.problems.setText("<br>".join(line.replace("\n", "<br>") for line in lines))
        for r in range(self.summary.rowCount()):
            item = self.summary.item(r, 1)
            if item is not None and item.text() == "0":
                item.setForeground(QBrush(ERROR_COLOUR))


def _check(_job: JobHandle, project: Project, project_dir: Path | None):  # noqa: ANN202
    """The job: check the data of ``project`` (a DataReport)."""
    load_engine()  # TensorFlow: one thread imports it (see engine_loader)
    from mogui.engine.data.checks import check_data

    return check_data(project, project_dir)


def _failure(exc: BaseException):  # noqa: ANN202 - a DataReport
    """A report holding one plain error for an exception raised while checking."""
    # engine loads TensorFlow: imported when first needed
    from mogui.engine.data.checks import DataReport

    report = DataReport()
    if isinstance(exc, DataError):
        report.add("error", str(exc))
    else:
        report.add("error", f"The check stopped on an unexpected error: "
                            f"{type(exc).__name__}: {exc}. Check the file and the settings.")
    return report


__all__ = ["CHECK_TEXT", "ERROR_COLOUR", "DataCheckPanel", "error_html"]
