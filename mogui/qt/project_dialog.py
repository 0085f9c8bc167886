"""Edit ▸ Project properties…: the project's name and description, applied as one undoable
step. The name titles an unsaved project's window and names what is made from the project
(the exported script ``train_<name>.py``, a new project file, an unsaved project's runs)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from mogui.core.project import Project, slug_of
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import with_message

#: The longest name the dialog takes.
MAX_NAME_LENGTH = 120


def project_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a project (``None`` when it can)."""
    name = name.strip()
    if not name:
        return "needs a name: it titles the window and names the exported files"
    if not re.search(r"[^\W_]", name):
        return ("needs at least one letter or digit: the exported files are named after it, "
                "e.g. train_house_prices.py for “House prices”")
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long; keep it to {MAX_NAME_LENGTH}"
    return None


class ProjectPropertiesDialog(QDialog):
    """Name and description of the document's project; OK applies both as one undo step and
    stays open, with the reason under the field, while the name cannot be used."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectPropertiesDialog")
        self.setWindowTitle("Project properties")
        self._document = document
        project = document.project
        self.name_edit = QLineEdit(project.name, objectName="projectNameEdit")
        self.name_edit.textChanged.connect(self._on_name_typed)
        self._name_editor, name_row = with_message(self.name_edit, "projectName")
        self.file_names = QLabel(objectName="projectFileNames")
        self.file_names.setStyleSheet("color: #666;")
        self.description_edit = QPlainTextEdit(project.description,
                                               objectName="projectDescriptionEdit")
        self.description_edit.setTabChangesFocus(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", name_row)
        form.addRow("", self.file_names)
        form.addRow("Description", self.description_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(520, 300)
        self._on_name_typed(self.name_edit.text())

    @property
    def name_error(self) -> str:
        """Why the typed name was refused (``""`` when it was not)."""
        return self._name_editor.local_error

    def _on_name_typed(self, text: str) -> None:
        slug = slug_of(text)
        self.file_names.setText(f"Files made from it are named “{slug}”, e.g. train_{slug}.py"
                                if slug else "")
        if self.name_error:
            self._name_editor.report(project_name_problem(text) or "")

    def accept(self) -> None:
        name = self.name_edit.text().strip()
        problem = project_name_problem(name)
        self._name_editor.report(problem or "")
        if problem:
            return  # stays open; nothing is applied
        description = self.description_edit.toPlainText().strip()
        project = self._document.project
        if (name, description) != (project.name, project.description):
            def mutate(p: Project) -> None:
                p.name, p.description = name, description

            self._document.edit(f"Project properties: {name}", mutate)
        super().accept()
