"""Per-batch losses: each batch's own value, not Keras' running mean over the epoch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mogui.core.events import BatchEnded, TrainingStarted
from mogui.engine.callbacks import ProgressCallback, TrainingControl


def _model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {"reg": keras.layers.Dense(2, name="reg")(hidden),
                                 "cls": keras.layers.Dense(1, activation="sigmoid",
                                                           name="cls")(hidden)})
    model.compile(keras.optimizers.SGD(0.05),
                  loss={"reg": "mse", "cls": "binary_crossentropy"},
                  loss_weights={"reg": 1.0, "cls": 0.5},
                  metrics={"reg": ["mae"], "cls": ["auc"]})
    return model


@pytest.mark.parametrize("samples", [64, 60])  # 60: the last batch is short
def test_batch_losses_equal_train_on_batch_of_the_same_batches(samples):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 6)).astype("float32")
    y = {"reg": rng.normal(size=(samples, 2)).astype("float32"),
         "cls": rng.integers(0, 2, size=(samples, 1)).astype("float32")}
    batch = 16
    events: list = []
    started = TrainingStarted("CPU", 2, -(-samples // batch), samples, 0, ("reg", "cls"))
    fitted = _model()
    stepped = _model()
    stepped.set_weights(fitted.get_weights())
    fitted.fit(x, y, batch_size=batch, epochs=2, shuffle=False, verbose=0,
               callbacks=[ProgressCallback(events.append, TrainingControl(), started=started,
                                           batch_size=batch)])
    batches = [e for e in events if isinstance(e, BatchEnded)]
    expected = []
    for _epoch in range(2):
        for start in range(0, samples, batch):
            part = slice(start, start + batch)
            expected.append(stepped.train_on_batch(
                x[part], {k: v[part] for k, v in y.items()}, return_dict=True))
    assert len(batches) == len(expected) == 2 * -(-samples // batch)
    for event, logs in zip(batches, expected, strict=True):
        assert set(event.batch_losses) == {"loss", "reg_loss", "cls_loss"}
        for key, value in event.batch_losses.items():
            assert value == pytest.approx(logs[key], rel=1e-4, abs=1e-6), (event.batch, key)
    # the running means Keras reports are still there, unchanged
    last = batches[-1]
    assert last.logs["loss"] != pytest.approx(last.batch_losses["loss"], rel=1e-3)
    assert "cls_auc" in last.logs and "cls_auc" not in last.batch_losses
