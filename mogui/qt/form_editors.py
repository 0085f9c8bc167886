"""Typed editor widgets for the property form, built from pydantic field information.

Each editor calls ``commit(value)`` once per finished edit (Enter, focus out, a pick from a
list), never per keystroke, so one edit is one undo step. Number boxes take any number typed:
the project's rules (:func:`mogui.core.validation.field_problems`) decide, and a refused value
stays in the box, marked, with the reason under it, while the project keeps its last good one.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mogui.qt.weight_spin import SignificantSpinBox

Commit = Callable[[Any], None]
INT_LIMIT = 2**31 - 1
#: The range of a number box: wide, so that a value out of a field's range can be typed and
#: refused with a message rather than clamped without a word.
FLOAT_LIMIT = 1e9
ERROR_COLOUR = "#c62828"
#: The characters a choice box shows at least.
COMBO_MIN_CHARS = 10
_UNSET = object()


class Editor:
    """A widget, how to show a value in it, and a message label for what is wrong with it.

    ``local_error`` is why the entry in the widget was not applied (unparsable or refused);
    the entry stays, marked, until it is applied or the project's value changes.
    """

    def __init__(self, widget: QWidget, set_value: Callable[[Any], None]) -> None:
        self.widget = widget
        self._set_value = set_value
        self.local_error = ""
        self.shown: Any = _UNSET
        self.error_label = QLabel()
        # Messages are plain text: "val_<head>_loss" must not be read as an HTML tag.
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error_label.hide()
        self._help: str | None = None
        self.on_local_error: Callable[[str], None] = self.mark

    def set_value(self, value: Any) -> None:
        self.widget.blockSignals(True)
        try:
            self._set_value(value)
        finally:
            self.widget.blockSignals(False)

    def show_value(self, value: Any) -> None:
        """Show the project's ``value``; a refused entry stays while the project keeps the
        value it had then."""
        if self.local_error and value == self.shown:
            return
        self.local_error = ""
        self.shown = value
        self.set_value(value)

    def report(self, message: str) -> None:
        """Why the entry was not applied (``""``: it was)."""
        self.local_error = message
        self.on_local_error(message)

    def mark(self, message: str) -> None:
        """Show ``message`` under the field and mark the field (``""`` clears both)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        widget = self.widget
        if bool(message) != bool(widget.property("invalid")):
            if message:
                self._help = widget.toolTip()
            # a spin box keeps its arrows: the text field inside it gets the border
            line = widget.findChild(QLineEdit) if isinstance(widget, QAbstractSpinBox) else \
                widget if isinstance(widget, QLineEdit) else None
            if line is not None:
                line.setStyleSheet(f"border: 1px solid {ERROR_COLOUR};" if message else "")
        widget.setProperty("invalid", bool(message))
        widget.setToolTip(message or self._help or "")


def with_message(widget: QWidget, name: str) -> tuple[Editor, QWidget]:
    """``widget`` with a message line under it (named ``<name>Error``): the editor that marks
    it, and the widget to put in a form row."""
    editor = Editor(widget, lambda _value: None)
    editor.error_label.setObjectName(f"{name}Error")
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(widget)
    box.addWidget(editor.error_label)
    return editor, holder


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


def compact(spin: QAbstractSpinBox, sample: str = "-000000") -> None:
    """Let a number box with a wide range be as narrow as ``sample`` needs: Qt would size it
    for the longest number of its range, which widens forms and windows."""
    spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance(sample) + 48)


def number_box(name: str, decimals: int = 0) -> QSpinBox | QDoubleSpinBox:
    """A compact box that takes any number (whole unless ``decimals``); the project's rules
    judge it, rather than the box clamping it."""
    spin: QSpinBox | QDoubleSpinBox
    if decimals:
        spin = QDoubleSpinBox(objectName=name, decimals=decimals)
        spin.setRange(-FLOAT_LIMIT, FLOAT_LIMIT)
    else:
        spin = QSpinBox(objectName=name)
        spin.setRange(-INT_LIMIT, INT_LIMIT)
    compact(spin, "-0.000000" if decimals else "-000000")
    return spin


def spin_editor(commit: Commit, low: int = -INT_LIMIT, high: int = INT_LIMIT) -> Editor:
    """A whole-number box; by default any number can be typed (the project's rules judge it)."""
    spin = QSpinBox()
    spin.setRange(low, high)
    compact(spin)
    spin.setKeyboardTracking(False)
    spin.valueChanged.connect(commit)
    return Editor(spin, lambda v: spin.setValue(int(v)))


def float_editor(metadata: Sequence[Any], commit: Commit) -> Editor:
    """A number box; steps of 0.01 for fields bounded by 1 (rates, fractions), else 0.1."""
    _low, high, _low_open, _high_open = _bounds(metadata)
    spin = SignificantSpinBox(-FLOAT_LIMIT, FLOAT_LIMIT)
    compact(spin, "-0.000000")
    spin.setSingleStep(0.01 if high is not None and high <= 1.0 else 0.1)
    spin.valueChanged.connect(commit)
    return Editor(spin, lambda v: spin.setValue(float(v)))


def combo_editor(choices: Sequence[str], commit: Commit) -> Editor:
    combo = QComboBox()
    combo.addItems(list(choices))
    # As narrow as the form (long choices are cut in the box, shown whole in its list): a
    # box as wide as its longest choice would widen the form past its panel.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_MIN_CHARS)
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


def _parse_dims(text: str) -> list[int | None]:
    """Sizes of an input's axes: numbers, or ``None`` for a size that may vary; a blank
    field is one axis of any length (a sequence, as ``keras.Input(shape=(None,))``)."""
    if not text.strip():
        return [None]
    dims: list[int | None] = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            raise ValueError("has an empty size between commas; write None for a size that "
                             "may vary, e.g. None, 8")
        if part.lower() == "none":
            dims.append(None)
            continue
        try:
            dims.append(int(part))
        except ValueError:
            raise ValueError("must be whole numbers, or None for a size that may vary, "
                             "separated by commas, e.g. 64, 64, 1 or None, 8") from None
    return dims


def _parse_names(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def int_list_editor(commit: Commit, hint: str = "e.g. 64, 64, 1") -> Editor:
    return _list_editor(_parse_ints, commit, hint)


def shape_editor(commit: Commit) -> Editor:
    """An input's shape: sizes separated by commas; ``None`` or a blank for any size."""
    return _list_editor(_parse_dims, commit, "e.g. 64, 64, 1 — None or blank: any length")


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
        return spin_editor(commit)
    if annotation is float:
        return float_editor(metadata, commit)
    if origin is list:
        return int_list_editor(commit)
    return text_editor(commit)
