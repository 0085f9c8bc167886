"""A project from a data file, the pure part: column summaries, column selections, the task
each target trains (a table of cases), the features and the default model."""

from __future__ import annotations

from pathlib import Path

import pytest

from mogui.core.columns import ColumnSummary, select_columns, summarize_rows
from mogui.core.default_model import build_project, image_input_shape
from mogui.core.errors import DataError
from mogui.core.from_data import (
    DataSummary,
    TargetChoice,
    identifier,
    infer_head,
    parse_target,
    plan_features,
    plan_project,
)
from mogui.core.tasks import Task
from mogui.core.validation import check_project

HEADER = [f"f{i}" for i in range(1, 9)] + ["g", "col-a", "b:c"]


def table(columns: dict[str, list[str]]) -> DataSummary:
    """A CSV summary of ``columns`` (name -> cells)."""
    names = list(columns)
    rows = [list(row) for row in zip(*columns.values(), strict=True)]
    return DataSummary("csv", Path("/data/t.csv"), len(rows), tuple(summarize_rows(names, rows)))


def cells(*values: object, repeat: int = 1) -> list[str]:
    return [str(v) for v in values] * repeat


# -- summaries ---------------------------------------------------------------------------------

def test_summary_of_numbers_texts_and_empty_cells():
    (price, kind, count, nothing) = summarize_rows(
        ["price", "kind", "count", "nothing"],
        [["47.5", "cat", "1", ""], ["", "dog", "2.0", "NA"], ["175", "cat", "3", "nan"],
         ["NaN", " owl ", "1", "null"]])
    assert (price.kind, price.missing, price.low, price.high) == ("number", 2, 47.5, 175.0)
    assert price.mean == pytest.approx(111.25) and price.std == pytest.approx(63.75)
    assert (kind.kind, kind.missing, kind.distinct, kind.values) == \
        ("text", 0, 3, ("cat", "dog", "owl"))
    assert (count.kind, count.distinct, count.values) == ("integer", 3, ("1", "2.0", "3"))
    assert (nothing.kind, nothing.missing) == ("empty", 4)
    assert "2 missing" in price.describe() and "3 values: cat, dog, owl" in kind.describe()


def test_values_that_would_read_as_two_are_quoted_and_one_value_is_one():
    (note, const) = summarize_rows(["note", "const"], [["near park, quiet", "5"],
                                                        ["plain", "5"], [" edge ", "5"]])
    assert note.value_parts()[0] == "3 values: edge, 'near park, quiet', plain"
    assert const.describe() == "integer; 0 missing; 1 value: 5; 5 .. 5; mean 5, std 0"


def test_summary_counts_many_values_without_listing_them():
    (column,) = summarize_rows(["id"], [[str(i)] for i in range(500)])
    assert column.many_values and column.values == ()
    assert (column.low, column.high) == (0, 499)


# -- selections --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("f1:f8", [f"f{i}" for i in range(1, 9)]),
    ("f1-f8", [f"f{i}" for i in range(1, 9)]),
    ("f2..f4", ["f2", "f3", "f4"]),
    ("f1, f2, f8", ["f1", "f2", "f8"]),
    ("f1 f3", ["f1", "f3"]),
    ("f3:f4, f1, f3", ["f3", "f4", "f1"]),
    ("f*", [f"f{i}" for i in range(1, 9)]),
    ("f?, g", [f"f{i}" for i in range(1, 9)] + ["g"]),
    ("col-a", ["col-a"]),
    ("b:c", ["b:c"]),
])
def test_column_selections(text, expected):
    assert select_columns(text, HEADER) == expected


@pytest.mark.parametrize("text, words", [
    ("f9", ("no column 'f9'", "'f1'")),
    ("f1:f9", ("'f9'", "not a column")),
    ("f8:f1", ("backwards", "f1:f8")),
    ("x*", ("pattern 'x*'", "matches no column")),
    (" , ", ("No column given",)),
])
def test_bad_column_selections_say_what_is_wrong(text, words):
    with pytest.raises(DataError) as info:
        select_columns(text, HEADER)
    assert all(w in str(info.value) for w in words), str(info.value)


# -- task inference ------------------------------------------------------------------------------

N = 40

CASES = [
    # id, cells of the target, task, units, classes
    ("floats", cells(*(i * 1.5 for i in range(N))), Task.REGRESSION, 1, []),
    ("floats-missing", cells(*(i * 1.5 for i in range(N - 4)), "", "", "NA", "nan"),
     Task.REGRESSION, 1, []),
    ("zero-one", cells(0, 1, repeat=N // 2), Task.BINARY, 1, []),
    ("zero-one-missing", cells(0, 1, "", 1, repeat=N // 4), Task.BINARY, 1, []),
    ("few-integers", cells(1, 2, 3, repeat=N // 3 + 1)[:N], Task.MULTICLASS, 3, ["1", "2", "3"]),
    ("integer-gaps", cells(10, 30, 20, repeat=N // 3 + 1)[:N], Task.MULTICLASS, 3,
     ["10", "20", "30"]),
    ("many-integers", cells(*range(N)), Task.REGRESSION, 1, []),
    ("strings", cells("premium", "budget", "standard", repeat=N // 3 + 1)[:N],
     Task.MULTICLASS, 3, ["budget", "premium", "standard"]),
    ("two-strings", cells("yes", "no", repeat=N // 2), Task.MULTICLASS, 2, ["no", "yes"]),
    ("strings-missing", cells("cat", "", "dog", "N/A", repeat=N // 4), Task.MULTICLASS, 2,
     ["cat", "dog"]),
]


@pytest.mark.parametrize("cells_, task, units, classes",
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_task_of_one_column(cells_, task, units, classes):
    summary = table({"x": cells(*range(N)), "target": cells_})
    head = infer_head(TargetChoice(("target",)), summary)
    assert (head.task, head.units, head.classes) == (task, units, classes)
    assert head.name == "target" and head.columns == ["target"]
    empty = sum(c.strip().lower() in ("", "na", "n/a", "nan") for c in cells_)
    assert (head.missing, head.labelled) == (empty, N - empty)
    assert head.standardize == (task == Task.REGRESSION)


def test_several_zero_one_columns_make_a_multilabel_head():
    summary = table({"x": cells(*range(N)), "t1": cells(0, 1, repeat=N // 2),
                     "t2": cells(1, 1, 0, 0, repeat=N // 4), "t3": cells(1, "", repeat=N // 2)})
    head = infer_head(parse_target("tags=t1:t3", summary.names), summary)
    assert (head.name, head.task, head.units, head.columns) == \
        ("tags", Task.MULTILABEL, 3, ["t1", "t2", "t3"])
    assert head.missing == N // 2


def test_several_number_columns_make_one_regression_head_named_after_their_prefix():
    summary = table({"box_x0": cells(*(i / 3 for i in range(N))),
                     "box_y0": cells(*(i / 7 for i in range(N))), "k": cells(*range(N))})
    head = infer_head(parse_target("box_x0, box_y0", summary.names), summary)
    assert (head.name, head.task, head.units) == ("box", Task.REGRESSION, 2)


@pytest.mark.parametrize("column, task, units", [
    ("ints", Task.REGRESSION, 1),
    ("ints", Task.MULTICLASS_ONEHOT, 3),
    ("words", Task.BINARY, 1),
    ("words", Task.MULTICLASS_ONEHOT, 2),
])
def test_a_task_given_overrides_the_inferred_one(column, task, units):
    summary = table({"ints": cells(1, 2, 3, repeat=N // 3 + 1)[:N],
                     "words": cells("no", "yes", repeat=N // 2)})
    assert infer_head(TargetChoice((column,), task=task), summary).units == units


@pytest.mark.parametrize("column, task, words", [
    ("words", Task.REGRESSION, ("category names", "regression", "Pick multiclass or binary")),
    ("three", Task.REGRESSION, ("category names", "Pick multiclass.")),
    ("three", Task.BINARY, ("3 categories", "binary")),
    ("floats", Task.MULTICLASS, ("fractions", "multiclass")),
    ("ints", Task.BINARY, ("from 1 to 3", "binary")),
    ("same", None, ("one value ('a')", "two classes")),
    ("constant", None, ("one value", "nothing to learn")),
    ("empty", None, ("is empty",)),
    ("free_text", None, ("different texts",)),
])
def test_columns_that_cannot_be_targets(column, task, words):
    summary = table({"words": cells("no", "yes", repeat=N // 2),
                     "three": cells("a", "b", "c", "a", repeat=N // 4),
                     "floats": cells(*(i / 2 for i in range(N))),
                     "ints": cells(1, 2, 3, 1, repeat=N // 4),
                     "same": cells("a", "", repeat=N // 2),
                     "constant": cells(2.5, repeat=N),
                     "empty": cells("", repeat=N)})
    if column == "free_text":  # more than 50 distinct texts
        summary = table({"free_text": cells(*(f"note {i}" for i in range(80)))})
    with pytest.raises(DataError) as info:
        infer_head(TargetChoice((column,), task=task), summary)
    assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.parametrize("text, name", [("Price ($)", "Price"), ("2nd", "c_2nd"),
                                        ("val_loss", "val_loss_target"), ("  ", "head"),
                                        ("größe", "größe")])
def test_head_names_from_column_names(text, name):
    assert identifier(text) == name


# -- features ------------------------------------------------------------------------------------

def houses() -> DataSummary:
    return table({
        "id": cells(*range(N)),
        "area": cells(*(50 + i * 2.5 for i in range(N))),
        "rooms": cells(1, 2, 3, 4, repeat=N // 4),
        "city": cells("a", "b", repeat=N // 2),
        "flat": cells(1, repeat=N),
        "gappy": cells(*range(N - 1), ""),
        "price": cells(*(100 + i * 1.25 for i in range(N))),
        "category": cells("budget", "premium", "", "standard", repeat=N // 4),
    })


def test_default_features_are_the_usable_columns_that_are_no_target():
    plan = plan_project(houses(), ["price", "category"])
    assert plan.features.columns == ["area", "rooms"]
    assert dict(plan.features.left_out) == {
        "id": "looks like a row number", "city": "holds text (inputs must be numbers)",
        "flat": "holds the same value (1) in every row",
        "gappy": "has 1 empty cell(s) (inputs may not be empty)"}
    assert [(h.name, h.task) for h in plan.heads] == \
        [("price", Task.REGRESSION), ("category", Task.MULTICLASS)]
    assert any("left out 'city'" in line for line in plan.lines())


@pytest.mark.parametrize("features, words", [
    ("area, price", ("'price'", "target and a feature")),
    ("area, city", ("'city' holds text",)),
    ("gappy", ("'gappy' has 1 empty cell",)),
])
def test_features_given_must_be_usable(features, words):
    with pytest.raises(DataError) as info:
        plan_features(houses(), plan_project(houses(), ["price"]).heads, features)
    assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.parametrize("targets, tasks, words", [
    ([], {}, ("at least one target",)),
    (["price", "price"], {}, ("'price'", "Two targets")),
    (["p=price", "q=price"], {}, ("'price'", "both")),
    (["price"], {"nope": "regression"}, ("--task", "'nope'", "no head")),
    (["price"], {"price": "ranking"}, ("'ranking' is not a task",)),
    (["1x=price"], {}, ("head name '1x'",)),
])
def test_bad_target_choices(targets, tasks, words):
    with pytest.raises(DataError) as info:
        plan_project(houses(), targets, tasks=tasks)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_too_few_rows():
    with pytest.raises(DataError, match="at least 10"):
        plan_project(table({"x": cells(1, 2), "y": cells(0.5, 1.5)}), ["y"])


# -- the project -------------------------------------------------------------------------------

def test_the_project_of_a_table_validates_and_is_wired_to_its_columns(tmp_path):
    plan = plan_project(houses(), ["price", "category"], features="area:rooms")
    project = build_project(plan, tmp_path / "sub" / "houses.json")
    assert check_project(project) == []
    assert [layer.kind for layer in project.trunk] == ["Normalization", "Dense", "Dense"]
    assert project.inputs[0].shape == [2]
    data = project.data
    assert data.kind == "csv" and data.path == "/data/t.csv"  # outside the project's folder
    assert [(m.name, m.columns, m.classes) for m in data.targets] == [
        ("price", ["price"], []), ("category", ["category"], ["budget", "premium", "standard"])]
    price, category = project.heads
    assert price.standardize and not category.standardize
    variance = 1.25 ** 2 * (N ** 2 - 1) / 12  # of 100 + 1.25 i, i = 0..N-1
    assert price.loss.weight == pytest.approx(1 / variance, rel=1e-2)
    assert category.loss.metrics == ["sparse_categorical_accuracy"]
    assert project.training.early_stopping.enabled


def test_data_inside_the_project_folder_is_stored_relative(tmp_path):
    summary = houses()
    summary = DataSummary("csv", tmp_path / "data" / "t.csv", summary.rows, summary.columns)
    project = build_project(plan_project(summary, ["price"]), tmp_path / "p.json")
    assert project.data.path == "data/t.csv"


def test_layer_names_make_way_for_heads_named_like_them(tmp_path):
    summary = table({"x": cells(*(i / 3 for i in range(N))),
                     "dense_1": cells(*(i / 5 for i in range(N))),
                     "normalize": cells("a", "b", repeat=N // 2)})
    project = build_project(plan_project(summary, ["dense_1", "normalize"]), tmp_path / "p.json")
    assert check_project(project) == []
    assert {"dense_1_2", "normalize_2"} <= {layer.name for layer in project.trunk}


def test_images_get_a_conv_stack_and_a_shrunk_input(tmp_path):
    labels = summarize_rows(["shape"], [["ring"], ["plus"]] * 10)
    summary = DataSummary("image_folder", tmp_path / "labels.csv", 20, tuple(labels),
                          folder=tmp_path / "images", file_column="file",
                          image_shape=(480, 640, 3))
    project = build_project(plan_project(summary, ["shape"]), tmp_path / "p.json")
    assert check_project(project) == []
    assert project.inputs[0].shape == [96, 128, 3] == image_input_shape((480, 640, 3))
    assert [layer.kind for layer in project.trunk][:2] == ["Conv2D", "MaxPooling2D"]
    assert project.data.kind == "image_folder" and project.data.folder == "images"
    assert project.heads[0].task == Task.MULTICLASS


def test_npz_arrays_keep_their_names(tmp_path):
    columns = (ColumnSummary("x", "number", 20, 0, 0, 1, 0.5, 0.1, 51, (), (3,)),
               ColumnSummary("img", "number", 20, 0, 0, 1, 0.5, 0.1, 51, (), (8, 8, 1)),
               ColumnSummary("y", "integer", 20, 2, 0, 2, 1, 0.5, 3, ("0", "1", "2")))
    summary = DataSummary("npz", tmp_path / "d.npz", 20, columns)
    project = build_project(plan_project(summary, ["y"]), tmp_path / "p.json")
    assert check_project(project) == []
    assert project.input_names == ["x", "img"]
    assert project.heads[0].name == "y" and project.heads[0].units == 3
    kinds = [layer.kind for layer in project.trunk]
    assert "Concatenate" in kinds and "Normalization" in kinds and "Conv2D" in kinds


@pytest.mark.parametrize("side, pools", [(6, 0), (8, 1), (16, 2), (300, 2)])
def test_small_images_are_pooled_less(tmp_path, side, pools):
    labels = summarize_rows(["shape"], [["ring"], ["plus"]] * 10)
    summary = DataSummary("image_folder", tmp_path / "labels.csv", 20, tuple(labels),
                          folder=tmp_path / "images", file_column="file",
                          image_shape=(side, side, 1))
    project = build_project(plan_project(summary, ["shape"]), tmp_path / "p.json")
    assert [layer.kind for layer in project.trunk].count("MaxPooling2D") == pools
