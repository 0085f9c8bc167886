"""Demo shapes, splitting, npz loading and the predict-the-mean baseline."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.core.io import load_example
from mogui.core.project import NpzData
from mogui.engine.data import (
    SHAPE_CLASSES,
    Dataset,
    check_dataset,
    load_data,
    make_demo_shapes,
    predict_mean_baseline,
)

# -- demo shapes --------------------------------------------------------------------------------


def test_demo_shapes_arrays_have_the_documented_form():
    data = make_demo_shapes(96, 32, seed=1)
    image, bbox, labels = data.x["image"], data.y["bbox"], data.y["classification"]
    assert image.shape == (96, 32, 32, 1) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert bbox.shape == (96, 4) and bbox.dtype == np.float32
    assert labels.shape == (96, 1) and labels.dtype == np.int32
    assert set(np.unique(labels)) == set(range(len(SHAPE_CLASSES)))
    assert (bbox[:, 0] < bbox[:, 2]).all() and (bbox[:, 1] < bbox[:, 3]).all()
    assert (bbox >= 0).all() and (bbox <= 1).all()
    widths = (bbox[:, 2] - bbox[:, 0]) * 32
    assert widths.min() >= 2 and widths.max() <= 17


def test_demo_shapes_are_deterministic_by_seed_and_differ_across_seeds():
    a, b = make_demo_shapes(32, 24, seed=5), make_demo_shapes(32, 24, seed=5)
    c = make_demo_shapes(32, 24, seed=6)
    for key in a.x:
        np.testing.assert_array_equal(a.x[key], b.x[key])
    for key in a.y:
        np.testing.assert_array_equal(a.y[key], b.y[key])
    assert not np.array_equal(a.x["image"], c.x["image"])
    assert not np.array_equal(a.y["bbox"], c.y["bbox"])


def test_bbox_matches_the_drawn_pixels():
    size = 40
    data = make_demo_shapes(60, size, seed=2)
    lit = data.x["image"][..., 0] > 0.3  # shapes are >= 0.5, background <= 0.1
    for i in range(60):
        rows, cols = np.nonzero(lit[i])
        expected = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]) / size
        np.testing.assert_allclose(data.y["bbox"][i], expected, atol=1e-6)


def test_each_class_draws_a_distinct_shape():
    data = make_demo_shapes(300, 48, seed=0)
    lit = data.x["image"][..., 0] > 0.3
    labels = data.y["classification"][:, 0]
    box = np.round(data.y["bbox"] * 48).astype(int)
    areas = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
    fill = lit.sum(axis=(1, 2)) / areas  # share of the bounding box that is lit
    mean_fill = [fill[labels == k].mean() for k in range(len(SHAPE_CLASSES))]
    assert mean_fill[0] > 0.95  # filled square fills its box
    assert 0.7 < mean_fill[1] < 0.9  # circle: about pi/4
    assert 0.4 < mean_fill[2] < 0.65  # triangle: about half
    assert max(mean_fill[3], mean_fill[4], mean_fill[5]) < 0.7  # plus, ring, hollow square
    centre = lit[np.arange(300), (box[:, 1] + box[:, 3]) // 2, (box[:, 0] + box[:, 2]) // 2]
    assert centre[labels == 3].all()  # a plus is lit at its centre
    assert not centre[labels == 4].any()  # a ring is not
    assert not centre[labels == 5].any()  # nor is a hollow square


# -- Dataset ------------------------------------------------------------------------------------


def _numbered(n: int) -> Dataset:
    return Dataset(x={"a": np.arange(n, dtype=np.float32)[:, None]},
                   y={"t": np.arange(n, dtype=np.float32)})


def test_split_is_deterministic_by_seed_and_disjoint():
    data = _numbered(50)
    train1, val1 = data.split(0.2, seed=3)
    train2, val2 = data.split(0.2, seed=3)
    _, val3 = data.split(0.2, seed=4)
    assert val1 is not None and val2 is not None and val3 is not None
    assert train1.num_samples == 40 and val1.num_samples == 10
    np.testing.assert_array_equal(val1.x["a"], val2.x["a"])
    np.testing.assert_array_equal(train1.y["t"], train2.y["t"])
    assert not np.array_equal(val1.x["a"], val3.x["a"])
    together = np.sort(np.concatenate([train1.y["t"], val1.y["t"]]))
    np.testing.assert_array_equal(together, np.arange(50))
    np.testing.assert_array_equal(train1.x["a"][:, 0], train1.y["t"])  # rows stay aligned


def test_split_without_shuffle_takes_the_last_rows_and_zero_split_gives_no_validation():
    train, val = _numbered(10).split(0.3, seed=0, shuffle=False)
    assert val is not None
    np.testing.assert_array_equal(val.y["t"], [7, 8, 9])
    np.testing.assert_array_equal(train.y["t"], np.arange(7))
    whole, none = _numbered(10).split(0.0, seed=0)
    assert none is None and whole.num_samples == 10


def test_take_returns_the_first_rows():
    part = _numbered(10).take(4)
    assert part.num_samples == 4
    np.testing.assert_array_equal(part.y["t"], np.arange(4))


# -- load_data: demo ----------------------------------------------------------------------------


def test_load_data_demo_matches_the_project(demo_project):
    data = load_data(demo_project)
    assert data.num_samples == 64
    assert data.x["image"].shape == (64, 32, 32, 1)
    assert set(data.y) == {"bbox", "classification"}


def test_load_data_demo_names_the_setting_to_change_when_sizes_disagree(demo_project):
    demo_project.inputs[0].shape = [64, 64, 1]
    with pytest.raises(DataError, match=r"\[32, 32, 1\]") as info:
        load_data(demo_project)
    assert "image size" in str(info.value)


def test_load_data_demo_needs_an_input_named_image(demo_project):
    demo_project.inputs[0].name = "picture"
    with pytest.raises(DataError, match="'picture'"):
        load_data(demo_project)


# -- load_data: npz -----------------------------------------------------------------------------


@pytest.fixture
def npz_project(tmp_path):
    """The shipped multi-input project pointing at a small npz file in ``tmp_path``."""
    project = load_example("multi_input")
    rng = np.random.default_rng(0)
    arrays = {
        "sensors": rng.normal(size=(20, 16)).astype("float32"),
        "tokens": rng.integers(0, 50, size=(20, 20)).astype("int32"),
        "temperature": rng.normal(size=(20, 1)).astype("float32"),
        "alarm": rng.integers(0, 2, size=(20, 1)).astype("float32"),
        "tags": rng.integers(0, 2, size=(20, 5)).astype("float32"),
    }
    project.data = NpzData(path="data.npz")
    return project, arrays


def _save(tmp_path, arrays):
    np.savez(tmp_path / "data.npz", **arrays)


def test_load_npz_relative_to_project_dir(npz_project, tmp_path):
    project, arrays = npz_project
    _save(tmp_path, arrays)
    data = load_data(project, tmp_path)
    assert set(data.x) == {"sensors", "tokens"} and set(data.y) == {"temperature", "alarm", "tags"}
    assert data.x["tokens"].dtype == np.int32
    np.testing.assert_array_equal(data.y["tags"], arrays["tags"])


def test_load_shipped_multi_input_example():
    from mogui.core.io import example_path

    project = load_example("multi_input")
    data = load_data(project, example_path("multi_input").parent)
    assert data.num_samples == 1200


def test_missing_npz_file(npz_project, tmp_path):
    project, _ = npz_project
    with pytest.raises(DataError, match="does not exist"):
        load_data(project, tmp_path)


def test_unreadable_npz_file(npz_project, tmp_path):
    project, _ = npz_project
    (tmp_path / "data.npz").write_text("not a zip")
    with pytest.raises(DataError, match="cannot be read"):
        load_data(project, tmp_path)


def test_missing_arrays_are_named_and_the_file_contents_listed(npz_project, tmp_path):
    project, arrays = npz_project
    del arrays["tokens"], arrays["alarm"]
    _save(tmp_path, arrays)
    with pytest.raises(DataError) as info:
        load_data(project, tmp_path)
    message = str(info.value)
    assert "input 'tokens'" in message and "target 'alarm'" in message
    assert "'sensors', 'temperature', 'tags'" in message


def test_head_without_target_is_allowed_only_without_loss_and_metrics(npz_project, tmp_path):
    project, arrays = npz_project
    del arrays["alarm"]
    _save(tmp_path, arrays)
    project.head("alarm").loss.enabled = False
    with pytest.raises(DataError, match="target 'alarm'"):
        load_data(project, tmp_path)  # its metric still reads the target
    project.head("alarm").loss.metrics = []
    data = load_data(project, tmp_path)
    assert "alarm" not in data.y
    with pytest.raises(DataError, match="no target for head 'tags'"):
        check_dataset(project, Dataset(x=data.x, y={"temperature": data.y["temperature"]}))


def test_row_count_mismatch(npz_project, tmp_path):
    project, arrays = npz_project
    arrays["tags"] = arrays["tags"][:15]
    _save(tmp_path, arrays)
    with pytest.raises(DataError, match="different numbers of rows") as info:
        load_data(project, tmp_path)
    assert "'tags': 15" in str(info.value) and "'sensors': 20" in str(info.value)


def test_input_shape_mismatch(npz_project, tmp_path):
    project, arrays = npz_project
    arrays["sensors"] = arrays["sensors"][:, :12]
    _save(tmp_path, arrays)
    with pytest.raises(DataError, match=r"'sensors' has shape \[16\].*\[12\]"):
        load_data(project, tmp_path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs(npz_project, tmp_path, bad):
    project, arrays = npz_project
    arrays["sensors"][3, 2] = bad
    _save(tmp_path, arrays)
    with pytest.raises(DataError, match="'sensors'.*NaN or infinite.*1 sample"):
        load_data(project, tmp_path)


def test_fractional_values_for_an_integer_input(npz_project, tmp_path):
    project, arrays = npz_project
    arrays["tokens"] = arrays["tokens"].astype("float32") + 0.5
    _save(tmp_path, arrays)
    with pytest.raises(DataError, match="'tokens' is declared int32"):
        load_data(project, tmp_path)


# -- baseline -----------------------------------------------------------------------------------


def test_predict_mean_baseline_by_hand():
    train = Dataset(x={}, y={"r": np.array([[0.0], [2.0]], dtype=np.float32),
                             "c": np.array([[0], [1]], dtype=np.int32)})
    val = Dataset(x={}, y={"r": np.array([[1.0], [3.0]], dtype=np.float32),
                           "c": np.array([[1], [1]], dtype=np.int32)})
    baseline = predict_mean_baseline(train, val)
    assert baseline["r"] == pytest.approx(((1 - 1) ** 2 + (3 - 1) ** 2) / 2)
    assert baseline["c"] == pytest.approx(-np.log(0.5))


def test_predict_mean_baseline_uses_head_tasks(demo_project):
    data = load_data(demo_project)
    train, val = data.split(0.25, seed=0)
    baseline = predict_mean_baseline(train, val, demo_project)
    assert set(baseline) == {"bbox", "classification"}
    assert baseline["classification"] == pytest.approx(np.log(6), abs=0.3)
    assert 0.0 < baseline["bbox"] < 0.1
