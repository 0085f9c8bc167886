"""The Losses tab: per-output or joint mode, custom loss code, the contract and a dry run."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.errors import CustomCodeError, MoguiError
from mogui.core.project import HeadSpec, Project
from mogui.core.project_code import JOINT_CODE_LABEL, check_code_statically, head_code_label
from mogui.core.tasks import TASKS
from mogui.core.trust import project_code
from mogui.qt.code_editor import CodeEditorWithMessage
from mogui.qt.document import ProjectDocument
from mogui.qt.dry_run_view import (
    DRY_RUN_BATCH,
    ContractView,
    DryRunView,
    error_message,
    fit_table_height,
)
from mogui.qt.jobs import JobError
from mogui.qt.loss_table import PerOutputLossTable
from mogui.qt.process_runner import ProcessRunner, SpareChild
from mogui.qt.weight_spin import WeightSpinBox

PER_OUTPUT, JOINT = "per_output", "joint"
#: Longest a dry run may take before it is stopped.
DRY_RUN_TIMEOUT_S = 120
#: Rows the loss tables show before they scroll, so that many heads keep the window short.
MAX_TABLE_ROWS = 12


def joint_code_label() -> str:
    return JOINT_CODE_LABEL


def _joint_term(head: HeadSpec) -> str:
    """One head's term of the joint template: the built-in loss chosen for the head in
    per-output mode (its task's default when that was custom or none), as Keras computes it
    (from logits for a crossentropy on a linear output)."""
    chosen = head.loss.kind if head.has_loss and not head.is_custom else None
    kind = chosen or TASKS[head.task].default_loss
    note = ""
    if head.is_custom:
        note = (f"        # '{head.name}' has a custom loss per output; this is its task's "
                "usual loss\n")
    elif chosen is None:
        note = (f"        # '{head.name}' has no loss per output; in joint mode every head "
                "has a term\n")
    logits = (", from_logits=True" if kind.endswith("crossentropy")
              and head.output_activation == "linear" else "")
    return (f'{note}        "{head.name}": ops.mean(keras.losses.get("{kind}")'
            f'(y_true["{head.name}"], y_pred["{head.name}"]{logits})),\n')


def joint_loss_template(heads: list[HeadSpec]) -> str:
    """Starting source for a joint loss: one term per head, each with the loss chosen for
    that head in per-output mode."""
    names = ", ".join(f"'{h.name}'" for h in heads)
    terms = "".join(_joint_term(h) for h in heads)
    return (
        "def loss(y_true, y_pred):\n"
        '    """One loss over all heads.\n\n'
        f"    y_true and y_pred are dicts keyed by head name: {names}.\n"
        "    Return a scalar, or a dict of scalar terms weighted by the term weights.\n"
        '    """\n'
        "    return {\n"
        f"{terms}"
        "    }\n"
    )


def _group(title: str, widget: QWidget, parent: QWidget) -> QGroupBox:
    box = QGroupBox(title, parent)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


class LossPanel(QWidget):
    """Edits the document's losses; shows what each loss receives; dry-runs one batch."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 spare: SpareChild | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._custom_head: str | None = None
        self._term_structure: tuple[str, ...] = ()
        self._generation = 0  # counts document changes; a dry run is for one generation
        self._dry_run_generation = -1
        self._dry_run_marked: CodeEditorWithMessage | None = None

        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("lossModeCombo")
        self.mode_combo.addItem("Per output: one loss per head", PER_OUTPUT)
        self.mode_combo.addItem("Joint: one function over all heads", JOINT)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_chosen)

        self.table = PerOutputLossTable(document, self)
        self.table.custom_chosen.connect(self.show_custom_head)
        self.table.currentCellChanged.connect(self._on_row_changed)
        self.head_code = CodeEditorWithMessage(self)
        self.head_code.setObjectName("headLossEditor")
        self.head_code.editor.source_committed.connect(self._on_head_source)
        self.head_code_box = _group("Custom loss", self.head_code, self)
        self.head_code_box.hide()
        per_output = QWidget(self)
        per_layout = QVBoxLayout(per_output)
        per_layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Each loss sees only its own head's targets and predictions. Choose "
                      "'Custom Python…' to write one.", per_output)
        hint.setWordWrap(True)
        per_layout.addWidget(hint)
        per_layout.addWidget(self.table)
        per_layout.addWidget(self.head_code_box, 1)
        self.custom_hint = QLabel(
            "To write a loss in Python, pick “Custom Python…” in a head's Loss column: its "
            "code editor opens here.", per_output)
        self.custom_hint.setObjectName("customLossHint")
        self.custom_hint.setWordWrap(True)
        self.custom_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.custom_hint.setStyleSheet("color: #777;")
        per_layout.addWidget(self.custom_hint, 1)
        per_layout.addStretch(0)

        self.joint_code = CodeEditorWithMessage(self)
        self.joint_code.setObjectName("jointLossEditor")
        self.joint_code.editor.source_committed.connect(self._on_joint_source)
        self.term_table = QTableWidget(0, 2, self)
        self.term_table.setObjectName("termWeightsTable")
        self.term_table.setHorizontalHeaderLabels(["Term (head)", "Weight"])
        self.term_table.verticalHeader().hide()
        self.term_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.term_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.term_table.horizontalHeader().setStretchLastSection(True)
        joint = QWidget(self)
        joint_layout = QVBoxLayout(joint)
        joint_layout.setContentsMargins(0, 0, 0, 0)
        joint_hint = QLabel("The function receives every head at once: y_true and y_pred are "
                            "dicts keyed by head name. Returned dict terms are multiplied by "
                            "their weight and summed.", joint)
        joint_hint.setWordWrap(True)
        joint_layout.addWidget(joint_hint)
        joint_row = QHBoxLayout()
        joint_row.addWidget(self.joint_code, 1)
        terms = QVBoxLayout()
        terms.addWidget(QLabel("Term weights", joint))
        terms.addWidget(self.term_table)
        terms.addStretch(1)
        joint_row.addLayout(terms)
        joint_layout.addLayout(joint_row, 1)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(per_output)
        self.stack.addWidget(joint)

        self.contract = ContractView(lambda: self.project, self)
        self.dry_run_button = QPushButton("Dry run", self)
        self.dry_run_button.setObjectName("dryRunButton")
        self.dry_run_button.setToolTip("Call the losses on one real batch of the data")
        self.dry_run_button.clicked.connect(self.dry_run)
        self.dry_run_view = DryRunView(self)
        self.runner = ProcessRunner(self, spare=spare)
        self.runner.succeeded.connect(self._on_dry_run_report)
        self.runner.failed.connect(self._on_dry_run_error)
        self.runner.started.connect(lambda: self.dry_run_button.setEnabled(False))
        self.runner.finished.connect(self._on_dry_run_finished)
        #: A dry run still going after this long is stopped (a loss that never returns).
        self.dry_run_timeout_ms = DRY_RUN_TIMEOUT_S * 1000
        self._dry_run_timer = QTimer(self, singleShot=True)
        self._dry_run_timer.timeout.connect(self._dry_run_timed_out)
        self._timed_out = False
        self.runner.finished.connect(self._update_restricted)
        self.restricted_note = QLabel(self)
        self.restricted_note.setObjectName("restrictedNote")
        self.restricted_note.setWordWrap(True)
        self.restricted_note.setStyleSheet("color: #7a5300;")
        self.restricted_note.setText(
            "This code is not trusted: it is shown read-only and nothing runs it. Read it, then "
            "press “Trust and enable” in the banner above the tabs to edit and run it.")
        self.restricted_note.hide()

        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(_group("What each loss receives", self.contract, side))
        dry_box = QGroupBox("Dry run on one batch", side)
        dry_layout = QVBoxLayout(dry_box)
        dry_layout.addWidget(self.dry_run_button, 0, Qt.AlignmentFlag.AlignLeft)
        dry_layout.addWidget(self.dry_run_view)
        side_layout.addWidget(dry_box)
        side_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stack)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([450, 350])
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Loss mode:", self))
        mode_row.addWidget(self.mode_combo)
        mode_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(mode_row)
        layout.addWidget(self.restricted_note)
        layout.addWidget(splitter, 1)

        document.changed.connect(self.sync)
        document.changed.connect(self._on_document_changed)
        document.trust_changed.connect(self._update_restricted)
        self.sync()
        self._update_restricted()

    # -- restricted mode --------------------------------------------------------------------
    @property
    def restricted(self) -> bool:
        """True while the project holds code the user has not trusted."""
        return bool(self._document.untrusted_code)

    def _update_restricted(self) -> None:
        """Untrusted code: editors read-only, no dry run (see docs/security.md)."""
        restricted = self.restricted
        for box in (self.head_code, self.joint_code):
            box.editor.setReadOnly(restricted)
        self.restricted_note.setVisible(restricted)
        self.dry_run_button.setEnabled(not restricted and not self.runner.is_running)
        self.dry_run_button.setToolTip(
            "Trust the project's code first (banner above the tabs)" if restricted
            else "Call the losses on one real batch of the data")

    # -- project -> widgets -----------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._document.project

    def sync(self) -> None:
        project = self.project
        mode_index = self.mode_combo.findData(project.loss_mode)
        self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentIndex(mode_index)
        self.mode_combo.blockSignals(False)
        self.stack.setCurrentIndex(mode_index)
        self.table.sync(project)
        self.table.fit(MAX_TABLE_ROWS)
        self._sync_term_weights(project)
        fit_table_height(self.term_table, MAX_TABLE_ROWS)
        self._sync_editor(self.joint_code, project.joint_loss.source, joint_code_label())
        customs = [h.name for h in project.heads if h.is_custom]
        if self._custom_head not in customs:
            self._custom_head = customs[0] if customs else None
        self._show_head_editor()
        self.contract.schedule()

    def _sync_editor(self, box: CodeEditorWithMessage, source: str, label: str) -> None:
        editor = box.editor
        if editor.has_pending_edit and editor.hasFocus():
            return
        if editor.toPlainText() != source or editor.has_pending_edit:
            editor.set_source(source)
            self.check_code(box, source, label)

    def _show_head_editor(self) -> None:
        name = self._custom_head
        self.head_code_box.setVisible(name is not None)
        self.custom_hint.setVisible(name is None)
        if name is None:
            return
        self.head_code_box.setTitle(f"Custom loss for head '{name}'")
        self._sync_editor(self.head_code, self.project.head(name).loss.source,
                          head_code_label(name))

    def show_custom_head(self, name: str) -> None:
        """Open the custom-loss editor of head ``name`` (if its loss is custom)."""
        if not self.project.head(name).is_custom:
            return
        if name != self._custom_head:
            self.head_code.editor.commit()
            self._custom_head = name
            self.head_code.editor.set_source("")
            self.head_code.clear_error()
        self._show_head_editor()

    def _on_row_changed(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        name = self.table.head_at(row)
        if name is not None:
            self.show_custom_head(name)

    def _sync_term_weights(self, project: Project) -> None:
        names = tuple(project.head_names)
        if names != self._term_structure:
            self._term_structure = names
            self.term_table.setRowCount(len(names))
            for row, name in enumerate(names):
                self.term_table.setItem(row, 0, QTableWidgetItem(name))
                spin = WeightSpinBox(self.term_table)
                spin.setObjectName(f"termWeightSpin_{name}")
                spin.valueChanged.connect(lambda v, n=name: self._on_term_weight(n, v))
                self.term_table.setCellWidget(row, 1, spin)
        for name in names:
            spin = self.term_spin(name)
            spin.blockSignals(True)
            spin.setValue(project.joint_loss.term_weights.get(name, 1.0))
            spin.blockSignals(False)

    def term_spin(self, head: str) -> QDoubleSpinBox:
        return self.term_table.cellWidget(self._term_structure.index(head), 1)

    # -- widgets -> project -----------------------------------------------------------------
    def _on_mode_chosen(self, _index: int) -> None:
        mode = self.mode_combo.currentData()

        def mutate(project: Project) -> None:
            project.loss_mode = mode
            if mode != JOINT:
                return
            if not project.joint_loss.source.strip():
                project.joint_loss.source = joint_loss_template(project.heads)
            for head in project.heads:  # keep the per-head weights as the starting point
                project.joint_loss.term_weights.setdefault(head.name, head.loss.weight)

        self._document.edit("Joint loss" if mode == JOINT else "Per-output losses", mutate)

    def _on_head_source(self, text: str) -> None:
        name = self._custom_head
        if name is None:
            return
        self.check_code(self.head_code, text, head_code_label(name))
        self._document.edit(f"Edit custom loss of '{name}'",
                            lambda p: setattr(p.head(name).loss, "source", text))

    def _on_joint_source(self, text: str) -> None:
        self.check_code(self.joint_code, text, joint_code_label())
        self._document.edit("Edit joint loss",
                            lambda p: setattr(p.joint_loss, "source", text))

    def _on_term_weight(self, name: str, value: float) -> None:
        self._document.edit(f"Joint term weight of '{name}': {value:g}",
                            lambda p: p.joint_loss.term_weights.__setitem__(name, float(value)))

    # -- checks, contract, dry run ----------------------------------------------------------
    def check_code(self, box: CodeEditorWithMessage, source: str, label: str) -> bool:
        """Check ``source`` without running it (syntax, ``def loss``); mark the failing line and
        show the message. True when fine. Running it is the dry run's job, in a child process.
        """
        if not source.strip():
            box.clear_error()
            return True
        try:
            check_code_statically(source, label, allow_mask=label == joint_code_label())
        except CustomCodeError as exc:
            box.show_error(str(exc), exc.lineno)
            return False
        box.clear_error()
        return True

    @property
    def contract_busy(self) -> bool:
        return self.contract.busy

    def dry_run(self) -> None:
        """Run the losses on one real batch in the background."""
        self.head_code.editor.commit()
        self.joint_code.editor.commit()
        if self.restricted:
            return
        path = self._document.path
        project = self.project.model_copy(deep=True)
        if self.runner.start("dry_run", project, path.parent if path is not None else None,
                             DRY_RUN_BATCH,
                             allowed_code=[item.source for item in project_code(project)]):
            self._dry_run_generation = self._generation
            self._timed_out = False
            self._dry_run_timer.start(self.dry_run_timeout_ms)
            self.dry_run_view.show_running()

    def _dry_run_timed_out(self) -> None:
        if self.runner.is_running:
            self._timed_out = True
            self.runner.cancel()

    def _on_dry_run_finished(self) -> None:
        self._dry_run_timer.stop()
        if self._timed_out:
            self._timed_out = False
            seconds = self.dry_run_timeout_ms / 1000
            self.dry_run_view.show_error(
                f"The dry run did not finish within {seconds:g} s, so it was stopped. Check the "
                "loss code for a loop that never ends or work that takes very long.")

    def _dry_run_is_current(self) -> bool:
        if self._dry_run_generation == self._generation:
            return True
        self.dry_run_view.clear("The project changed while the dry run ran. Press Dry run "
                                "again to see the current losses.")
        return False

    def _on_dry_run_report(self, result) -> None:
        if self._dry_run_is_current():
            self.dry_run_view.show_report(result.report)

    def _on_dry_run_error(self, error: JobError) -> None:
        if not self._dry_run_is_current():
            return
        exc, details = error.exception, error.traceback
        message = error_message(exc)
        self.dry_run_view.show_error(message)
        self.dry_run_view.message.setToolTip(details if not isinstance(exc, MoguiError)
                                             else getattr(exc, "details", ""))
        if isinstance(exc, CustomCodeError):
            box = self._editor_for_label(exc.label)
            if box is not None:
                box.show_error(message, exc.lineno)
                self._dry_run_marked = box

    def _on_document_changed(self) -> None:
        """Any change (an edit, a mode switch, New/Open) makes a dry-run result stale."""
        self._generation += 1
        self.dry_run_view.clear()
        box, self._dry_run_marked = self._dry_run_marked, None
        if box is None:
            return
        box.clear_error()
        if box is self.joint_code:  # a compile error of the current source stays marked
            self.check_code(box, box.editor.toPlainText(), joint_code_label())
        elif self._custom_head is not None:
            self.check_code(box, box.editor.toPlainText(), head_code_label(self._custom_head))

    def _editor_for_label(self, label: str) -> CodeEditorWithMessage | None:
        if self.project.loss_mode == JOINT:
            return self.joint_code
        for name in sorted(self.project.head_names, key=len, reverse=True):
            if name in label and self.project.head(name).is_custom:
                self.show_custom_head(name)
                return self.head_code
        return None

    def shutdown(self) -> None:
        """Wait for background work (call before the window closes)."""
        self.contract.shutdown()
        self.runner.join(60_000)
