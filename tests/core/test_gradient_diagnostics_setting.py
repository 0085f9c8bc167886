"""``training.gradient_diagnostics``: the setting, its checks, and the log keys it adds."""

from __future__ import annotations

import json

import pytest

from mogui.core.io import load_example
from mogui.core.log_keys import gradient_keys, is_gradient_key
from mogui.core.project import GradientDiagnostics, HeadSpec, Project
from mogui.core.validation import ProjectError, check_project, parse_project

PATH = "training.gradient_diagnostics.enabled"


def test_off_by_default_at_the_automatic_interval_and_kept_in_the_file():
    project = load_example("bbox_classification")
    assert project.training.gradient_diagnostics == GradientDiagnostics(enabled=False,
                                                                        every=None)
    project.training.gradient_diagnostics = GradientDiagnostics(enabled=True, every=7)
    again = Project.model_validate(json.loads(project.to_json()))
    assert again.training.gradient_diagnostics == GradientDiagnostics(enabled=True, every=7)


def test_the_interval_is_described_in_words():
    assert GradientDiagnostics(enabled=True).describe() == (
        "automatically: at least 50 steps apart, spaced to take at most 10% of the training "
        "time")
    assert GradientDiagnostics(enabled=True, every=7).describe() == "every 7 steps"
    assert GradientDiagnostics(enabled=True, every=1).describe() == "every 1 step"


def test_every_must_be_at_least_one_step():
    data = json.loads(load_example("bbox_classification").to_json())
    data["training"]["gradient_diagnostics"] = {"enabled": True, "every": 0}
    with pytest.raises(ProjectError) as caught:
        parse_project(data)
    assert str(caught.value.problems[0]) == \
        "training.gradient_diagnostics.every must be >= 1, got 0"


def test_one_head_with_a_loss_cannot_be_diagnosed():
    project = load_example("bbox_classification")
    project.training.gradient_diagnostics.enabled = True
    assert not [p for p in check_project(project) if p.path == PATH]
    project.heads[1].loss.enabled = False
    problems = [p for p in check_project(project) if p.path == PATH]
    assert len(problems) == 1
    assert "1 head has a loss" in problems[0].message
    assert "two or more heads" in problems[0].message and "switch them off" in \
        problems[0].message
    project.training.gradient_diagnostics.enabled = False
    assert not [p for p in check_project(project) if p.path == PATH]


def test_heads_without_a_trunk_cannot_be_diagnosed():
    project = load_example("bbox_classification")
    project.training.gradient_diagnostics.enabled = True
    project.trunk = []
    for head in project.heads:
        head.source = "image"
        head.layers = []
    problems = [p for p in check_project(project) if p.path == PATH]
    assert len(problems) == 1 and "no shared layers (trunk)" in problems[0].message


def test_gradient_keys_per_head_and_per_pair_in_training_order():
    assert gradient_keys(["box", "kind", "size"]) == [
        "gradnorm_box", "gradnorm_kind", "gradnorm_size",
        "gradcos_box__kind", "gradcos_box__size", "gradcos_kind__size"]


def test_gradient_keys_are_never_taken_for_a_heads_metric():
    heads = ["gradnorm", "box"]  # a head may even be called "gradnorm"
    assert is_gradient_key("gradnorm_box", heads)
    assert is_gradient_key("gradcos_gradnorm__box", heads)
    assert is_gradient_key("gradcos_box__gradnorm", heads)
    assert not is_gradient_key("gradnorm_mae", heads)  # the gradnorm head's metric
    assert not is_gradient_key("box_loss", heads)


def test_a_project_with_many_heads_keeps_every_pair():
    project = load_example("bbox_classification")
    project.heads += [HeadSpec(name=f"extra{i}", task="regression", units=1)
                      for i in range(3)]
    keys = gradient_keys([h.name for h in project.loss_heads()])
    assert len(keys) == 5 + 5 * 4 // 2
