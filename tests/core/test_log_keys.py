"""What a monitor may name: the keys training logs, checked before any training."""

from __future__ import annotations

from mogui.core.io import load_example
from mogui.core.log_keys import log_keys, monitor_problem
from mogui.core.validation import check_project


def test_the_demo_logs_total_head_losses_and_prefixed_metrics():
    project = load_example("bbox_classification")
    assert log_keys(project) == ["loss", "bbox_loss", "classification_loss", "bbox_mae",
                                 "classification_sparse_categorical_accuracy"]


def test_a_one_head_model_logs_unprefixed_metrics_and_no_head_loss():
    project = load_example("bbox_classification")
    project.heads = project.heads[:1]
    assert log_keys(project) == ["loss", "mae"]


def test_monitors_are_checked_against_the_logged_keys():
    project = load_example("bbox_classification")
    assert monitor_problem(project, "val_bbox_loss") is None
    assert monitor_problem(project, "classification_sparse_categorical_accuracy") is None
    assert "training does not log" in monitor_problem(project, "val_accuracy")
    project.training.validation_split = 0.0
    assert "no validation data" in monitor_problem(project, "val_loss")


def test_check_project_reports_a_monitor_that_names_nothing():
    project = load_example("bbox_classification")
    project.training.early_stopping.enabled = True
    project.training.early_stopping.monitor = "val_acc"
    problems = [p for p in check_project(project) if "monitor" in p.path]
    assert [p.path for p in problems] == ["training.early_stopping.monitor"]
    assert "val_classification_sparse_categorical_accuracy" in problems[0].message
    project.training.early_stopping.enabled = False
    assert not [p for p in check_project(project) if "monitor" in p.path]
