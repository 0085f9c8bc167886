"""Joint mode: one user function sees every head at once and is exactly what trains."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from mogui.core.errors import CustomCodeError
from mogui.engine.data.targets import prepare_targets
from mogui.engine.losses import compile_model
from mogui.engine.losses.dry_run import dry_run
from mogui.engine.losses.joint import JointLossModel
from tests.engine.loss_models import (
    class_labels,
    hand_model,
    head,
    regression_target,
    tiny_data,
    tiny_project,
)

N = 16

TERMS_SOURCE = '''
seen = []

def loss(y_true, y_pred):
    seen.append(sorted(y_true))
    box = ops.mean(ops.square(y_true["z_box"] - y_pred["z_box"]))
    labels = ops.reshape(y_true["a_cls"], (-1,))
    ce = keras.losses.sparse_categorical_crossentropy(labels, y_pred["a_cls"])
    return {"z_box": box, "a_cls": ops.mean(ce)}
'''


def _joint_setup(source=TERMS_SOURCE, term_weights=None):
    project = tiny_project([head("z_box"), head("a_cls", "multiclass", 3)], loss_mode="joint",
                           joint_source=source, term_weights=term_weights)
    targets = {"z_box": regression_target(N, 2, 1.0), "a_cls": class_labels(N, 3)}
    data = tiny_data(targets, n=N)
    model = compile_model(hand_model(project), project)
    return project, data, prepare_targets(project, data.y), model


def _hand_terms(y, pred):
    box = float(np.mean((y["z_box"] - pred["z_box"]) ** 2))
    probs = pred["a_cls"][np.arange(len(pred["a_cls"])), y["a_cls"][:, 0]]
    return box, float(np.mean(-np.log(probs)))


def test_function_gets_every_head_in_one_call_per_batch():
    """Case 4: counted eagerly, in the dry run and in an eager fit."""
    project, data, y, model = _joint_setup()
    assert isinstance(model, JointLossModel)
    seen = model.loss_fn.__globals__["seen"]
    report = dry_run(project, data, batch_size=8, model=model)
    assert report.calls == 1
    assert seen == [["a_cls", "z_box"]]
    model.run_eagerly = True
    model.fit(data.x, y, batch_size=8, epochs=1, verbose=0)
    assert seen == [["a_cls", "z_box"]] * 3


def test_evaluate_equals_hand_computed_weighted_terms():
    """Case 4: evaluate == sum(term_weight * term), terms logged unweighted."""
    project, data, y, model = _joint_setup(term_weights={"a_cls": 2.5})
    pred = model.predict(data.x, verbose=0)
    box, ce = _hand_terms(y, pred)
    logs = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    assert logs["z_box_loss"] == pytest.approx(box, rel=1e-4)
    assert logs["a_cls_loss"] == pytest.approx(ce, rel=1e-4)
    assert logs["loss"] == pytest.approx(box + 2.5 * ce, rel=1e-4)


def test_coupling_term_gives_gradients_to_both_heads():
    source = ("def loss(y_true, y_pred):\n"
              "    return ops.mean(ops.square(y_pred['a'] - y_pred['b'] - y_true['a']))\n")
    project = tiny_project([head("a"), head("b")], loss_mode="joint", joint_source=source)
    data = tiny_data({"a": regression_target(N, 2, 1.0), "b": regression_target(N, 2, 1.0)})
    model = compile_model(hand_model(project), project)
    y = prepare_targets(project, data.y)
    with tf.GradientTape() as tape:
        pred = model(data.x, training=True)
        total = model.compute_loss(data.x, y, pred, training=True)
    kernels = [model.get_layer("a").kernel, model.get_layer("b").kernel]
    grads = tape.gradient(total, kernels)
    assert all(float(np.abs(g).sum()) > 0 for g in grads)


def test_scalar_return_logs_only_the_total_and_regularization_is_added():
    source = ("def loss(y_true, y_pred):\n"
              "    return ops.mean(ops.square(y_pred['a'] - y_true['a']))\n")
    project = tiny_project([head("a"), head("b")], loss_mode="joint", joint_source=source)
    keras.utils.set_random_seed(0)
    inp = keras.Input((3,), name="x")
    outputs = {"a": keras.layers.Dense(2, name="a",
                                       kernel_regularizer=keras.regularizers.L2(0.5))(inp),
               "b": keras.layers.Dense(2, name="b")(inp)}
    model = compile_model(keras.Model({"x": inp}, outputs), project)
    data = tiny_data({"a": regression_target(N, 2, 1.0), "b": regression_target(N, 2, 1.0)})
    y = prepare_targets(project, data.y)
    pred = model.predict(data.x, verbose=0)
    logs = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    regularization = 0.5 * float(np.sum(model.get_layer("a").kernel.numpy() ** 2))
    assert set(logs) == {"loss"}
    mse = float(np.mean((pred["a"] - y["a"]) ** 2))
    assert logs["loss"] == pytest.approx(mse + regularization, rel=1e-4)


def test_sample_weight_dict_weighs_per_sample_terms():
    """A per-sample term is averaged over the rows whose sample weight is non-zero."""
    source = ("def loss(y_true, y_pred):\n"
              "    return {'a': ops.mean(ops.square(y_pred['a'] - y_true['a']), axis=-1)}\n")
    project = tiny_project([head("a")], loss_mode="joint", joint_source=source)
    data = tiny_data({"a": regression_target(N, 2, 1.0)})
    model = compile_model(hand_model(project), project)
    y = prepare_targets(project, data.y)
    weights = np.zeros(N, "float32")
    weights[:4] = 1.0
    pred = model.predict(data.x, verbose=0)
    per_sample = np.mean((pred["a"] - y["a"]) ** 2, axis=-1)
    logs = model.evaluate(data.x, y, sample_weight={"a": weights}, batch_size=N, verbose=0,
                          return_dict=True)
    labelled_mean = float(np.sum(per_sample * weights) / np.sum(weights))
    assert logs["a_loss"] == pytest.approx(labelled_mean, rel=1e-4)


def test_function_taking_mask_gets_each_heads_labelled_rows():
    source = ("def loss(y_true, y_pred, mask):\n"
              "    err = ops.mean(ops.square(y_pred['a'] - y_true['a']), axis=-1)\n"
              "    return ops.sum(err * mask['a']) / ops.sum(mask['a'])\n")
    project = tiny_project([head("a")], loss_mode="joint", joint_source=source)
    data = tiny_data({"a": regression_target(N, 2, 1.0)})
    model = compile_model(hand_model(project), project)
    y = prepare_targets(project, data.y)
    weights = np.zeros(N, "float32")
    weights[5:9] = 1.0
    per_sample = np.mean((model.predict(data.x, verbose=0)["a"] - y["a"]) ** 2, axis=-1)
    masked = model.evaluate(data.x, y, sample_weight={"a": weights}, batch_size=N, verbose=0,
                            return_dict=True)
    unmasked = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    assert masked["loss"] == pytest.approx(float(per_sample[5:9].mean()), rel=1e-4)
    assert unmasked["loss"] == pytest.approx(float(per_sample.mean()), rel=1e-4)


def test_unknown_term_names_list_the_heads():
    source = "def loss(y_true, y_pred):\n    return {'box': ops.mean(y_pred['z_box'])}\n"
    project, data, y, model = _joint_setup(source)
    with pytest.raises(CustomCodeError, match=r"\['box'\].*\['a_cls', 'z_box'\]") as info:
        model.fit(data.x, y, epochs=1, verbose=0)
    assert info.value.lineno == 2


def test_saved_joint_model_reloads_and_resumes_with_the_same_keys(tmp_path):
    """Cases 8 and 9 for joint mode."""
    project, data, y, model = _joint_setup(term_weights={"a_cls": 1.5})
    first = model.fit(data.x, y, batch_size=8, epochs=1, verbose=0, validation_data=(data.x, y))
    assert {"loss", "z_box_loss", "a_cls_loss", "val_loss", "val_z_box_loss",
            "val_a_cls_loss"} <= set(first.history)
    path = tmp_path / "joint.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, JointLossModel)
    assert reloaded.term_weights == {"a_cls": 1.5}
    assert reloaded.loss_source == TERMS_SOURCE
    expected = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    got = reloaded.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-5)
    resumed = reloaded.fit(data.x, y, batch_size=8, epochs=1, verbose=0,
                           validation_data=(data.x, y))
    assert set(resumed.history) == set(first.history)


def test_demo_joint_project_trains(joint_project):
    from mogui.engine.data import load_data
    from mogui.engine.losses import make_training_model

    data = load_data(joint_project).take(16)
    model = make_training_model(joint_project)
    y = prepare_targets(joint_project, data.y)
    history = model.fit(data.x, y, batch_size=16, epochs=1, verbose=0)
    assert {"loss", "bbox_loss", "classification_loss"} <= set(history.history)
    assert np.isfinite(history.history["loss"][0])
