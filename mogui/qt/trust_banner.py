"""The banner of a project whose code the user has not trusted (restricted mode).

Opening a shared project runs none of its code: the banner says what code it holds, offers
to show it, and asks "Trust and enable" or "Keep disabled". While disabled, the code shows
read-only, nothing compiles or runs it, and Start and Export say why; everything else works.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mogui.core.errors import MoguiError
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument


class CodeDialog(QDialog):
    """The project's untrusted code, read-only, with what it is and its hash."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("untrustedCodeDialog")
        self.setWindowTitle("Code in this project")
        text = QPlainTextEdit(objectName="untrustedCodeView", readOnly=True)
        text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        parts = []
        for item in document.untrusted_code:
            parts.append(f"# --- {item.describe()}, sha256 {item.sha256} ---\n{item.listing()}")
        text.setPlainText("\n\n".join(parts))
        note = QLabel("This code runs with your permissions when the project is dry-run, "
                      "trained or exported. Trust it only if you trust where it came from.",
                      wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(text, 1)
        layout.addWidget(buttons)
        self.resize(760, 520)


class TrustBanner(QFrame):
    """Shown while the document holds untrusted code, until trusted or dismissed."""

    trusted = Signal()

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trustBanner")
        self.setStyleSheet("#trustBanner { background: #fff3cd; border: 1px solid #e0c36c; }"
                           " QLabel { color: #5c4200; }")
        self._document = document
        self._dismissed_for: tuple[str, ...] | None = None
        self.message = QLabel(objectName="trustMessage", wordWrap=True)
        bold = QFont(self.message.font())
        bold.setBold(True)
        self.show_button = QPushButton("Show code…", objectName="showCodeButton",
                                       clicked=self.show_code)
        self.trust_button = QPushButton("Trust and enable", objectName="trustButton",
                                        clicked=self.trust)
        self.keep_button = QPushButton("Keep disabled", objectName="keepDisabledButton",
                                       clicked=self.keep_disabled)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.message, 1)
        for button in (self.show_button, self.trust_button, self.keep_button):
            row.addWidget(button)
        document.trust_changed.connect(self.refresh)
        document.path_changed.connect(self.refresh)
        self.refresh()

    def _key(self) -> tuple[str, ...]:
        return tuple(item.sha256 for item in self._document.untrusted_code)

    def refresh(self) -> None:
        items = self._document.untrusted_code
        if not items:
            self._dismissed_for = None
            self.hide()
            return
        names = ", ".join(item.describe() for item in items)
        self.message.setText(
            f"<b>This project holds Python code you have not trusted</b> ({names}). It is "
            "shown read-only and nothing runs it: no dry run, no training, no export.")
        self.setVisible(self._dismissed_for != self._key())

    def show_code(self) -> None:
        CodeDialog(self._document, self).exec()

    def trust(self) -> None:
        try:
            self._document.trust_code()
        except MoguiError as exc:
            error_dialog.show_error(self, "Cannot record the trust", str(exc))
            return
        self.trusted.emit()

    def keep_disabled(self) -> None:
        """Hide the banner for this code; it stays disabled."""
        self._dismissed_for = self._key()
        self.hide()
