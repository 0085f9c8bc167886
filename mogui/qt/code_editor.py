"""A small Python code editor: line numbers, syntax highlighting, an error-line marker and
Python indentation (four spaces a level).

Keys: Enter keeps the line's indentation, one level more after a line ending in ``:`` and one
less after ``return``, ``pass``, ``raise``, ``break`` or ``continue``; Tab indents the selected
lines (without a selection, it inserts spaces up to the next level); Shift+Tab dedents the
selected lines, or the cursor's line; Backspace in a line's leading spaces removes one level.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

_ERROR_BACKGROUND = QColor(255, 205, 205)
_COMMIT_DELAY_MS = 700
#: One level of indentation.
INDENT = "    "
#: Statements after which the next line leaves the block (one level less).
_BLOCK_ENDERS = re.compile(r"^\s*(return|pass|raise|break|continue)\b")


def leading_spaces(line: str) -> str:
    """The indentation of ``line`` (its leading spaces and tabs)."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def _code_part(line: str) -> str:
    """``line`` without a trailing comment (a ``#`` outside quotes) and trailing spaces."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i].rstrip()
    return line.rstrip()


def next_line_indent(line: str) -> str:
    """The indentation Enter gives the line after ``line`` (the text before the cursor)."""
    indent = leading_spaces(line)
    if _code_part(line).endswith(":"):
        return indent + INDENT
    if _BLOCK_ENDERS.match(line):
        return indent[: max(0, len(indent) - len(INDENT))]
    return indent


def _char_format(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Colours keywords, builtins, numbers, strings, comments and decorators."""

    _BUILTINS = ("abs", "float", "int", "len", "max", "min", "print", "range", "sum", "dict",
                 "list", "tuple", "zip", "isinstance", "True", "False", "None")

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        kw = r"\b(" + "|".join(keyword.kwlist) + r")\b"
        builtins = r"\b(" + "|".join(self._BUILTINS) + r")\b"
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = [
            (re.compile(kw), _char_format("#0033b3", bold=True)),
            (re.compile(builtins), _char_format("#7a3e9d")),
            (re.compile(r"\b\d+(\.\d*)?([eE][-+]?\d+)?\b"), _char_format("#1750eb")),
            (re.compile(r"^\s*@\w+(\.\w+)*"), _char_format("#9e880d")),
            (re.compile(r"\bdef\s+(\w+)"), _char_format("#00627a", bold=True)),
            (re.compile(r"(\"[^\"\\]*(\\.[^\"\\]*)*\"|'[^'\\]*(\\.[^'\\]*)*')"),
             _char_format("#067d17")),
            (re.compile(r"#[^\n]*"), _char_format("#8c8c8c", italic=True)),
        ]
        self._docstring = _char_format("#067d17", italic=True)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                group = 1 if pattern.pattern.startswith(r"\bdef") else 0
                start, end = match.span(group)
                self.setFormat(start, end - start, fmt)
        self._highlight_triple_quotes(text)

    def _highlight_triple_quotes(self, text: str) -> None:
        """Multi-line ``\"\"\"`` strings, tracked across blocks with the block state."""
        self.setCurrentBlockState(0)
        start = 0
        inside = self.previousBlockState() == 1
        if not inside:
            start = text.find('"""')
            if start < 0:
                return
        while start >= 0:
            search_from = start if inside else start + 3
            end = text.find('"""', search_from)
            if end < 0:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, self._docstring)
                return
            self.setFormat(start, end + 3 - start, self._docstring)
            inside = False
            start = text.find('"""', end + 3)


class _LineNumberArea(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._editor.line_number_area_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self._editor.paint_line_numbers(event)


class CodeEditor(QPlainTextEdit):
    """Plain-text Python editor.

    ``source_committed(text)`` fires shortly after the user stops typing and when the editor
    loses focus, so a project edit (and an undo step) is made per pause, not per keystroke.
    """

    source_committed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self._highlighter = PythonHighlighter(self.document())
        self._numbers = _LineNumberArea(self)
        self._error_line: int | None = None
        self._committed = ""
        self._commit_timer = QTimer(self, singleShot=True, interval=_COMMIT_DELAY_MS)
        self._commit_timer.timeout.connect(self.commit)
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._scroll_numbers)
        self.textChanged.connect(self._on_text_changed)
        self._update_margin()

    # -- text -------------------------------------------------------------------------------
    def set_source(self, text: str) -> None:
        """Show ``text`` without emitting ``source_committed`` (used when the project changes)."""
        if text == self.toPlainText():
            self._committed = text
            return
        self.blockSignals(True)
        try:
            self.setPlainText(text)
        finally:
            self.blockSignals(False)
        self._committed = text
        self._commit_timer.stop()
        self._apply_selections()
        self._numbers.update()

    @property
    def has_pending_edit(self) -> bool:
        """True while typed text has not been committed yet."""
        return self.toPlainText() != self._committed

    def commit(self) -> None:
        """Emit ``source_committed`` now if the text changed since the last commit."""
        self._commit_timer.stop()
        text = self.toPlainText()
        if text != self._committed:
            self._committed = text
            self.source_committed.emit(text)

    def _on_text_changed(self) -> None:
        self._commit_timer.start()

    # -- indentation ------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if not self.isReadOnly() and self._indent_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def _indent_key(self, event: QKeyEvent) -> bool:
        """Handle Enter, Tab, Shift+Tab and Backspace as the module docstring says; True
        when the key was handled here."""
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        shift = mods == Qt.KeyboardModifier.ShiftModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (not mods or shift):
            self._new_line()
        elif key == Qt.Key.Key_Backtab or (key == Qt.Key.Key_Tab and shift):
            self._shift_lines(-1)
        elif key == Qt.Key.Key_Tab and not mods:
            if self.textCursor().hasSelection():
                self._shift_lines(1)
            else:
                self._insert_indent()
        elif key == Qt.Key.Key_Backspace and not mods:
            return self._remove_indent_level()
        else:
            return False
        return True

    def _new_line(self) -> None:
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        cursor.beginEditBlock()
        cursor.insertText("\n" + next_line_indent(before))
        cursor.endEditBlock()
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def _insert_indent(self) -> None:
        cursor = self.textCursor()
        column = cursor.positionInBlock()
        cursor.insertText(" " * (len(INDENT) - column % len(INDENT)))
        self.setTextCursor(cursor)

    def _selected_blocks(self) -> tuple[int, int]:
        """First and last block numbers the selection (or the cursor) touches; a selection
        ending at the start of a line leaves that line out."""
        cursor = self.textCursor()
        start, end = sorted((cursor.anchor(), cursor.position()))
        document = self.document()
        first = document.findBlock(start).blockNumber()
        last_block = document.findBlock(end)
        last = last_block.blockNumber()
        if last > first and end == last_block.position():
            last -= 1
        return first, last

    def _shift_lines(self, levels: int) -> None:
        """Indent (``levels`` 1) or dedent (-1) every selected line, or the cursor's line, by
        one level, as one undo step; the lines stay selected."""
        first, last = self._selected_blocks()
        document = self.document()
        had_selection = self.textCursor().hasSelection()
        column = self.textCursor().positionInBlock()
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        moved = 0
        for number in range(first, last + 1):
            block = document.findBlockByNumber(number)
            cursor.setPosition(block.position())
            if levels > 0:
                if block.text().strip() or first == last:  # blank lines stay blank
                    cursor.insertText(INDENT)
                    moved = len(INDENT)
                continue
            text = block.text()
            spaces = len(text) - len(text.lstrip(" "))
            width = 1 if text.startswith("\t") else spaces % len(INDENT) or min(spaces,
                                                                               len(INDENT))
            cursor.setPosition(block.position() + width, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            moved = -width
        cursor.endEditBlock()
        result = QTextCursor(document)
        if had_selection:
            result.setPosition(document.findBlockByNumber(first).position())
            end = document.findBlockByNumber(last)
            result.setPosition(end.position() + end.length() - 1,
                               QTextCursor.MoveMode.KeepAnchor)
        else:
            block = document.findBlockByNumber(first)
            result.setPosition(block.position()
                               + max(0, min(column + moved, block.length() - 1)))
        self.setTextCursor(result)

    def _remove_indent_level(self) -> bool:
        """Backspace with only spaces before the cursor: back to the previous level."""
        cursor = self.textCursor()
        if cursor.hasSelection():
            return False
        before = cursor.block().text()[: cursor.positionInBlock()]
        if not before or before.strip(" "):
            return False
        width = len(before) % len(INDENT) or len(INDENT)
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor,
                            width)
        cursor.removeSelectedText()
        self.setTextCursor(cursor)
        return True

    def focusOutEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.commit()
        super().focusOutEvent(event)

    # -- error marker -----------------------------------------------------------------------
    @property
    def error_line(self) -> int | None:
        """1-based line currently marked as wrong, or ``None``."""
        return self._error_line

    def mark_error(self, lineno: int | None) -> None:
        """Highlight line ``lineno`` (1-based) as the place of an error; ``None`` clears it."""
        if lineno is not None and not 1 <= lineno <= self.blockCount():
            lineno = None
        self._error_line = lineno
        self._apply_selections()
        self._numbers.update()
        if lineno is not None:
            block = self.document().findBlockByNumber(lineno - 1)
            cursor = QTextCursor(block)
            self.setTextCursor(cursor)
            self.ensureCursorVisible()

    def _apply_selections(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        if self._error_line is not None:
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(_ERROR_BACKGROUND)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            block = self.document().findBlockByNumber(self._error_line - 1)
            selection.cursor = QTextCursor(block)
            selection.cursor.clearSelection()
            selections.append(selection)
        self.setExtraSelections(selections)

    # -- line numbers -----------------------------------------------------------------------
    def line_number_area_width(self) -> int:
        digits = max(2, len(str(self.blockCount())))
        return 10 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self, _count: int = 0) -> None:
        self.setViewportMargins(self.line_number_area_width(), 0, 0, 0)

    def _scroll_numbers(self, rect: QRect, dy: int) -> None:
        if dy:
            self._numbers.scroll(0, dy)
        else:
            self._numbers.update(0, rect.y(), self._numbers.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_margin()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        contents = self.contentsRect()
        self._numbers.setGeometry(QRect(contents.left(), contents.top(),
                                        self.line_number_area_width(), contents.height()))

    def paint_line_numbers(self, event: QPaintEvent) -> None:
        painter = QPainter(self._numbers)
        painter.fillRect(event.rect(), self.palette().alternateBase())
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        height = self.fontMetrics().height()
        width = self._numbers.width() - 5
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                is_error = self._error_line == number + 1
                if is_error:
                    painter.fillRect(0, top, self._numbers.width(), height, QColor(220, 50, 50))
                    painter.setPen(Qt.GlobalColor.white)
                else:
                    painter.setPen(self.palette().placeholderText().color())
                painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight,
                                 str(number + 1))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()


class CodeEditorWithMessage(QWidget):
    """A :class:`CodeEditor` with a message line under it for errors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = CodeEditor(self)
        self.message = QLabel(self)
        self.message.setObjectName("codeErrorLabel")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setStyleSheet("color: #b00020;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.message)

    def show_error(self, message: str, lineno: int | None) -> None:
        self.editor.mark_error(lineno)
        self.message.setText(message)
        self.message.show()

    def clear_error(self) -> None:
        self.editor.mark_error(None)
        self.message.clear()
        self.message.hide()

    @property
    def error_text(self) -> str:
        return self.message.text() if not self.message.isHidden() else ""
