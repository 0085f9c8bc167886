"""Rules of one field (what the app's editors refuse), names, None sizes, data paths on save and
the check that decides whether training can start (no Qt, no Keras)."""

from __future__ import annotations

import json
import os

import pytest

from mogui.core.data_paths import missing_data, rebase_data_paths, stored_path
from mogui.core.io import load_example, load_project, project_from_json, save_project
from mogui.core.project import InputSpec, LayerSpec, NpzData, Project
from mogui.core.project_code import CodeItem
from mogui.core.readiness import training_blocker
from mogui.core.sizes import MAX_UNITS
from mogui.core.tasks import Task
from mogui.core.validation import ProjectError, check_project, field_problems, name_problem


@pytest.fixture
def demo() -> Project:
    return load_example("bbox_classification")


def _messages(project: Project, field: str) -> list[str]:
    return [p.message for p in field_problems(project, field)]


# -- names -------------------------------------------------------------------------------------
def test_a_name_must_be_unique_across_inputs_layers_and_heads(demo):
    assert "already the name of trunk layer 'conv1'" in name_problem(demo, "conv1")
    assert "already the name of input 'image'" in name_problem(demo, "image", "heads[0]")
    assert "already the name of head 'bbox'" in name_problem(demo, "bbox", "trunk[0]")
    assert name_problem(demo, "conv1", "trunk[0]") is None  # its own name
    assert name_problem(demo, "features") is None


@pytest.mark.parametrize(("name", "expected"), [
    ("", "is empty"),
    ("1st", "must use letters, digits and underscores and not start with a digit"),
    ("has space", "must use letters, digits and underscores"),
    ("a/b", "must use letters, digits and underscores"),
    ("x" * 65, "use at most 64"),
])
def test_a_name_must_be_usable_by_keras(demo, name, expected):
    assert expected in name_problem(demo, name)


def test_a_head_may_not_look_like_a_validation_value(demo):
    for name in ("val", "val_box"):
        assert "mistaken for a validation value" in name_problem(demo, name, head=True)
        assert "mistaken" in name_problem(demo, name, "heads[0]")
    assert name_problem(demo, "val_box", "trunk[7]") is None  # a layer logs nothing
    assert name_problem(demo, "validity", head=True) is None
    demo.heads[0].name = "val"
    demo.data.targets = {"val": "bbox"}
    assert any(p.path == "heads[0].name" and "mistaken" in p.message
               for p in check_project(demo))


def test_a_duplicate_name_is_refused_at_the_field_edited(demo):
    demo.heads[1].name = "bbox"
    assert _messages(demo, "heads[1].name") == [
        "'bbox' is already the name of head 'bbox'; names of inputs, layers and heads must "
        "be unique"]
    assert "already the name of head 'classification'" not in str(check_project(demo))


def test_an_empty_layer_name_is_refused(demo):
    demo.trunk[0].name = ""
    assert _messages(demo, "trunk[0].name") == [
        "is empty: give it a name of letters, digits and underscores"]


# -- values ------------------------------------------------------------------------------------
def test_out_of_range_values_are_refused_at_their_field(demo):
    demo.trunk.insert(7, LayerSpec(name="drop", kind="Dropout", params={"rate": 1.5}))
    assert _messages(demo, "trunk[7].params.rate") == ["must be < 1.0, got 1.5"]
    demo.inputs[0].shape = [0, 32, 1]
    assert [str(p) for p in field_problems(demo, "inputs[0].shape")] == [
        "inputs[0].shape[0] must be >= 1, got 0"]
    demo.heads[0].units = 0
    assert _messages(demo, "heads[0].units") == ["must be >= 1, got 0"]
    demo.trunk[0].params["kernel_size"] = -3
    assert _messages(demo, "trunk[0].params.kernel_size") == ["must be >= 1, got -3"]
    demo.training.learning_rate = 0.0
    demo.training.batch_size = 0
    demo.training.validation_split = 1.0
    assert _messages(demo, "training.learning_rate") == ["must be > 0.0, got 0.0"]
    assert _messages(demo, "training.batch_size") == ["must be >= 1, got 0"]
    assert _messages(demo, "training.validation_split") == ["must be < 1.0, got 1.0"]
    assert field_problems(demo, "training.epochs") == []  # other fields are not its problem


def test_a_layer_wider_than_allowed_is_refused_with_the_size_rule(demo):
    demo.trunk[7].params["units"] = MAX_UNITS + 1
    assert "more than the 1,000,000 units a layer may have" in \
        _messages(demo, "trunk[7].params.units")[0]
    demo.trunk[7].params["units"] = 64
    demo.heads[0].units = MAX_UNITS + 1
    assert "more than the 1,000,000 units" in _messages(demo, "heads[0].units")[0]


def test_a_monitor_training_does_not_log_is_refused_only_when_it_is_used(demo):
    demo.training.early_stopping.monitor = "val_acc"
    assert field_problems(demo, "training.early_stopping.monitor") == []
    demo.training.early_stopping.enabled = True
    assert "which training does not log" in _messages(demo, "training.early_stopping.monitor")[0]


def test_problems_between_fields_are_shown_not_refused(demo):
    demo.heads[0].task = Task.BINARY  # bbox: 4 units, regression loss: no longer fits
    assert check_project(demo)
    assert field_problems(demo, "heads[0].task") == []
    assert field_problems(demo, "heads[0].units") == []
    demo.trunk[7].inputs = ["nowhere"]
    assert field_problems(demo, "trunk[7].inputs") == []


# -- None sizes ---------------------------------------------------------------------------------
def test_inputs_may_have_sizes_of_any_length(tmp_path):
    spec = InputSpec(name="title", shape=[None], dtype="int32")
    assert not spec.is_fixed and spec.accepts((12,)) and spec.accepts((3,))
    assert not spec.accepts((3, 4))
    image = InputSpec(name="image", shape=[None, None, 3])
    assert image.accepts((8, 10, 3)) and not image.accepts((8, 10, 1))
    assert InputSpec(name="x", shape=[None, 4]).sized(12) == [3, 4]
    assert InputSpec(name="x", shape=[None, 5]).sized(12) is None
    assert InputSpec(name="x", shape=[None, None]).sized(12) is None
    assert InputSpec(name="x", shape=[2, 2]).sized(4) == [2, 2]

    data = json.loads(load_example("multi_input").to_json())
    data["inputs"][1]["shape"] = [None]
    project = project_from_json(json.dumps(data))
    assert project.inputs[1].shape == [None]
    save_project(project, tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["inputs"][1]["shape"] == [None]
    assert load_project(tmp_path / "p.json").inputs[1].shape == [None]
    data["inputs"][1]["shape"] = [0]
    with pytest.raises(ProjectError, match=r"inputs\[1\]\.shape\[0\] must be >= 1, got 0"):
        project_from_json(json.dumps(data))


# -- data paths --------------------------------------------------------------------------------
def _npz(path: str) -> Project:
    project = load_example("multi_input")
    project.data = NpzData(path=path)
    return project


def test_data_paths_inside_the_project_folder_are_stored_relative(tmp_path):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    inside = folder / "data" / "x.npz"
    assert stored_path(inside, folder) == "data/x.npz"
    assert stored_path(tmp_path / "elsewhere.npz", folder) == str(tmp_path / "elsewhere.npz")
    os.symlink(folder, tmp_path / "link")
    assert stored_path(tmp_path / "link" / "data" / "x.npz", folder) == "data/x.npz"

    first_save = rebase_data_paths(_npz(str(inside)), None, folder)
    assert first_save.data.path == "data/x.npz"
    typed = rebase_data_paths(_npz("mine.npz"), None, folder)  # already relative: as typed
    assert typed.data.path == "mine.npz"
    same = rebase_data_paths(_npz("../shared/x.npz"), folder, folder)
    assert same.data.path == "../shared/x.npz"  # written by the user, the folder unchanged


def test_save_as_elsewhere_keeps_pointing_at_the_same_files(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    moved = rebase_data_paths(_npz("data/x.npz"), old, new)
    assert moved.data.path == str(old / "data" / "x.npz")  # outside the new folder: absolute
    back = rebase_data_paths(moved, new, old)
    assert back.data.path == "data/x.npz"
    below = rebase_data_paths(_npz("new/x.npz"), tmp_path, new)
    assert below.data.path == "x.npz"


def test_missing_data_names_the_file_and_where_it_was_looked_for(tmp_path):
    project = _npz("gone.npz")
    message = missing_data(project, tmp_path)
    assert message.startswith(f"the data file 'gone.npz' (looked for {tmp_path / 'gone.npz'}) "
                              "does not exist")
    assert message.endswith("choose it again in Edit ▸ Data…")
    (tmp_path / "gone.npz").write_bytes(b"")
    assert missing_data(project, tmp_path) is None
    assert missing_data(load_example("bbox_classification"), None) is None  # generated


# -- can training start? -------------------------------------------------------------------------
def test_training_blocker_says_why_in_order(demo, tmp_path):
    assert training_blocker(demo, check_project(demo), [], None) is None
    demo.heads[0].units = 3
    problems = check_project(demo)
    blocker = training_blocker(demo, problems, [], None)
    assert blocker.message.startswith("Cannot train: head 'bbox': units 'bbox' does not fit")
    assert len(blocker.details.splitlines()) == len(problems)
    demo.heads[0].units = 4
    code = [CodeItem("custom loss of head 'bbox'", "bbox", "def loss(y_true, y_pred): ...")]
    blocker = training_blocker(demo, [], code, None)
    assert blocker.message.startswith("Cannot train: this project holds code you have not "
                                      "trusted (custom loss of head 'bbox')")
    npz = _npz("missing.npz")
    assert training_blocker(npz, [], [], tmp_path).message.startswith(
        "Cannot train: the data file 'missing.npz'")
    assert training_blocker(demo, [], [], None, "Dense 'x' needs…").message == \
        "Cannot train: the model cannot be built: Dense 'x' needs…"


def test_a_table_head_or_input_without_columns_and_code_that_is_no_python_block(tmp_path):
    from mogui.core.io import example_path

    houses = load_example("houses")
    folder = example_path("houses").parent
    assert training_blocker(houses, check_project(houses), [], folder) is None
    mapped = [m.name for m in houses.data.targets]
    houses.data.targets = [m for m in houses.data.targets if m.name != mapped[0]]
    assert training_blocker(houses, [], [], folder).message == (
        f"Cannot train: head '{mapped[0]}' has no target column to learn from; map one in "
        "Edit ▸ Data… (or turn its loss off on the Losses tab)")
    houses = load_example("houses")
    houses.data.inputs = []
    assert training_blocker(houses, [], [], folder).message.startswith(
        f"Cannot train: input '{houses.inputs[0].name}' has no columns to read")
    houses = load_example("houses")
    head = houses.heads[0]
    head.loss.kind = "custom"
    head.loss.source = "def loss(y_true, y_pred):\n    return (y_true -\n"
    message = training_blocker(houses, [], [], folder).message
    assert message.startswith(f"Cannot train: the {head.name} loss (line 2) is not valid "
                              "Python"), message
