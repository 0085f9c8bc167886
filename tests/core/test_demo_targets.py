"""Validation of heads trained on the demo data: each needs a demo quantity that fits it."""

from __future__ import annotations

from mogui.core.demo_targets import demo_head_targets, unused_demo_quantities
from mogui.core.io import load_example, project_from_json
from mogui.core.project import HeadSpec, NpzData, Project
from mogui.core.validation import check_project


def demo_with(head: HeadSpec, targets: dict[str, str] | None = None) -> Project:
    project = load_example("bbox_classification")
    project.heads.append(head)
    project.data.targets = targets or {}
    return project


def test_shipped_examples_need_no_mapping():
    for name in ("bbox_classification", "bbox_classification_joint"):
        project = load_example(name)
        assert project.data.targets == {}
        assert check_project(project) == []
        assert demo_head_targets(project) == {"bbox": "bbox", "classification": "classification"}


def test_head_without_demo_target_is_reported_at_its_name():
    problems = check_project(demo_with(HeadSpec(name="is_big", task="binary", units=1)))
    assert [p.path for p in problems] == ["heads[2].name"]
    assert problems[0].message.startswith("'is_big' has no demo target: set data.targets.is_big "
                                          "to one of [bbox, classification, is_round")
    assert problems[0].message.endswith("or name the head after one")


def test_mapped_or_named_head_is_valid():
    assert check_project(demo_with(HeadSpec(name="is_round", task="binary", units=1))) == []
    mapped = demo_with(HeadSpec(name="roundness", task="binary", units=1),
                       {"roundness": "is_round"})
    assert check_project(mapped) == []
    assert demo_head_targets(mapped)["roundness"] == "is_round"


def test_quantity_that_does_not_fit_names_both_tasks():
    problems = check_project(demo_with(HeadSpec(name="is_round", task="regression", units=4)))
    assert [str(p) for p in problems] == [
        "heads[2].task 'is_round' does not fit its demo target: 'is_round' is binary with "
        "1 unit; the head is regression with 4; change the head's task and units or its demo "
        "target"]
    wrong_units = check_project(demo_with(HeadSpec(name="c", task="regression", units=3),
                                          {"c": "center"}))
    assert [p.path for p in wrong_units] == ["heads[2].units"]


def test_bad_mapping_entries_are_reported_at_data_targets():
    project = demo_with(HeadSpec(name="x", task="binary", units=1), {"x": "roundish"})
    project.data.targets["gone"] = "bbox"
    paths = {p.path: p.message for p in check_project(project)}
    assert set(paths) == {"data.targets.x", "data.targets.gone"}
    assert "'roundish' is not a demo quantity" in paths["data.targets.x"]
    assert "names no head" in paths["data.targets.gone"]


def test_heads_without_loss_or_other_data_are_not_checked():
    no_loss = HeadSpec(name="spare", task="regression", units=3, loss={"enabled": False})
    assert check_project(demo_with(no_loss)) == []
    other_data = demo_with(HeadSpec(name="is_big", task="binary", units=1))
    other_data.data = NpzData(path="data.npz")
    assert check_project(other_data) == []


def test_unused_quantities_follow_the_offering_order():
    project = demo_with(HeadSpec(name="roundness", task="binary", units=1),
                        {"roundness": "is_round"})
    names = [q.name for q in unused_demo_quantities(project)]
    assert names == ["is_hollow", "center", "size", "traits", "class_onehot"]
    assert unused_demo_quantities(project)[0].label == (
        "is_hollow — binary, 1 unit: is the shape a ring or a hollow square?")


def test_targets_round_trip_through_json():
    project = demo_with(HeadSpec(name="roundness", task="binary", units=1),
                        {"roundness": "is_round"})
    again = project_from_json(project.to_json())
    assert again.data.targets == {"roundness": "is_round"}
