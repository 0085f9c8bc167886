"""The dry run reports what each loss received and returned, and equals Keras' own loss."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import CustomCodeError
from mogui.engine.data.targets import prepare_targets
from mogui.engine.losses import compile_model
from mogui.engine.losses.dry_run import TensorInfo, dry_run, loss_contract
from tests.engine.loss_models import (
    class_labels,
    hand_model,
    head,
    regression_target,
    tiny_data,
    tiny_project,
)

N = 16


def _per_output(source=None):
    box = head("box", weight=2.0) if source is None else head("box", kind="custom",
                                                              source=source, weight=2.0)
    project = tiny_project([box, head("cls", "multiclass", 3, weight=0.5),
                            head("idle", enabled=False)])
    data = tiny_data({"box": regression_target(N, 2, 1.0), "cls": class_labels(N, 3)}, n=N)
    return project, data


def test_per_output_report_matches_keras_evaluate():
    project, data = _per_output()
    model = hand_model(project)
    report = dry_run(project, data, batch_size=8, model=model)
    assert report.mode == "per_output" and report.batch_size == 8 and report.calls == 2
    box, cls = report.heads
    assert (box.head, box.loss, box.weight) == ("box", "mse", 2.0)
    assert box.y_true == TensorInfo((8, 2), "float32")
    assert box.y_pred == TensorInfo((8, 2), "float32")
    assert cls.y_true == TensorInfo((8, 1), "float32")
    assert box.returned == cls.returned == TensorInfo((), "float32")  # built-in: a batch mean
    assert cls.weighted == pytest.approx(0.5 * cls.value)
    assert report.untrained == ["idle"]
    compiled = compile_model(model, project)
    x = {"x": data.x["x"][:8]}
    y = prepare_targets(project, {k: v[:8] for k, v in data.y.items()})
    logs = compiled.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert report.total == pytest.approx(logs["loss"], rel=1e-5)
    assert box.value == pytest.approx(logs["box_loss"], rel=1e-5)
    assert any("total loss" in line for line in report.lines())


def test_custom_per_sample_return_is_reported():
    source = "def loss(y_true, y_pred):\n    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n"
    project, data = _per_output(source)
    report = dry_run(project, data, batch_size=4, model=hand_model(project))
    box = report.heads[0]
    assert box.loss == "custom"
    assert box.returned == TensorInfo((4,), "float32")
    assert "Keras averages" in box.note


@pytest.mark.parametrize(("source", "line", "pattern"), [
    ("def loss(y_true, y_pred):\n    d = y_true - y_pred\n    return ops.mean(d, axis=0)\n",
     3, r"returned shape \(2,\)"),
    ("def loss(y_true, y_pred):\n    return ops.mean(ops.log(y_pred - 100.0))\n",
     2, r"NaN for head 'box'.*clip"),
    ("def loss(y_true, y_pred):\n    x = 1\n    return ops.mean(y_pred) / x[0]\n",
     3, "TypeError"),
])
def test_custom_loss_problems_carry_the_user_line(source, line, pattern):
    project, data = _per_output(source)
    with pytest.raises(CustomCodeError, match=pattern) as info:
        dry_run(project, data, batch_size=4, model=hand_model(project))
    assert info.value.lineno == line
    assert info.value.label == "box loss"


JOINT = '''
def loss(y_true, y_pred):
    box = ops.mean(ops.square(y_true["box"] - y_pred["box"]), axis=-1)
    return {"box": box, "cls": ops.mean(y_pred["cls"])}
'''


def test_joint_report_shows_what_the_function_received_and_returned():
    project = tiny_project([head("box"), head("cls", "multiclass", 3)], loss_mode="joint",
                           joint_source=JOINT, term_weights={"cls": 3.0})
    data = tiny_data({"box": regression_target(N, 2, 1.0), "cls": class_labels(N, 3)}, n=N)
    model = compile_model(hand_model(project), project)
    report = dry_run(project, data, batch_size=N, model=model)
    assert report.mode == "joint" and report.calls == 1
    assert "['box', 'cls']" in report.returned
    by_head = {h.head: h for h in report.heads}
    assert by_head["cls"].y_true == TensorInfo((N, 1), "int32")
    assert by_head["box"].returned == TensorInfo((N,), "float32")
    assert by_head["cls"].weighted == pytest.approx(3.0 * by_head["cls"].value)
    y = prepare_targets(project, data.y)
    logs = model.evaluate(data.x, y, batch_size=N, verbose=0, return_dict=True)
    assert report.total == pytest.approx(logs["loss"], rel=1e-5)
    assert by_head["box"].value == pytest.approx(logs["box_loss"], rel=1e-5)


def test_joint_nan_term_names_the_head():
    source = ("def loss(y_true, y_pred):\n"
              "    bad = ops.sqrt(ops.mean(y_pred['cls']) - 5.0)\n"
              "    return {'box': ops.mean(y_pred['box']), 'cls': bad}\n")
    project = tiny_project([head("box"), head("cls", "multiclass", 3)], loss_mode="joint",
                           joint_source=source)
    data = tiny_data({"box": regression_target(N, 2, 1.0), "cls": class_labels(N, 3)}, n=N)
    with pytest.raises(CustomCodeError, match="term for head 'cls' is NaN") as info:
        dry_run(project, data, model=hand_model(project))
    assert info.value.lineno == 3


def test_demo_dry_run_and_contract_with_the_built_model(demo_project):
    from mogui.engine.data import load_data

    report = dry_run(demo_project, load_data(demo_project), batch_size=4)
    assert [h.head for h in report.heads] == ["bbox", "classification"]
    assert np.isfinite(report.total)
    contracts = loss_contract(demo_project)
    assert [c.description for c in contracts] == [
        "bbox: mse(y_true float32 (batch, 4), y_pred float32 (batch, 4)) x 1",
        "classification: sparse_categorical_crossentropy(y_true float32 (batch, 1), "
        "y_pred float32 (batch, 6)) x 1.5",
    ]


def test_joint_contract_lists_every_head(joint_project):
    (contract,) = loss_contract(joint_project)
    assert contract.heads == ("bbox", "classification")
    assert contract.weight is None
    assert contract.y_true["classification"] == TensorInfo((None, 1), "int32")
    assert "called once per batch" in contract.description
    assert "classification: 1.5" in contract.description


def test_dry_run_builds_the_seeded_model_so_its_figures_repeat():
    project, data = _per_output()
    first = dry_run(project, data, batch_size=8)
    again = dry_run(project, data, batch_size=8)
    assert again.total == first.total
    project.training.seed += 1
    assert dry_run(project, data, batch_size=8).total != first.total


def test_labelled_rows_per_head_are_shown():
    project, data = _per_output()
    box = data.y["box"].copy()
    box[[0, 2, 5]] = np.nan  # three rows of the first eight have no box label
    data.y["box"] = box
    report = dry_run(project, data, batch_size=8)
    by_head = {h.head: h.labelled for h in report.heads}
    assert by_head == {"box": 5, "cls": 8}
    text = "\n".join(report.lines())
    assert "(5 of 8 rows labelled)" in text and "(8 of 8 rows labelled)" in text


def test_weight_zero_and_heads_without_labels_are_warned_about():
    project, data = _per_output()
    project.head("cls").loss.weight = 0.0
    data.y["box"] = np.full_like(data.y["box"], np.nan)
    report = dry_run(project, data, batch_size=8)
    assert len(report.warnings) == 2
    assert "'cls' has loss weight 0" in report.warnings[0]
    assert "'box' has no labelled row" in report.warnings[1]


LEAVES_CLS_OUT = ("def loss(y_true, y_pred):\n"
                  "    return {'box': ops.mean(ops.square(y_true['box'] - y_pred['box']))}\n")
SCALAR = ("def loss(y_true, y_pred):\n"
          "    return ops.mean(ops.square(y_true['box'] - y_pred['box']))\n")
BOTH = ("def loss(y_true, y_pred):\n"
        "    labels = ops.reshape(y_true['cls'], (-1,))\n"
        "    cls = keras.losses.sparse_categorical_crossentropy(labels, y_pred['cls'])\n"
        "    return {'box': ops.mean(ops.square(y_true['box'] - y_pred['box'])), 'cls': cls}\n")


@pytest.mark.parametrize(("source", "weights", "expected"), [
    (LEAVES_CLS_OUT, {"cls": 2.0}, ["does not use y_pred['cls']", "term weight for 'cls' is "
                                    "ignored"]),
    (SCALAR, {"box": 2.0}, ["does not use y_pred['cls']", "are ignored: loss() returns one "
                            "value"]),
    (BOTH, {"box": 2.0, "cls": 0.5}, []),
])
def test_joint_loss_that_leaves_a_head_untrained_or_a_weight_unused_is_warned_about(
        source, weights, expected):
    project = tiny_project([head("box"), head("cls", "multiclass", 3)], loss_mode="joint",
                           joint_source="import keras\n" + source, term_weights=weights)
    data = tiny_data({"box": regression_target(N, 2, 1.0), "cls": class_labels(N, 3)}, n=N)
    report = dry_run(project, data, batch_size=N)
    assert len(report.warnings) == len(expected), report.warnings
    for warning, words in zip(report.warnings, expected, strict=True):
        assert words in warning
    assert all(f"warning: {w}" in report.lines() for w in report.warnings)
