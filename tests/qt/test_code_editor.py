"""The code editor's Python indentation, driven by real key presses."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from mogui.qt.code_editor import CodeEditor

pytestmark = pytest.mark.gui

SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def editor(qtbot) -> CodeEditor:
    widget = CodeEditor()
    qtbot.addWidget(widget)
    widget.show()
    widget.setFocus()
    return widget


def put_cursor(editor: CodeEditor, line: int, column: int) -> None:
    block = editor.document().findBlockByNumber(line)
    cursor = editor.textCursor()
    cursor.setPosition(block.position() + column)
    editor.setTextCursor(cursor)


def select_lines(editor: CodeEditor, first: int, last: int) -> None:
    document = editor.document()
    cursor = editor.textCursor()
    cursor.setPosition(document.findBlockByNumber(first).position())
    end = document.findBlockByNumber(last)
    cursor.setPosition(end.position() + end.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)


def cursor_at(editor: CodeEditor) -> tuple[int, int]:
    cursor = editor.textCursor()
    return cursor.blockNumber(), cursor.positionInBlock()


def test_enter_indents_after_a_colon_keeps_the_level_and_leaves_after_return(qtbot, editor):
    qtbot.keyClicks(editor, "def loss(y_true, y_pred):")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "error = y_true - y_pred  # what is left:")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "if True:")
    qtbot.keyClick(editor, Qt.Key.Key_Enter)  # the keypad's Enter too
    qtbot.keyClicks(editor, "return error")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "return -error")
    assert editor.toPlainText() == (
        "def loss(y_true, y_pred):\n"
        "    error = y_true - y_pred  # what is left:\n"
        "    if True:\n"
        "        return error\n"
        "    return -error")


def test_a_colon_inside_a_string_or_comment_does_not_open_a_block(qtbot, editor):
    qtbot.keyClicks(editor, "    label = 'a:'")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert cursor_at(editor) == (1, 4)
    qtbot.keyClicks(editor, "x = 1  # note:")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.toPlainText().endswith("# note:\n    ")


def test_tab_without_a_selection_inserts_spaces_to_the_next_level(qtbot, editor):
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "    "
    qtbot.keyClicks(editor, "ab")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "    ab  "
    assert "\t" not in editor.toPlainText()


def test_tab_and_shift_tab_indent_and_dedent_the_selected_lines(qtbot, editor):
    text = "a = 1\n\nif a:\n    b = 2\nc = 3"
    editor.setPlainText(text)
    select_lines(editor, 0, 3)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "    a = 1\n\n    if a:\n        b = 2\nc = 3"
    assert editor.textCursor().selectedText().startswith("    a = 1")  # still selected
    qtbot.keyClick(editor, Qt.Key.Key_Backtab)
    assert editor.toPlainText() == text
    qtbot.keyClick(editor, Qt.Key.Key_Backtab)  # a line with nothing to remove stays
    assert editor.toPlainText() == "a = 1\n\nif a:\nb = 2\nc = 3"
    editor.undo()  # each indent or dedent is one undo step
    assert editor.toPlainText() == text


def test_shift_tab_dedents_the_cursor_line_to_the_previous_level(qtbot, editor):
    editor.setPlainText("def f():\n      return 1")
    put_cursor(editor, 1, 8)
    qtbot.keyClick(editor, Qt.Key.Key_Tab, SHIFT)
    assert editor.toPlainText() == "def f():\n    return 1"
    assert cursor_at(editor) == (1, 6)


def test_backspace_in_leading_spaces_removes_one_level(qtbot, editor):
    editor.setPlainText("if x:\n        y = 1\n      z")
    put_cursor(editor, 1, 8)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.document().findBlockByNumber(1).text() == "    y = 1"
    put_cursor(editor, 2, 6)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # 6 spaces: back to 4
    assert editor.document().findBlockByNumber(2).text() == "    z"
    put_cursor(editor, 1, 5)  # after the "y": an ordinary backspace
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.document().findBlockByNumber(1).text() == "     = 1"


def test_a_read_only_editor_ignores_the_indentation_keys(qtbot, editor):
    editor.setPlainText("def f():\n    pass")
    editor.setReadOnly(True)
    select_lines(editor, 0, 1)
    for key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return,
                Qt.Key.Key_Backspace):
        qtbot.keyClick(editor, key)
    assert editor.toPlainText() == "def f():\n    pass"
