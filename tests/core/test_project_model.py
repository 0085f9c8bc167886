"""Project model, validation messages, file I/O and migrations (no Qt, no Keras)."""

from __future__ import annotations

import json
import sys

import pytest

from mogui.core import io
from mogui.core.io import (
    atomic_write_text,
    example_names,
    json_schema,
    load_example,
    load_project,
    project_from_json,
    save_project,
)
from mogui.core.project import SCHEMA_VERSION
from mogui.core.validation import ProjectError


def _demo_dict() -> dict:
    return json.loads(load_example("bbox_classification").to_json())


def _error_for(data: dict) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        project_from_json(json.dumps(data))
    return info.value


def test_examples_load_and_round_trip(tmp_path):
    assert {"bbox_classification.json", "bbox_classification_joint.json",
            "multi_input.json"} <= set(example_names())
    for name in example_names():
        project = load_example(name)
        target = tmp_path / name
        save_project(project, target)
        assert load_project(target) == project


def test_importing_core_imports_neither_qt_nor_keras():
    import subprocess

    code = ("import sys, mogui, mogui.core.io, mogui.core.validation, mogui.core.events;"
            "bad=[m for m in sys.modules if m.split('.')[0] in "
            "('keras','tensorflow','PySide6','pyqtgraph')]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_head_units_below_one_names_the_field():
    data = _demo_dict()
    data["heads"].append({"name": "extra", "task": "regression", "units": 0})
    err = _error_for(data)
    assert str(err.problems[0]) == "heads[2].units must be >= 1, got 0"


def test_layer_params_are_validated_with_their_path():
    data = _demo_dict()
    data["trunk"][0]["params"]["filters"] = -3
    data["trunk"][1]["params"]["bogus"] = 1
    messages = [str(p) for p in _error_for(data).problems]
    assert "trunk[0].params.filters must be >= 1, got -3" in messages
    assert any(m.startswith("trunk[1].params.bogus is not a known field") for m in messages)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["heads"][1].update(name="bbox"), "heads[1].name"),
        (lambda d: d["trunk"][3].update(inputs=["nope"]), "trunk[3].inputs[0]"),
        (lambda d: d["trunk"][0].update(kind="Dense3D"), "trunk[0].kind"),
        (lambda d: d["heads"][0]["loss"].update(kind="sparse_categorical_crossentropy"),
         "heads[0].loss.kind"),
        (lambda d: d["heads"][0]["loss"].update(kind="custom", source=""),
         "heads[0].loss.source"),
        (lambda d: d["heads"][0]["loss"].update(metrics=["sparse_categorical_accuracy"]),
         "heads[0].loss.metrics[0]"),
        (lambda d: d.update(loss_mode="joint"), "joint_loss.source"),
        (lambda d: d["heads"][0].update(source="classification"), "heads[0].source"),
        (lambda d: d["training"].update(validation_split=1.5), "training.validation_split"),
        (lambda d: d["data"].update(kind="mystery"), "data"),
        (lambda d: d["inputs"][0].update(name="2d image"), "inputs[0].name"),
    ],
)
def test_cross_field_problems_name_the_field(change, expected):
    data = _demo_dict()
    change(data)
    err = _error_for(data)
    assert any(p.path == expected for p in err.problems), [str(p) for p in err.problems]


def test_merge_layer_needs_two_inputs():
    data = _demo_dict()
    data["trunk"].append({"name": "merge", "kind": "Add", "params": {}})
    err = _error_for(data)
    assert str(err.problems[0]) == "trunk[8].inputs: Add needs at least 2 inputs, got 1"


def test_every_head_without_loss_is_rejected():
    data = _demo_dict()
    for head in data["heads"]:
        head["loss"]["enabled"] = False
    assert _error_for(data).problems[0].path == "heads"


def test_new_head_gets_its_task_default_loss():
    data = _demo_dict()
    data["heads"].append({"name": "is_round", "task": "binary", "units": 1})
    project = project_from_json(json.dumps(data))
    assert project.head("is_round").loss.kind == "binary_crossentropy"
    assert project.head("is_round").output_activation == "sigmoid"


def test_broken_json_reports_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",\n  "inputs": [}\n')
    with pytest.raises(ProjectError, match=r"broken.json: is not valid JSON: .* line 2"):
        load_project(path)
    path.write_text('{"name": "x",\n  "description": "cut off')
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert "Unterminated string starting at line 2, column 18" in str(info.value)


def test_missing_file_message(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope.json")


def test_newer_schema_version_is_refused():
    data = _demo_dict()
    data["schema_version"] = SCHEMA_VERSION + 1
    assert "update mogui" in str(_error_for(data))


def test_migrations_run_in_order(monkeypatch):
    data = _demo_dict()
    data["schema_version"] = 0 + SCHEMA_VERSION  # current: no migration
    calls = []

    def step(d):
        calls.append(d["schema_version"])
        d["description"] = "migrated"
        return d

    monkeypatch.setattr(io, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(io.MIGRATIONS, SCHEMA_VERSION, step)
    migrated = io.migrate(dict(data))
    assert calls == [SCHEMA_VERSION]
    assert migrated["schema_version"] == SCHEMA_VERSION + 1
    assert migrated["description"] == "migrated"


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "p.json"
    target.write_text("old")

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_shipped_json_schema_is_current():
    from importlib import resources

    shipped = json.loads((resources.files("mogui.resources") / "project.schema.json").read_text())
    hint = "run: python -m mogui.core.schema > resources/project.schema.json"
    assert shipped == json_schema(), hint


def test_every_subpackage_is_packaged():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    on_disk = {".".join(p.parent.relative_to(root).parts)
               for p in (root / "mogui").rglob("__init__.py")}
    assert on_disk <= listed, f"add to pyproject's packages: {sorted(on_disk - listed)}"


def test_problems_can_be_described_by_name_for_people():
    from mogui.core.validation import Problem, describe_problem

    project = load_example("bbox_classification")
    problem = Problem("trunk[0].inputs[0]", "names 'nope', which is not an input")
    assert describe_problem(problem, project) == \
        "trunk layer 'conv1': inputs[0] names 'nope', which is not an input"
    head_layer = Problem("heads[1].layers[0].params.units", "must be >= 1, got 0")
    assert describe_problem(head_layer, project) == \
        "layer 'class_hidden' of head 'classification': params.units must be >= 1, got 0"
    assert describe_problem(Problem("heads[0]", "has no loss"), project) == \
        "head 'bbox': has no loss"
    assert describe_problem(Problem("heads[9].units", "x"), project) == "heads[9].units x"


def test_non_strict_loading_keeps_a_project_with_cross_field_problems(tmp_path):
    data = _demo_dict()
    data["heads"][0]["loss"]["kind"] = "sparse_categorical_crossentropy"
    path = tmp_path / "unfinished.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="heads\\[0\\].loss.kind"):
        load_project(path)
    assert load_project(path, strict=False).heads[0].loss.kind == \
        "sparse_categorical_crossentropy"
    data["heads"][0]["units"] = 0  # a structural problem still refuses to load
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="heads\\[0\\].units"):
        load_project(path, strict=False)


def test_json_nested_too_deep_is_a_plain_problem(tmp_path):
    from mogui.core.io import load_project
    from mogui.core.validation import ProjectError

    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ProjectError, match="nests lists or objects too deeply"):
        load_project(path)


def test_weights_that_leave_nothing_to_train_or_balance_are_rejected():
    data = _demo_dict()
    for head in data["heads"]:
        head["loss"]["weight"] = 0.0
    problem = _error_for(data).problems[0]
    assert (problem.path, problem.message) == (
        "heads", "every head's loss weight is 0, so training would change nothing; give at "
                 "least one head a weight above 0")
    # One head at weight 0 takes no part: it leaves one head for a method that balances two.
    data["heads"][0]["loss"]["weight"] = 1.0
    data["training"]["balancing"] = {"method": "pcgrad", "params": {}}
    problem = _error_for(data).problems[0]
    assert problem.path == "training.balancing.method"
    assert "only 'bbox' takes part ('classification' has loss weight 0)" in problem.message
    data["heads"][1]["loss"]["weight"] = 0.5
    project_from_json(json.dumps(data))  # two heads take part: valid


def test_a_message_that_is_a_sentence_follows_its_field_after_a_colon():
    data = _demo_dict()
    data["training"]["balancing"] = {"method": "dwa", "params": {"temperature": -2}}
    text = str(_error_for(data).problems[0])
    assert text.startswith("training.balancing: Balancing 'dwa': 'temperature'"), text
    data = _demo_dict()
    data["heads"][0]["units"] = 0
    assert str(_error_for(data).problems[0]).startswith("heads[0].units ")
