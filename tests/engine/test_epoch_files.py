"""A run folder kept current while training: history every epoch, the model as often as the
time budget allows."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

from mogui.engine.training import files
from mogui.engine.training.files import EpochFiles


def _fit(folder, epochs: int) -> EpochFiles:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
    model.compile(optimizer="sgd", loss="mse")
    callback = EpochFiles(folder, ["y"])
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=epochs, batch_size=8, verbose=0, callbacks=[callback])
    return callback


@pytest.mark.parametrize(("spacing", "saves"), [(0.0, 4), (1e12, 1)])
def test_history_every_epoch_model_as_the_budget_allows(tmp_path, monkeypatch, spacing, saves):
    monkeypatch.setattr(files, "SAVE_SPACING", spacing)
    callback = _fit(tmp_path, epochs=4)
    assert callback.saves == saves  # the first epoch always saves
    rows = list(csv.DictReader((tmp_path / "history.csv").read_text().splitlines()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.count_params() == 4
