"""The heads' losses and weights leave a compiled step as one vector per tracker, whatever the
number of heads, and reach callbacks, ``fit``'s history and ``evaluate`` as one value per head."""

from __future__ import annotations

import gc

import keras
import numpy as np
import tensorflow as tf

from mogui.engine.losses import compile_model
from mogui.engine.training.runner import frozen_heap
from tests.engine.loss_models import FEATURES, hand_model, head, regression_target, tiny_project


def _project(heads: int):  # noqa: ANN202
    return tiny_project([head(f"h{i}", units=2, weight=0.5 + i) for i in range(heads)],
                        batch_size=8)


def _data(project, n: int = 16):  # noqa: ANN001, ANN202
    x = np.random.default_rng(0).normal(size=(n, FEATURES)).astype("float32")
    y = {h.name: regression_target(n, 2, 1.0 + i, seed=i) for i, h in enumerate(project.heads)}
    return x, y


def _compiled_results(model) -> dict:  # noqa: ANN001
    """What ``get_metrics_result`` gives inside a compiled function (a training step)."""
    return tf.function(model.get_metrics_result)()


def test_a_compiled_step_returns_as_many_tensors_for_40_heads_as_for_2():
    counts = {}
    for heads in (2, 40):
        project = _project(heads)
        model = compile_model(hand_model(project), project)
        x, y = _data(project)
        model.evaluate({"x": x}, y, batch_size=8, verbose=0)  # builds the metrics
        results = _compiled_results(model)
        counts[heads] = len(results)
        vectors = [v for k, v in results.items() if k.endswith(":vector")]
        assert [tuple(v.shape) for v in vectors] == [(heads,), (heads,)]
    assert counts[2] == counts[40] == 3  # loss, the heads' losses, the heads' weights


def test_batch_logs_hold_each_heads_loss_and_weight_as_computed_by_hand():
    project = _project(3)
    model = compile_model(hand_model(project), project)
    x, y = _data(project)
    before = model.predict({"x": x[:8]}, verbose=0)  # the first step's forward pass

    class Record(keras.callbacks.Callback):
        batches: list[dict] = []

        def on_train_batch_end(self, batch, logs=None):  # noqa: ANN001
            self.batches.append(dict(logs))

    history = model.fit({"x": x}, y, batch_size=8, epochs=1, shuffle=False, verbose=0,
                        callbacks=[Record()])
    first = Record.batches[0]
    for i, spec in enumerate(project.heads):
        mse = float(np.mean((y[spec.name][:8] - before[spec.name]) ** 2))
        assert np.isclose(first[f"{spec.name}_loss"], mse, rtol=1e-5)
        assert first[f"weight_{spec.name}"] == 0.5 + i
    total = sum((0.5 + i) * first[f"h{i}_loss"] for i in range(3))
    assert np.isclose(first["loss"], total, rtol=1e-5)
    assert not any(":vector" in key for key in first)
    assert set(history.history) == {"loss", "h0_loss", "h1_loss", "h2_loss",
                                    "weight_h0", "weight_h1", "weight_h2"}
    logs = model.evaluate({"x": x}, y, batch_size=8, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "h0_loss", "h1_loss", "h2_loss"}
    after = model.predict({"x": x}, verbose=0)
    for spec in project.heads:
        mse = float(np.mean((y[spec.name] - after[spec.name]) ** 2))
        assert np.isclose(logs[f"{spec.name}_loss"], mse, rtol=1e-5)


def test_the_heap_is_frozen_while_training_and_handed_back_after():
    was_frozen = gc.get_freeze_count() > 0  # e.g. by a test of the app, which freezes it
    gc.unfreeze()
    try:
        with frozen_heap():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
    finally:
        if was_frozen:
            gc.freeze()


def test_a_heap_someone_else_froze_stays_frozen():
    was_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()  # frozen objects may still be freed: it only goes down
        made_after = [[] for _ in range(1000)]  # frozen only if the heap were frozen again
        with frozen_heap():
            pass
        assert 0 < gc.get_freeze_count() <= frozen and len(made_after) == 1000
    finally:
        if not was_frozen:
            gc.unfreeze()
