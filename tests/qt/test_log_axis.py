"""Log-scale axis labels: the powers of ten and 2 and 5 times them across a wide range, every
label across a narrow one."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.qt.curve_items import make_plot
from mogui.qt.log_axis import LogAxis

pytestmark = pytest.mark.gui


def test_a_wide_range_labels_one_two_and_five(qtbot):
    axis = LogAxis("left")
    values = list(np.log10([1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 50]))
    labels = axis.logTickStrings(values, 1.0, None)
    assert labels == ["1", "2", "", "", "5", "", "", "", "", "2·10¹", "", "5·10¹"]


def test_a_narrow_range_keeps_every_label(qtbot):
    axis = LogAxis("left")
    values = list(np.log10([2, 3, 4]))
    assert axis.logTickStrings(values, 1.0, None) == ["2", "3", "4"]


def test_plots_get_the_thinned_axis_on_both_sides(qtbot):
    plot = make_plot(None, "loss", 2)
    qtbot.addWidget(plot)
    assert isinstance(plot.getAxis("left"), LogAxis) and isinstance(plot.getAxis("right"), LogAxis)
