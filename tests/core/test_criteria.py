"""What early stopping and checkpoints watch: directions, defaults, problems, the project
format (old files load unchanged) and the ``--stop-on`` syntax."""

from __future__ import annotations

import json

import pytest

from mogui.core.criteria import (
    criterion_spec,
    default_metrics,
    describe_setting,
    metric_direction,
    parse_criterion,
)
from mogui.core.io import example_path, load_example
from mogui.core.project import CriterionMetric, EarlyStopping, Project
from mogui.core.validation import check_project, field_problems


@pytest.mark.parametrize(("key", "direction"), [
    ("loss", "min"), ("val_loss", "min"), ("val_bbox_loss", "min"), ("bbox_mae", "min"),
    ("val_price_root_mean_squared_error", "min"), ("mse", "min"),
    ("val_classification_sparse_categorical_accuracy", "max"),
    ("kind_sparse_top_k_categorical_accuracy", "max"), ("val_alarm_auc", "max"),
    ("tags_precision", "max"), ("recall", "max"), ("binary_accuracy", "max"),
])
def test_each_value_has_the_direction_keras_would_give_it(key, direction):
    assert metric_direction(key) == direction


def test_the_default_values_are_each_loss_head_s_loss():
    project = load_example("bbox_classification")
    assert [m.metric for m in default_metrics(project)] == ["val_bbox_loss",
                                                            "val_classification_loss"]
    project.training.validation_split = 0
    assert [m.metric for m in default_metrics(project)] == ["bbox_loss", "classification_loss"]
    project.heads[1].loss.enabled = False  # one loss left: Keras logs it as "loss"
    assert [m.metric for m in default_metrics(project)] == ["loss"]


def test_old_project_files_load_unchanged_and_watch_their_monitor():
    data = json.loads(example_path("bbox_classification").read_text())
    data["training"]["early_stopping"] = {"enabled": True, "monitor": "val_bbox_loss",
                                          "patience": 3, "restore_best_weights": False}
    data["training"]["checkpointing"] = {"enabled": True, "monitor": "val_loss",
                                         "save_best_only": True}
    project = Project.model_validate(data)
    early = project.training.early_stopping
    assert (early.criterion, early.metrics, early.min_delta) == ("monitor", [], 0.0)
    assert criterion_spec(project, early) == ("monitor", [("val_bbox_loss", "min", 1.0, None)])
    assert check_project(project) == []


def test_metrics_may_be_written_as_weights_by_name_or_as_names():
    by_name = EarlyStopping.model_validate({"metrics": {"val_a_loss": 1.0, "val_b_loss": 0.5}})
    assert [(m.metric, m.weight) for m in by_name.metrics] == [("val_a_loss", 1.0),
                                                               ("val_b_loss", 0.5)]
    names = EarlyStopping.model_validate(
        {"metrics": ["val_a_loss", {"metric": "val_b_loss", "tolerance": 0.1}]})
    assert [(m.metric, m.tolerance) for m in names.metrics] == [("val_a_loss", None),
                                                                ("val_b_loss", 0.1)]
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        EarlyStopping.model_validate({"metrics": {"val_a_loss": -1.0}})


def test_problems_name_the_value_and_what_can_be_watched():
    project = load_example("bbox_classification")
    early = project.training.early_stopping
    early.enabled, early.criterion = True, "weighted"
    early.metrics = [CriterionMetric(metric="val_bbox_loss", weight=0.0),
                     CriterionMetric(metric="val_acc", weight=0.0),
                     CriterionMetric(metric="val_bbox_loss", weight=0.0)]
    problems = {p.path: p.message for p in check_project(project)}
    assert problems["training.early_stopping.metrics[1].metric"].startswith(
        "names 'val_acc', which training does not log; choose one of ['loss', 'bbox_loss'")
    assert "a second time" in problems["training.early_stopping.metrics[2].metric"]
    assert "weight 0" in problems["training.early_stopping.metrics"]
    early.criterion = "lexicographic"  # weights play no part
    assert "training.early_stopping.metrics" not in {p.path for p in check_project(project)}
    early.enabled = False
    assert check_project(project) == []


def test_a_watched_validation_value_needs_a_validation_split():
    project = load_example("bbox_classification")
    checkpoint = project.training.checkpointing
    checkpoint.enabled, checkpoint.criterion = True, "all_heads"
    checkpoint.metrics = [CriterionMetric(metric="val_bbox_loss")]
    project.training.validation_split = 0
    [problem] = check_project(project)
    assert problem.path == "training.checkpointing.metrics[0].metric"
    assert "there is no validation data" in problem.message


def test_an_editor_may_switch_the_kind_but_not_name_what_is_not_logged():
    project = load_example("bbox_classification")
    early = project.training.early_stopping
    early.enabled, early.criterion = True, "weighted"
    assert field_problems(project, "training.early_stopping.criterion") == []
    early.metrics = [CriterionMetric(metric="val_nope")]
    assert field_problems(project, "training.early_stopping.criterion") == []
    [refused] = field_problems(project, "training.early_stopping.metrics")
    assert refused.path == "training.early_stopping.metrics[0].metric"


def test_describe_every_kind():
    project = load_example("bbox_classification")
    early = project.training.early_stopping
    assert describe_setting(project, "early_stopping") == "off"
    early.enabled = True
    assert describe_setting(project, "early_stopping") == (
        "val_loss (lower is better); patience 5; restores the best epoch's weights")
    early.criterion, early.restore_best_weights = "all_heads", False
    assert describe_setting(project, "early_stopping") == (
        "each of val_bbox_loss, val_classification_loss on its own; best epoch: the lowest "
        "1 × val_bbox_loss + 1 × val_classification_loss; patience 5")
    project.training.checkpointing.enabled = True
    project.training.checkpointing.save_best_only = False
    assert describe_setting(project, "checkpointing").endswith(
        "saves checkpoint.keras after every epoch")


@pytest.mark.parametrize(("text", "expected"), [
    ("weighted:val_a_loss=1,val_b_loss=0.5",
     ("weighted", "", [("val_a_loss", 1.0, None), ("val_b_loss", 0.5, None)])),
    ("Weighted: val_a_loss , val_b_loss=2",
     ("weighted", "", [("val_a_loss", 1.0, None), ("val_b_loss", 2.0, None)])),
    ("lexicographic:val_a_loss~0.01,val_b_loss",
     ("lexicographic", "", [("val_a_loss", 1.0, 0.01), ("val_b_loss", 1.0, None)])),
    ("all-heads", ("all_heads", "", [])),
    ("all_heads:val_a_mae,val_b_loss=3",
     ("all_heads", "", [("val_a_mae", 1.0, None), ("val_b_loss", 3.0, None)])),
    ("monitor:val_loss", ("monitor", "val_loss", [])),
])
def test_criteria_as_the_command_line_writes_them(text, expected):
    kind, monitor, metrics = parse_criterion(text)
    assert (kind, monitor, [(m.metric, m.weight, m.tolerance) for m in metrics]) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("pareto:val_a_loss", "'pareto' is not a criterion"),
    ("weighted", "names no value"),
    ("lexicographic:", "names no value"),
    ("weighted:a=1,,b", "empty name between commas"),
    ("weighted:a=", "NAME=WEIGHT"),
    ("weighted:=2", "NAME=WEIGHT"),
    ("weighted:a=inf", "0 or more"),
    ("lexicographic:a~-1", "tolerance must be a number of 0 or more"),
    ("monitor:", "must name one logged value"),
])
def test_criteria_that_cannot_be_read_say_how_to_write_them(text, words):
    with pytest.raises(ValueError, match=words):
        parse_criterion(text)
