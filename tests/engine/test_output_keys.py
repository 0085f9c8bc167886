"""KERAS_NOTES case 6: outputs keyed by names that differ from their layers' names."""

from __future__ import annotations

import keras
import numpy as np

from mogui.engine.losses import compile_model
from tests.engine.loss_models import FEATURES, head, regression_target, tiny_project


def _model_with_renamed_outputs(project) -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((FEATURES,), name="x")
    outputs = {h.name: keras.layers.Dense(h.units, name=f"dense_for_{i}")(inp)
               for i, h in enumerate(project.heads)}
    return keras.Model({"x": inp}, outputs)


def test_losses_and_logs_follow_the_output_keys_not_the_layer_names():
    project = tiny_project([head("z_box", units=2, weight=1.0), head("a_cls", units=2,
                                                                    weight=0.0)])
    model = compile_model(_model_with_renamed_outputs(project), project)
    assert sorted(model.output_names) == ["dense_for_0", "dense_for_1"]  # not the keys
    x = np.random.default_rng(0).normal(size=(16, FEATURES)).astype("float32")
    y = {"z_box": regression_target(16, 2, 1.0), "a_cls": regression_target(16, 2, 100.0, 2)}
    logs = model.evaluate({"x": x}, y, batch_size=16, return_dict=True, verbose=0)
    assert set(logs) >= {"loss", "z_box_loss", "a_cls_loss"}
    pred = model.predict({"x": x}, verbose=0)
    assert np.isclose(logs["z_box_loss"], np.mean((y["z_box"] - pred["z_box"]) ** 2), rtol=1e-5)
    assert np.isclose(logs["loss"], logs["z_box_loss"], rtol=1e-6)  # a_cls weighs 0
    assert logs["a_cls_loss"] > 1000.0
