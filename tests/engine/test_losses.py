"""Per-output losses: the loss the project configures is exactly the loss Keras trains."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mogui.core.errors import CustomCodeError
from mogui.core.project import TrainingSettings
from mogui.engine.data.targets import prepare_targets
from mogui.engine.losses import (
    CustomLoss,
    compile_model,
    make_head_loss,
    make_optimizer,
    make_training_model,
)
from tests.engine.loss_models import (
    class_labels,
    hand_model,
    head,
    regression_target,
    tiny_data,
    tiny_project,
)

N = 16


def _mse(y_true, y_pred):
    return float(np.mean((y_true - y_pred) ** 2))


def test_make_optimizer_uses_the_settings():
    optimizer = make_optimizer(TrainingSettings(optimizer="rmsprop", learning_rate=0.05))
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)


def test_crossentropy_uses_logits_only_for_linear_heads():
    project = tiny_project([
        head("p", "binary", 1),
        head("logit", "binary", 1, activation="linear"),
        head("c", "multiclass", 4, activation="linear"),
    ])
    assert make_head_loss(project.head("p")).get_config()["from_logits"] is False
    assert make_head_loss(project.head("logit")).get_config()["from_logits"] is True
    assert make_head_loss(project.head("c")).get_config()["from_logits"] is True


def test_compile_args_are_dicts_over_every_head():
    """Case 12 and 5: dicts keyed by head name; a head without loss holds None."""
    project = tiny_project([
        head("z_box", weight=2.0, metrics=["mae"]),
        head("a_cls", "multiclass", 3, weight=0.5),
        head("m_aux", enabled=False),
    ])
    model = compile_model(hand_model(project), project)
    config = model.get_compile_config()
    assert set(config["loss"]) == {"z_box", "a_cls", "m_aux"}
    assert config["loss"]["m_aux"] is None
    assert config["loss_weights"] == {"z_box": 2.0, "a_cls": 0.5, "m_aux": 1.0}
    assert set(config["weighted_metrics"]) == {"z_box", "a_cls", "m_aux"}


def _fit_first_epoch(project, targets, **fit_kwargs):
    """Fit one epoch of one full batch; logs then describe the weights before the update."""
    model = compile_model(hand_model(project), project)
    data = tiny_data(targets, n=N)
    y = prepare_targets(project, data.y)
    before = model.predict(data.x, verbose=0)
    history = model.fit(data.x, y, batch_size=N, epochs=1, verbose=0, **fit_kwargs)
    logs = {k: v[0] for k, v in history.history.items()}
    return model, data, y, before, logs


def test_each_head_logs_its_own_loss_despite_very_different_scales():
    """Case 1: same-shape heads, targets 1e-2 vs 1e3: each log equals a hand MSE."""
    project = tiny_project([head("small", weight=3.0), head("large", weight=0.5)])
    targets = {"small": regression_target(N, 2, 0.01, seed=1),
               "large": regression_target(N, 2, 1000.0, seed=2)}
    _, _, y, before, logs = _fit_first_epoch(project, targets)
    small = _mse(y["small"], before["small"])
    large = _mse(y["large"], before["large"])
    assert large > 1000 * small
    assert logs["small_loss"] == pytest.approx(small, rel=1e-4)
    assert logs["large_loss"] == pytest.approx(large, rel=1e-4)
    assert logs["loss"] == pytest.approx(3.0 * small + 0.5 * large, rel=1e-4)


def test_non_alphabetical_heads_with_zero_weight():
    """Cases 2 and 3: z_box weighs 1, a_cls 0: loss == z_box_loss, a_cls still logs."""
    project = tiny_project([head("z_box", weight=1.0),
                            head("a_cls", "multiclass", 3, weight=0.0)])
    targets = {"z_box": regression_target(N, 2, 1.0), "a_cls": class_labels(N, 3)}
    _, _, y, before, logs = _fit_first_epoch(project, targets)
    assert logs["loss"] == pytest.approx(logs["z_box_loss"], rel=1e-6)
    assert logs["z_box_loss"] == pytest.approx(_mse(y["z_box"], before["z_box"]), rel=1e-4)
    probs = before["a_cls"][np.arange(N), y["a_cls"][:, 0]]
    assert logs["a_cls_loss"] == pytest.approx(float(np.mean(-np.log(probs))), rel=1e-4)
    assert logs["a_cls_loss"] > 0.1


def test_head_without_loss_logs_no_loss_and_gets_no_gradient():
    """Case 5: the head has None in the config and no ``<head>_loss`` in the logs."""
    project = tiny_project([head("a"), head("b", weight=2.0), head("idle", enabled=False)])
    targets = {"a": regression_target(N, 2, 1.0, 1), "b": regression_target(N, 2, 1.0, 2)}
    model, _, y, before, logs = _fit_first_epoch(project, targets)
    assert set(logs) == {"loss", "a_loss", "b_loss", "weight_a", "weight_b"}
    assert (logs["weight_a"], logs["weight_b"]) == (1.0, 2.0)
    assert np.all(y["idle"] == 0)
    idle_kernel_before = hand_model(project).get_layer("idle").get_weights()[0]
    np.testing.assert_array_equal(model.get_layer("idle").get_weights()[0], idle_kernel_before)


def test_validation_data_gives_val_head_losses():
    """Case 9."""
    project = tiny_project([head("a", metrics=["mae"]), head("b", "binary", 1)])
    targets = {"a": regression_target(N, 2, 1.0),
               "b": class_labels(N, 2).astype("float32")}
    data = tiny_data(targets, n=N)
    model = compile_model(hand_model(project), project)
    y = prepare_targets(project, data.y)
    history = model.fit(data.x, y, batch_size=8, epochs=1, verbose=0,
                        validation_data=(data.x, y))
    assert {"loss", "a_loss", "b_loss", "a_mae", "val_loss", "val_a_loss", "val_b_loss",
            "val_a_mae"} <= set(history.history)


CUSTOM_SOURCE = ("def loss(y_true, y_pred):\n"
                 "    err = ops.abs(y_true - y_pred)\n"
                 "    return 2.0 * ops.mean(err, axis=-1)\n")


def test_custom_loss_trains_and_reloads_from_a_keras_file(tmp_path):
    """Case 8 (per-output): the saved file carries the source; resume keeps History keys."""
    project = tiny_project([head("a", kind="custom", source=CUSTOM_SOURCE),
                            head("b", "multiclass", 3, weight=0.5)])
    targets = {"a": regression_target(N, 2, 1.0), "b": class_labels(N, 3)}
    model, data, y, before, logs = _fit_first_epoch(project, targets)
    assert logs["a_loss"] == pytest.approx(2 * float(np.mean(np.abs(y["a"] - before["a"]))),
                                           rel=1e-4)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    loss = reloaded.loss["a"]
    assert isinstance(loss, CustomLoss) and loss.source == CUSTOM_SOURCE
    expected = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    got = reloaded.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-5)
    resumed = reloaded.fit(data.x, y, batch_size=N, epochs=1, verbose=0)
    assert set(resumed.history) == set(logs)


def test_custom_loss_runtime_error_in_fit_names_the_user_line():
    source = ("def loss(y_true, y_pred):\n"
              "    scale = 2.0\n"
              "    return ops.mean(y_true - y_pred) * undefined_scale\n")
    project = tiny_project([head("a", kind="custom", source=source)])
    data = tiny_data({"a": regression_target(N, 2, 1.0)}, n=N)
    model = compile_model(hand_model(project), project)
    with pytest.raises(CustomCodeError) as info:
        model.fit(data.x, prepare_targets(project, data.y), epochs=1, verbose=0)
    assert info.value.lineno == 3
    assert info.value.label == "a loss"
    assert "undefined_scale" in str(info.value)


def test_custom_loss_wrong_return_shape_in_fit_names_the_return_line():
    source = ("def loss(y_true, y_pred):\n"
              "    err = ops.square(y_true - y_pred)\n"
              "    return err\n")
    project = tiny_project([head("a", kind="custom", source=source)])
    data = tiny_data({"a": regression_target(N, 2, 1.0)}, n=N)
    model = compile_model(hand_model(project), project)
    with pytest.raises(CustomCodeError, match=r"shape \(batch, 2\)") as info:
        model.fit(data.x, prepare_targets(project, data.y), epochs=1, verbose=0)
    assert info.value.lineno == 3


def test_make_training_model_builds_and_compiles_the_demo(demo_project):
    model = make_training_model(demo_project)
    assert model.compiled
    assert set(model.get_compile_config()["loss"]) == {"bbox", "classification"}


@pytest.mark.parametrize(("returned", "words"), [
    ("'abc'", r"returned text \('abc'\)"),
    ("y_pred > 0", "returned bool values"),
])
def test_custom_loss_returning_no_numbers_is_a_plain_error(returned, words):
    source = f"def loss(y_true, y_pred):\n    return {returned}\n"
    project = tiny_project([head("a", kind="custom", source=source)])
    data = tiny_data({"a": regression_target(N, 2, 1.0)}, n=N)
    model = compile_model(hand_model(project), project)
    with pytest.raises(CustomCodeError, match=words) as info:
        model.fit(data.x, prepare_targets(project, data.y), epochs=1, verbose=0)
    assert info.value.lineno == 2
