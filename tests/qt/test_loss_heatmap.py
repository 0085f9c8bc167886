"""The heads × epochs heatmap: each head's loss relative to its first epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mogui.core.events import EpochEnded
from mogui.qt.loss_heatmap import (
    LEAST_IMPROVED,
    TRAIN,
    VALIDATION,
    LossHeatmap,
    relative_losses,
)

pytestmark = pytest.mark.gui

EPOCHS = [  # three heads over three epochs, numbers easy to divide by hand
    {"loss": 7.0, "a_loss": 2.0, "b_loss": 4.0, "c_loss": 1.0,
     "val_a_loss": 4.0, "val_b_loss": 5.0, "val_c_loss": 2.0},
    {"loss": 4.0, "a_loss": 1.0, "b_loss": 2.0, "c_loss": 1.0,
     "val_a_loss": 2.0, "val_b_loss": 4.0, "val_c_loss": 3.0},
    {"loss": 2.0, "a_loss": 0.5, "b_loss": 1.0, "c_loss": 0.5,
     "val_a_loss": 1.0, "val_b_loss": 5.0, "val_c_loss": 1.0},
]


@pytest.fixture
def heatmap(qtbot) -> LossHeatmap:
    widget = LossHeatmap()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.reset(["a", "b", "c"], epochs=5)
    return widget


def test_relative_losses_by_hand():
    train = relative_losses(EPOCHS, ["a", "b", "c"], TRAIN)
    np.testing.assert_allclose(train, [[1.0, 0.5, 0.25], [1.0, 0.5, 0.25], [1.0, 1.0, 0.5]])
    val = relative_losses(EPOCHS, ["a", "b", "c"], VALIDATION)
    np.testing.assert_allclose(val, [[1.0, 0.5, 0.25], [1.0, 0.8, 1.0], [1.0, 1.5, 0.5]])


def test_rows_without_a_first_value_or_with_gaps():
    epochs = [{"a_loss": 0.0, "b_loss": 2.0}, {"a_loss": 1.0, "b_loss": math.nan},
              {"a_loss": 1.0, "b_loss": 1.0}]
    table = relative_losses(epochs, ["a", "b", "missing"], TRAIN)
    assert np.isnan(table[0]).all()  # a first loss of 0: nothing to compare with
    assert table[1, 0] == 1.0 and np.isnan(table[1, 1]) and table[1, 2] == 0.5
    assert np.isnan(table[2]).all()
    assert relative_losses([], ["a"], TRAIN).shape == (1, 0)


def test_widget_shows_validation_relative_to_epoch_one(heatmap: LossHeatmap):
    for epoch, logs in enumerate(EPOCHS):
        heatmap.add_epoch(EpochEnded(epoch, logs, 1.0))
    assert heatmap.source == VALIDATION
    assert heatmap.rows() == ["a", "b", "c"]
    np.testing.assert_allclose(heatmap.values(), [[1.0, 0.5, 0.25], [1.0, 0.8, 1.0],
                                                  [1.0, 1.5, 0.5]])
    image = heatmap.image.image  # x = epoch, y = head, RGBA
    assert image.shape == (3, 3, 4)
    white, better, worse = image[0, 0], image[2, 0], image[1, 2]
    assert tuple(white[:3]) == (247, 247, 247)  # as at epoch 1
    assert better[2] > better[0]  # blue: lower than at epoch 1
    assert worse[0] > worse[2]  # red: higher
    assert heatmap.describe(2, 1) == "c, epoch 2: 1.5× epoch 1 (val_c_loss 2 → 3)"
    heatmap.set_source(TRAIN)
    np.testing.assert_allclose(heatmap.values()[2], [1.0, 1.0, 0.5])


def test_least_improved_first_and_only_the_heads_shown(heatmap: LossHeatmap):
    for epoch, logs in enumerate(EPOCHS):
        heatmap.add_epoch(EpochEnded(epoch, logs, 1.0))
    heatmap.set_order(LEAST_IMPROVED)
    assert heatmap.rows() == ["b", "c", "a"]  # last values 1.0, 0.5, 0.25
    np.testing.assert_allclose(heatmap.values()[0], [1.0, 0.8, 1.0])
    heatmap.set_shown_heads(["a", "c"])
    assert heatmap.rows() == ["c", "a"]
    assert heatmap.values().shape == (2, 3)


def test_training_values_when_there_is_no_validation(heatmap: LossHeatmap):
    heatmap.add_epoch(EpochEnded(0, {"loss": 1.0, "a_loss": 2.0}, 1.0))
    assert heatmap.source == TRAIN
    heatmap.add_epoch(EpochEnded(1, {"loss": 1.0, "a_loss": 1.0}, 1.0))
    np.testing.assert_allclose(heatmap.values()[0], [1.0, 0.5])
    assert np.isnan(heatmap.values()[1]).all()


def test_hidden_heatmap_draws_when_shown(qtbot, heatmap: LossHeatmap):
    heatmap.hide()
    for epoch, logs in enumerate(EPOCHS):
        heatmap.add_epoch(EpochEnded(epoch, logs, 1.0))
    np.testing.assert_allclose(heatmap.values()[0], [1.0, 0.5, 0.25])  # known already
    assert heatmap.image.image is None  # not drawn while hidden
    heatmap.show()
    assert heatmap.image.image.shape == (3, 3, 4)
