"""The Training tab's Gradient diagnostics group: sample the heads' gradients, and how often.

A check box turns ``training.gradient_diagnostics`` on, a number box sets every how many
training steps a sample is taken; each change is one undoable edit of the document, and a
value the project's rules refuse (fewer than one step) is not applied, with the reason under
the box. The note says what the sampling costs; a project that cannot be diagnosed (one head
with a loss, no shared layers) gets its problem shown here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import ERROR_COLOUR, check_editor, spin_editor

_PATH = "training.gradient_diagnostics"


def sample_steps(heads: int) -> float:
    """About how many training steps one sample costs with ``heads`` heads: a forward pass and
    a backward pass per head, while a step's own cost grows with its heads too. Fitted to
    ``benchmarks/gradient_diagnostics.py`` on the demo (1.5 steps with 2 heads, 4 with 8, 11
    with 40); a rough guide, which the Gradients view replaces by what the run measures."""
    return heads ** 0.65


def cost_note(project: Project) -> str:
    """What sampling will roughly cost the project's training."""
    settings = project.training.gradient_diagnostics
    heads = len(project.loss_heads())
    if settings.every is None:
        return ("Each sample costs a forward pass and a backward pass per head on one batch; "
                f"Auto spaces them {settings.describe().removeprefix('automatically: ')}. The "
                "Gradients view shows them, and what they cost.")
    share = sample_steps(heads) / settings.every
    advice = "; sample less often to save time" if share > 0.1 else ""
    return (f"Each sample costs a forward pass and a backward pass per head on one batch: with "
            f"{heads} head{'s' if heads != 1 else ''} every {settings.every} steps, up to "
            f"about {share:.0%} more training time (less where a step's fixed costs dominate, "
            f"as in small models){advice}. The Gradients view shows them, and what they cost "
            "in the run.")


class GradientSettingsGroup(QGroupBox):
    """Edits ``project.training.gradient_diagnostics`` of the document."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__("Gradient diagnostics", parent)
        self.setObjectName("gradientSettings")
        self._document = document
        self.enabled = check_editor(self._committer("enabled", bool))
        self.enabled.widget.setObjectName("setting_gradient_diagnostics_enabled")
        self.enabled.widget.setAccessibleName("Sample the heads' gradients")
        self.enabled.widget.setToolTip(
            "While training, sample each head's gradient on the shared trunk: its norm per "
            "layer and in all, and the cosine between every two heads' gradients "
            "(gradnorm_<head>, gradcos_<a>__<b> in history.csv)")
        self.every = spin_editor(self._committer("every", _every), 0, 1_000_000)
        self.every.widget.setSpecialValueText("Auto")  # 0: the automatic interval
        self.every.widget.setObjectName("setting_gradient_diagnostics_every")
        self.every.widget.setAccessibleName("Sample every N steps")
        self.every.widget.setToolTip("Training steps from one sample to the next (the first "
                                     "step is always sampled); Auto: at least 50 steps apart, "
                                     "at most a tenth of the training time")
        self.every.error_label.setObjectName("error_gradient_diagnostics_every")
        self.note = QLabel(self, objectName="gradientNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.problem_label = QLabel(self, objectName="gradientProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.problem_label.hide()

        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Sample the heads' gradients:", self))
        row.addWidget(self.enabled.widget)
        row.addSpacing(12)
        row.addWidget(QLabel("every", self))
        row.addWidget(self.every.widget)
        row.addWidget(QLabel("steps", self))
        row.addSpacing(12)
        row.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.every.error_label)
        layout.addWidget(self.problem_label)
        document.changed.connect(self.sync)
        self.sync()

    def _committer(self, name: str, kind: type) -> Callable[[Any], None]:
        editor = (lambda: self.enabled) if name == "enabled" else (lambda: self.every)

        def commit(value: Any) -> None:
            value = kind(value)
            text = (f"Gradient diagnostics: {'on' if value else 'off'}" if name == "enabled"
                    else "Gradient diagnostics at the automatic interval" if value is None
                    else f"Gradient diagnostics every {value} steps")

            def mutate(project: Project) -> None:
                setattr(project.training.gradient_diagnostics, name, value)

            editor().local_error = ""
            refused = self._document.edit_field(text, f"{_PATH}.{name}", mutate)
            if refused:
                kept = getattr(self._document.project.training.gradient_diagnostics, name)
                kept = "Auto" if kept is None else kept
                reasons = "; ".join(p.message for p in refused)
                editor().report(f"Every {reasons}. Not applied: still {kept}.")
            else:
                editor().report("")
            self.sync()

        return commit

    def error_text(self) -> str:
        """Why the entry of the number box was not applied ("" when it was)."""
        return self.every.error_label.text()

    def sync(self) -> None:
        """Show the document's setting, its cost and its problems."""
        project = self._document.project
        settings = project.training.gradient_diagnostics
        self.enabled.show_value(settings.enabled)
        self.every.show_value(settings.every or 0)
        self.every.widget.setEnabled(settings.enabled)
        self.note.setText(cost_note(project) if settings.enabled else
                          "Off: switch on to see whether the heads help or fight each other "
                          "in the shared layers (the Gradients view).")
        problems = [p.message for p in self._document.problems
                    if p.path == _PATH or p.path.startswith(f"{_PATH}.")]
        self.problem_label.setText(" ".join(f"Gradient diagnostics: {p.removeprefix('is ')}."
                                            for p in problems))
        self.problem_label.setVisible(bool(problems))


def _every(value: Any) -> int | None:
    """The number box's value as the setting: 0 (shown as "Auto") is the automatic interval."""
    return None if int(value) == 0 else int(value)
