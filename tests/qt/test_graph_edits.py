"""The canvas' edits on projects (no widgets): only the connections an edit is about change."""

from __future__ import annotations

import pytest

from mogui.core.project import HeadSpec, InputSpec, LayerSpec, Project
from mogui.core.validation import check_project
from mogui.qt.graph_edits import (
    EditRefused,
    add_branch,
    connect,
    feeds_of,
    insert_after,
    insert_on_edge,
    remove_boxes,
)


def blank() -> Project:
    """One input and one head, nothing between them."""
    return Project(name="Blank", inputs=[InputSpec(name="x", shape=[8])],
                   heads=[HeadSpec(name="y", task="regression", units=1)])


def two_heads() -> Project:
    """x -> a -> b, feeding heads p (through its own layer h) and q."""
    project = blank()
    project.trunk = [LayerSpec(name="a", kind="Dense"), LayerSpec(name="b", kind="Dense")]
    project.heads = [HeadSpec(name="p", task="regression", units=1,
                              layers=[LayerSpec(name="h", kind="Dense")]),
                     HeadSpec(name="q", task="regression", units=1)]
    return project


def changed(before: dict, after: dict) -> dict:
    """The boxes whose feeds differ (or are new)."""
    return {name: feeds for name, feeds in after.items() if before.get(name) != feeds}


def test_building_two_branches_and_a_merge_from_a_blank_project():
    project = blank()
    insert_on_edge(project, "Dense", "dense", "x", "y")
    assert [layer.name for layer in project.trunk] == ["dense"]  # shared: the trunk
    add_branch(project, "Dense", "dense_2", "x")
    path = connect(project, "dense_2", "y", {"dense": (None, 64), "dense_2": (None, 32)})
    feeds = feeds_of(project)
    assert feeds["concatenate"] == ("dense", "dense_2") and feeds["y"] == ("concatenate",)
    assert feeds["dense"] == ("x",) and feeds["dense_2"] == ("x",)
    assert path == "trunk[2]"
    assert check_project(project) == []


def test_same_shapes_merge_with_add():
    project = blank()
    insert_on_edge(project, "Dense", "dense", "x", "y")
    add_branch(project, "Dense", "dense_2", "x")
    connect(project, "dense_2", "y", {"dense": (None, 64), "dense_2": (None, 64)})
    assert feeds_of(project)["add"] == ("dense", "dense_2")


def test_insert_on_an_edge_changes_only_that_edge():
    project = two_heads()
    before = feeds_of(project)
    insert_on_edge(project, "Dropout", "drop", "b", "q")  # b feeds p's layer too
    assert changed(before, feeds_of(project)) == {"drop": ("b",), "q": ("drop",)}
    assert project.heads[1].layers[0].name == "drop"
    before = feeds_of(project)
    insert_on_edge(project, "Dropout", "drop_2", "a", "b")
    assert changed(before, feeds_of(project)) == {"drop_2": ("a",), "b": ("drop_2",)}
    assert check_project(project) == []


def test_insert_after_takes_over_what_the_box_fed():
    project = two_heads()
    before = feeds_of(project)
    insert_after(project, "BatchNormalization", "bn", "b")
    assert changed(before, feeds_of(project)) == {"bn": ("b",), "h": ("bn",), "q": ("bn",)}
    insert_after(project, "Dropout", "drop", "h")  # the head's last layer: before its output
    assert feeds_of(project)["p"] == ("drop",)
    with pytest.raises(EditRefused, match="end of the model"):
        insert_after(project, "Dense", "nope", "p")


def test_a_branch_from_the_trunks_end_keeps_the_heads_on_it():
    project = two_heads()
    before = feeds_of(project)
    add_branch(project, "Dense", "side", "b")
    assert changed(before, feeds_of(project)) == {"side": ("b",)}
    assert project.heads[1].source == "b"  # pinned: the trunk's last layer is now "side"
    with pytest.raises(EditRefused, match="last layer of head p"):
        add_branch(project, "Dense", "nope", "h")


def test_connect_into_a_merge_adds_an_input_and_brings_the_source_up():
    project = two_heads()
    project.trunk.insert(1, LayerSpec(name="cat", kind="Concatenate", inputs=["a", "x"]))
    project.trunk[2].inputs = ["a"]  # b
    project.trunk.append(LayerSpec(name="late", kind="Dense", inputs=["x"]))
    project.heads[1].source = "b"
    before = feeds_of(project)
    connect(project, "late", "cat")  # "late" stood after "cat": moved up before it
    assert changed(before, feeds_of(project)) == {"cat": ("a", "x", "late")}
    names = [layer.name for layer in project.trunk]
    assert names.index("late") < names.index("cat")
    assert check_project(project) == []


@pytest.mark.parametrize(("source", "target", "why"), [
    ("a", "x", "is an input"),
    ("p", "b", "head's output"),
    ("b", "a", "loop"),
    ("x", "a", "already feeds"),
    ("h", "q", "a layer of head p"),
    ("a", "a", "itself"),
])
def test_connections_that_make_no_sense_are_refused(source, target, why):
    project = two_heads()
    with pytest.raises(EditRefused, match=why):
        connect(project, source, target)


def test_remove_splices_the_gap_and_refuses_inputs_and_the_last_head():
    project = two_heads()
    before = feeds_of(project)
    remove_boxes(project, ["a"])
    assert changed(before, feeds_of(project)) == {"b": ("x",)}
    remove_boxes(project, ["h", "q"])  # a layer and a head at once
    assert feeds_of(project) == {"x": (), "b": ("x",), "p": ("b",)}
    with pytest.raises(EditRefused, match="is an input"):
        remove_boxes(project, ["x"])
    with pytest.raises(EditRefused, match="last head"):
        remove_boxes(project, ["p"])
    assert check_project(project) == []


def test_removing_a_merge_leaves_its_first_input_feeding_on():
    project = blank()
    insert_on_edge(project, "Dense", "dense", "x", "y")
    add_branch(project, "Dense", "dense_2", "x")
    connect(project, "dense_2", "y")
    remove_boxes(project, ["concatenate"])
    assert feeds_of(project)["y"] == ("dense",)
    assert check_project(project) == []


def test_duplicate_names_are_refused_before_any_edit():
    project = two_heads()
    project.trunk[1].name = "a"
    with pytest.raises(EditRefused, match="unique"):
        insert_after(project, "Dense", "new", "x")
