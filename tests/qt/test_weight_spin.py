"""Loss weight boxes keep small weights whole and step by their own size."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mogui.qt.weight_spin import WeightSpinBox

pytestmark = pytest.mark.gui


def test_a_small_weight_is_shown_and_kept_whole(qtbot):
    spin = WeightSpinBox()
    qtbot.addWidget(spin)
    spin.setValue(0.00127)
    assert spin.text() == "0.00127" and spin.value() == 0.00127
    spin.stepUp()  # a tenth of its size, not 0.1
    assert spin.value() == pytest.approx(0.00137)
    spin.setValue(2.0)
    spin.stepDown()
    assert spin.value() == pytest.approx(1.9)


def test_typed_weights_in_any_notation(qtbot):
    spin = WeightSpinBox()
    qtbot.addWidget(spin)
    spin.show()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "2.5e-4")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == pytest.approx(0.00025)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "-3")  # a negative weight cannot be typed
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() >= 0


def test_settings_show_their_digits_not_six_decimals(qtbot):
    from mogui.qt.form_editors import float_editor

    editor = float_editor([], lambda _value: None)
    qtbot.addWidget(editor.widget)
    for value, text in ((0.001, "0.001"), (0.2, "0.2"), (0.0, "0"), (1.5e-5, "1.5e-05")):
        editor.set_value(value)
        assert editor.widget.text() == text and editor.widget.value() == value
