"""Typed editor widgets for the property form, built from pydantic field information.

Each editor calls ``commit(value)`` once per finished edit (Enter, focus out, a pick from a
list), never per keystroke, so one edit is one undo step.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

Commit = Callable[[Any], None]
INT_LIMIT = 2**31 - 1


class Editor:
    """A widget plus how to show a value in it; ``local_error`` is an unparsable entry."""

    def __init__(self, widget: QWidget, set_value: Callable[[Any], None]) -> None:
        self.widget = widget
        self._set_value = set_value
        self.local_error = ""
        self.on_local_error: Callable[[str], None] = lambda _message: None

    def set_value(self, value: Any) -> None:
        self.widget.blockSignals(True)
        try:
            self._set_value(value)
        finally:
            self.widget.blockSignals(False)

    def report(self, message: str) -> None:
        self.local_error = message
        self.on_local_error(message)


def _bounds(metadata: Sequence[Any]) -> tuple[float | None, float | None, bool, bool]:
    low = high = None
    low_open = high_open = False
    for item in metadata:
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low, low_open = item.gt, True
        if getattr(item, "le", None) is not None:
            high = item.le
        if getattr(item, "lt", None) is not None:
            high, high_open = item.lt, True
    return low, high, low_open, high_open


def spin_editor(low: int, high: int, commit: Commit) -> Editor:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setKeyboardTracking(False)
    spin.valueChanged.connect(commit)
    return Editor(spin, lambda v: spin.setValue(int(v)))


def float_editor(metadata: Sequence[Any], commit: Commit) -> Editor:
    low, high, low_open, high_open = _bounds(metadata)
    spin = QDoubleSpinBox()
    spin.setDecimals(6)
    step = 1e-6
    spin.setRange(-1e9 if low is None else low + (step if low_open else 0.0),
                  1e9 if high is None else high - (step if high_open else 0.0))
    spin.setSingleStep(0.01 if high is not None and high <= 1.0 else 0.1)
    spin.setKeyboardTracking(False)
    spin.valueChanged.connect(commit)
    return Editor(spin, lambda v: spin.setValue(float(v)))


def combo_editor(choices: Sequence[str], commit: Commit) -> Editor:
    combo = QComboBox()
    combo.addItems(list(choices))
    combo.textActivated.connect(commit)

    def show(value: Any) -> None:
        text = str(value)
        if combo.findText(text) < 0:
            combo.addItem(text)
        combo.setCurrentText(text)

    return Editor(combo, show)


def check_editor(commit: Commit) -> Editor:
    box = QCheckBox()
    box.toggled.connect(commit)
    return Editor(box, lambda v: box.setChecked(bool(v)))


def text_editor(commit: Commit) -> Editor:
    line = QLineEdit()

    def finished() -> None:
        if line.isModified():
            line.setModified(False)
            commit(line.text().strip())

    line.editingFinished.connect(finished)
    return Editor(line, lambda v: line.setText(str(v)) if line.text() != str(v) else None)


def _list_editor(parse: Callable[[str], list[Any]], commit: Commit, hint: str) -> Editor:
    line = QLineEdit()
    line.setPlaceholderText(hint)
    editor: Editor

    def finished() -> None:
        if not line.isModified():
            return
        line.setModified(False)
        try:
            value = parse(line.text())
        except ValueError as exc:
            editor.report(str(exc))
            return
        editor.report("")
        commit(value)

    def show(value: Any) -> None:
        if not editor.local_error:
            line.setText(", ".join(str(v) for v in value))

    line.editingFinished.connect(finished)
    editor = Editor(line, show)
    return editor


def _parse_ints(text: str) -> list[int]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError("must be whole numbers separated by commas, e.g. 8, 8, 3") from None


def _parse_names(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def int_list_editor(commit: Commit, hint: str = "e.g. 64, 64, 1") -> Editor:
    return _list_editor(_parse_ints, commit, hint)


def name_list_editor(commit: Commit, hint: str) -> Editor:
    return _list_editor(_parse_names, commit, hint)


def editor_for_field(annotation: Any, metadata: Sequence[Any], commit: Commit) -> Editor:
    """The editor for one pydantic field: bounded spin box, combo, check box or list edit."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return combo_editor([str(a) for a in typing.get_args(annotation)], commit)
    if annotation is bool:
        return check_editor(commit)
    if annotation is int:
        low, high, low_open, high_open = _bounds(metadata)
        low_int = -INT_LIMIT if low is None else math.floor(low) + (1 if low_open else 0)
        high_int = INT_LIMIT if high is None else math.ceil(high) - (1 if high_open else 0)
        return spin_editor(int(low_int), int(high_int), commit)
    if annotation is float:
        return float_editor(metadata, commit)
    if origin is list:
        return int_list_editor(commit)
    return text_editor(commit)
