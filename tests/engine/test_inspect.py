"""inspect_project and format_shape with real Keras layers."""

from __future__ import annotations

from mogui.core.io import load_example
from mogui.engine.model.build import build_model
from mogui.engine.model.shapes import format_shape, inspect_project
from tests.engine.test_build import make_project


def test_demo_rows_in_order_with_sections(demo_project):
    inspection = inspect_project(demo_project)
    assert inspection.error is None
    names = [r.name for r in inspection.rows]
    assert names == ["image", "conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "flatten",
                     "shared_dense", "bbox_hidden", "bbox", "class_hidden", "classification"]
    sections = {r.name: (r.section, r.head) for r in inspection.rows}
    assert sections["image"] == ("input", None)
    assert sections["shared_dense"] == ("trunk", None)
    assert sections["bbox_hidden"] == ("head", "bbox")
    assert sections["bbox"] == ("head", "bbox")
    assert sections["classification"] == ("head", "classification")
    row = inspection.row
    assert row("image").output_shape == (None, 32, 32, 1)
    assert row("pool3").output_shape == (None, 4, 4, 32)
    assert row("flatten").output_shape == (None, 512)
    assert row("bbox").output_shape == (None, 4)
    assert row("classification").output_shape == (None, 6)
    assert row("class_hidden").inputs == ("shared_dense",)
    assert row("image").param_count == 0 and row("image").kind == "Input"
    assert row("conv1").param_count == 3 * 3 * 1 * 16 + 16
    assert all(r.error is None for r in inspection.rows)


def test_param_counts_match_the_built_model(demo_project):
    inspection = inspect_project(demo_project)
    model = build_model(demo_project)
    assert inspection.total_params == model.count_params()
    for r in inspection.rows[1:]:
        assert r.param_count == model.get_layer(r.name).count_params(), r.name


def test_multi_input_rows():
    project = load_example("multi_input")
    inspection = inspect_project(project)
    assert inspection.error is None
    assert [r.name for r in inspection.rows if r.section == "input"] == ["sensors", "tokens"]
    assert inspection.row("merge").inputs == ("sensor_dense", "token_pool")
    assert inspection.row("token_embedding").output_shape == (None, 20, 8)
    assert inspection.row("tags").output_shape == (None, 5)
    assert inspection.total_params == build_model(project).count_params()


def test_failing_layer_row_and_later_rows():
    project = make_project(
        [{"name": "dense1", "kind": "Dense", "params": {"units": 64}},
         {"name": "conv1", "kind": "Conv2D"},
         {"name": "flat", "kind": "Flatten"}],
        heads=[{"name": "out", "task": "regression", "units": 1,
                "layers": [{"name": "out_hidden", "kind": "Dense"}]}])
    inspection = inspect_project(project)
    assert inspection.error is not None and inspection.error.layer == "conv1"
    rows = {r.name: r for r in inspection.rows}
    assert [r.name for r in inspection.rows] == ["x", "dense1", "conv1", "flat", "out_hidden",
                                                 "out"]
    assert rows["dense1"].output_shape == (None, 64) and rows["dense1"].error is None
    assert rows["conv1"].output_shape is None
    assert rows["conv1"].error == str(inspection.error)
    assert "needs a 4-D input" in rows["conv1"].error
    for name in ("flat", "out_hidden", "out"):
        assert rows[name].output_shape is None and rows[name].error is None
        assert rows[name].param_count == 0
    assert inspection.total_params == 64 * 64 + 64


def test_invalid_params_do_not_raise_and_name_the_field():
    project = make_project([{"name": "d", "kind": "Dense", "params": {"units": -3}}])
    inspection = inspect_project(project)
    assert inspection.error is not None and inspection.error.layer == "d"
    assert "params.units must be >= 1" in str(inspection.error)
    assert inspection.row("x").output_shape == (None, 64)


def test_unknown_reference_and_duplicate_names_do_not_raise():
    unknown = make_project([{"name": "d", "kind": "Dense", "inputs": ["ghost"]}])
    inspection = inspect_project(unknown)
    assert inspection.error.layer == "d" and "'ghost'" in str(inspection.error)

    duplicate = make_project([{"name": "d", "kind": "Dense"}, {"name": "d", "kind": "Dense"}])
    inspection = inspect_project(duplicate)
    assert inspection.error.layer == "d" and "used twice" in str(inspection.error)
    assert inspection.rows[1].error is None and inspection.rows[2].error is not None


def test_merge_layer_without_enough_inputs():
    project = make_project([{"name": "sum", "kind": "Add"}])
    inspection = inspect_project(project)
    assert inspection.error.layer == "sum"
    assert "at least 2 inputs" in str(inspection.error)


def test_inspection_of_shipped_demo():
    project = load_example("bbox_classification")
    inspection = inspect_project(project)
    assert inspection.error is None
    assert inspection.row("flatten").output_shape == (None, 2048)


def test_format_shape():
    assert format_shape((None, 32, 32, 16)) == "(None, 32, 32, 16)"
    assert format_shape((None,)) == "(None,)"
    assert format_shape([4, 2]) == "(4, 2)"
    assert format_shape(None) == "-"


def test_a_model_over_the_size_limit_is_not_built_by_inspection():
    """A billion units would allocate gigabytes of weights: inspection refuses, naming it."""
    project = make_project([{"name": "huge", "kind": "Dense",
                             "params": {"units": 1_000_000_000}}])
    inspection = inspect_project(project)
    assert not inspection.ok and inspection.rows == []
    assert inspection.error.layer == "huge"
    assert "more than the 1,000,000 units" in str(inspection.error)


def _chain(units: list[int]):
    return make_project([{"name": f"d{i}", "kind": "Dense", "params": {"units": u}}
                         for i, u in enumerate(units)],
                        heads=[{"name": "a", "task": "regression", "units": 1},
                               {"name": "b", "task": "multiclass", "units": 3}])


def _table(inspection):
    return [(r.name, r.output_shape, r.param_count, r.error) for r in inspection.rows]


def test_an_edit_rebuilds_only_the_steps_it_changed():
    """Changing d2's units changes d2 (its width) and d3 (its input): 2 of 8 steps are built."""
    from mogui.engine.model.build import StepCache

    cache = StepCache()
    project = _chain([8, 8, 8, 8, 8])
    first = inspect_project(project, cache)
    assert (cache.hits, cache.misses) == (0, 7)  # 5 layers and 2 heads; inputs are free
    project.trunk[2].params["units"] = 16
    cache.hits = cache.misses = 0
    edited = inspect_project(project, cache)
    assert (cache.hits, cache.misses) == (5, 2)
    assert _table(edited) == _table(inspect_project(project, None))  # as a full build
    assert edited.total_params == inspect_project(project, None).total_params
    assert edited.row("d3").param_count == 16 * 8 + 8
    assert _table(first) != _table(edited)


def test_cached_errors_and_undo_give_the_full_builds_answers():
    from mogui.engine.model.build import StepCache

    cache = StepCache()
    project = _chain([8, 8, 8])
    good = _table(inspect_project(project, cache))
    project.trunk[1].kind = "Conv2D"  # a Dense output is not an image
    project.trunk[1].params = {"filters": 4, "kernel_size": 3}
    broken = inspect_project(project, cache)
    again = inspect_project(project, cache)  # the failure comes from the cache now
    reference = inspect_project(project, None)
    assert str(broken.error) == str(again.error) == str(reference.error)
    assert again.error.layer == reference.error.layer == "d1"
    project.trunk[1].kind, project.trunk[1].params = "Dense", {"units": 8}
    assert _table(inspect_project(project, cache)) == good
