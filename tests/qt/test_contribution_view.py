"""The weighted-contribution view: raw loss × weight, its share of the sum, per epoch stacked
bars in the head colours, live from batches; 40 heads fit."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QLineEdit

from mogui.core.events import BatchEnded, EpochEnded, LossWeightsChanged
from mogui.core.head_palette import head_colours
from mogui.qt.contribution_view import (
    RAW,
    SHARE,
    WEIGHT,
    WEIGHTED,
    ContributionView,
    contributions,
    format_share,
    imbalance,
)
from mogui.qt.loss_heatmap import VALIDATION

pytestmark = pytest.mark.gui

HEADS = ("box", "kind", "size")
#: Epoch 1: box's loss is 10⁴ × kind's; epoch 2: box's weight was lowered to 1e-4.
EPOCHS = [
    {"box_loss": 2000.0, "kind_loss": 0.2, "size_loss": 1.0,
     "weight_box": 1.0, "weight_kind": 1.0, "weight_size": 0.5,
     "val_box_loss": 4000.0, "val_kind_loss": 0.4, "val_size_loss": 3.0},
    {"box_loss": 1000.0, "kind_loss": 0.1, "size_loss": 0.5,
     "weight_box": 1e-4, "weight_kind": 1.0, "weight_size": 0.5,
     "val_box_loss": 1000.0, "val_kind_loss": 0.3, "val_size_loss": 0.5},
]


@pytest.fixture
def view(qtbot):
    widget = ContributionView()
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    widget.reset(HEADS, 3, head_colours(HEADS), {"box": 1.0, "kind": 1.0, "size": 1.0})
    return widget


def test_contributions_by_hand():
    rows = contributions(EPOCHS[0], HEADS, {})
    # weighted: 2000 × 1, 0.2 × 1, 1 × 0.5; total 2000.7
    assert [r.weighted for r in rows] == pytest.approx([2000.0, 0.2, 0.5])
    assert [r.share for r in rows] == pytest.approx([2000 / 2000.7, 0.2 / 2000.7, 0.5 / 2000.7])
    assert [r.weight for r in rows] == [1.0, 1.0, 0.5]
    found = imbalance(rows)
    assert found is not None and found[0] == pytest.approx(1e4) and found[1:] == ("box", "kind")
    # Validation losses are weighted by the same weights: 4000, 0.4, 1.5 of 4001.9.
    val = contributions(EPOCHS[0], HEADS, {}, VALIDATION)
    assert [r.share for r in val] == pytest.approx([4000 / 4001.9, 0.4 / 4001.9, 1.5 / 4001.9])


def test_without_logged_weights_the_projects_weights_apply():
    logs = {"box_loss": 2.0, "kind_loss": 3.0}
    rows = contributions(logs, ("box", "kind", "size"), {"box": 0.5, "kind": 2.0})
    assert [(r.raw, r.weight, r.weighted) for r in rows] == [
        (2.0, 0.5, 1.0), (3.0, 2.0, 6.0), (None, 1.0, None)]
    assert [r.share for r in rows] == pytest.approx([1 / 7, 6 / 7, None])
    nan = contributions({"box_loss": math.nan}, ("box",), {})
    assert nan[0].raw is None and nan[0].share is None
    assert format_share(0.5) == "50.0 %" and format_share(2e-5) == "0.002 %"
    assert format_share(None) == "–"


def test_the_table_and_bars_show_each_epoch(view):
    view.add_epoch(EpochEnded(0, EPOCHS[0], 1.0))
    assert view.cell_text("box", RAW) == "2000" and view.cell_text("size", WEIGHT) == "0.5"
    assert view.cell_text("size", WEIGHTED) == "0.5"
    assert view.cell_text("box", SHARE) == "100.0 %"  # 99.97 %
    assert view.cell_text("kind", SHARE) == "0.01 %"  # 0.2 / 2000.7
    assert "1e+04" in view.imbalance_label.text() and "box ÷ kind" in view.imbalance_label.text()
    assert "decides most of the gradient" in view.imbalance_label.text()
    assert view.bar_heights("box") == pytest.approx([100 * 2000 / 2000.7])
    assert view.bar_heights("kind") == pytest.approx([100 * 0.2 / 2000.7])
    view.add_epoch(EpochEnded(1, EPOCHS[1], 2.0))
    # Epoch 2: 1000 × 1e-4 = 0.1, 0.1, 0.25 of 0.45.
    assert view.cell_text("box", WEIGHTED) == "0.1"
    assert view.cell_text("size", SHARE) == "55.6 %"
    assert view.shares()[:, 1] == pytest.approx([0.1 / 0.45, 0.1 / 0.45, 0.25 / 0.45])
    assert view.bar_heights("size") == pytest.approx([100 * 0.5 / 2000.7, 100 * 0.25 / 0.45])
    assert "2.5 (size ÷ box)" in view.imbalance_label.text()
    assert "decides" not in view.imbalance_label.text()
    assert view.status_label.text() == "Epoch 2: training losses"
    view.set_source(VALIDATION)
    # Validation of epoch 2: 1000 × 1e-4 = 0.1, 0.3, 0.25 of 0.65.
    assert view.cell_text("kind", SHARE) == "46.2 %"
    assert view.status_label.text() == "Epoch 2: validation losses"


def test_bars_stack_in_training_order_and_hidden_heads_leave_a_gap(view):
    view.add_epoch(EpochEnded(0, EPOCHS[1], 1.0))
    assert view.bar_bottoms("box") == [0.0]
    assert view.bar_bottoms("kind") == pytest.approx(view.bar_heights("box"))
    view.set_shown_heads(["box", "size"])
    assert view.bar_heights("kind") == []
    assert view.bar_bottoms("size") == pytest.approx(view.bar_heights("box"))
    assert view.cell_text("kind", SHARE) == "22.2 %"  # shares stay shares of every head


def test_batches_update_the_table_live(view):
    view.add_epoch(EpochEnded(0, EPOCHS[0], 1.0))
    running = {"box_loss": 1.0, "kind_loss": 1.0, "size_loss": 4.0}
    view.add_batches([BatchEnded(1, 0, 4, {"box_loss": 9.0}, 10.0, 1.0),
                      BatchEnded(1, 1, 4, running, 10.0, 1.0),
                      BatchEnded(1, 2, 4, {}, 10.0, 1.0)])  # logs not read for this one
    assert view.status_label.text().startswith("Epoch 2 so far")
    # No weights logged in this batch: the project's (all 1) apply; 1 + 1 + 4 = 6.
    assert view.cell_text("size", SHARE) == "66.7 %"
    assert len(view.bar_heights("box")) == 1  # bars are per complete epoch


def test_a_weight_change_gets_a_marker(view):
    view.mark_change(LossWeightsChanged(1, 2, {"box": 0.1}), 4)
    assert view.marker_positions() == pytest.approx([1 + 0.5 + 2 / 4])


def test_forty_heads_scroll_and_filter_without_growing(qtbot):
    few, many = ContributionView(), ContributionView()
    for widget in (few, many):
        qtbot.addWidget(widget)
    names = [f"head_with_a_long_name_{i}" for i in range(40)]
    few.reset(names[:2], 5, head_colours(names[:2]), {})
    many.reset(names, 5, head_colours(names), {})
    many.add_epoch(EpochEnded(0, {f"{n}_loss": float(i + 1) for i, n in enumerate(names)}, 1.0))
    assert many.minimumSizeHint().width() == few.minimumSizeHint().width()
    assert many.sizeHint().width() == few.sizeHint().width()
    assert many.minimumSizeHint().height() < 400
    assert many.shares()[:, 0].sum() == pytest.approx(1.0)
    many.findChild(QLineEdit, "contributionFilter").setText("name_3")
    assert many.proxy.rowCount() == 11  # 3, 30–39


def test_a_hidden_view_catches_up_when_shown(view):
    view.hide()
    view.add_epoch(EpochEnded(0, EPOCHS[0], 1.0))
    view.add_batches([BatchEnded(1, 0, 4, {"box_loss": 1.0, "kind_loss": 3.0}, 10.0, 1.0)])
    assert view.bar_heights("box") == []  # not drawn while hidden
    view.show()
    assert view.cell_text("kind", SHARE) == "75.0 %"  # the running means of epoch 2 so far
    assert view.bar_heights("box") == pytest.approx([100 * 2000 / 2000.7])
