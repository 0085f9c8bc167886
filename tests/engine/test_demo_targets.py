"""The demo data's extra target quantities: values, determinism and loading for mapped heads."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from mogui.core.demo_targets import DEMO_QUANTITIES
from mogui.core.errors import DataError
from mogui.core.project import HeadSpec, Project
from mogui.engine.data import load_data, make_demo_shapes
from mogui.engine.data.targets import prepare_targets
from mogui.engine.plain_keras.demo_shapes import make_demo_arrays

#: sha256 prefixes of the demo arrays as made before the extra quantities existed.
PINNED = {
    (64, 32, 0): {"image": "bf3acff43df992d7", "bbox": "b81d9e91c564fc7a",
                  "classification": "a2d57754c84cdfcc"},
    (40, 16, 3): {"image": "8abd9d8fbba5318e", "bbox": "2c9ec5d9ffe2b716",
                  "classification": "76cb504d2a5da94a"},
}


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("args", list(PINNED))
def test_images_and_original_targets_are_unchanged(args):
    every = {q: q for q in DEMO_QUANTITIES}
    for data in (make_demo_shapes(*args), make_demo_shapes(*args, targets=every)):
        assert _digest(data.x["image"]) == PINNED[args]["image"]
        assert _digest(data.y["bbox"]) == PINNED[args]["bbox"]
        assert _digest(data.y["classification"]) == PINNED[args]["classification"]
    assert set(make_demo_shapes(*args).y) == {"bbox", "classification"}


def test_each_quantity_fits_the_head_its_metadata_describes():
    data = make_demo_shapes(48, 16, 1, targets={q: q for q in DEMO_QUANTITIES})
    for name, quantity in DEMO_QUANTITIES.items():
        head = HeadSpec(name=name, task=quantity.task, units=quantity.units)
        project = Project(inputs=[{"name": "image", "shape": [16, 16, 1]}], heads=[head])
        prepared = prepare_targets(project, {name: data.y[name]})[name]
        width = 1 if quantity.task == "multiclass" else quantity.units
        assert prepared.shape == (48, width), name


def test_quantities_describe_the_drawn_shape():
    _, boxes, labels = make_demo_arrays(60, 32, 2)
    y = make_demo_shapes(60, 32, 2, targets={q: q for q in DEMO_QUANTITIES}).y
    label = labels[:, 0]
    np.testing.assert_array_equal(y["is_round"][:, 0], np.isin(label, (1, 4)))
    np.testing.assert_array_equal(y["is_hollow"][:, 0], np.isin(label, (4, 5)))
    np.testing.assert_array_equal(y["traits"], np.stack(
        [np.isin(label, (1, 4)), np.isin(label, (4, 5)), ~np.isin(label, (1, 4))], axis=1))
    np.testing.assert_array_equal(y["class_onehot"].argmax(axis=1), label)
    assert (y["center"] > boxes[:, :2]).all() and (y["center"] < boxes[:, 2:]).all()
    np.testing.assert_allclose(y["size"][:, 0], (boxes[:, 2:] - boxes[:, :2]).mean(axis=1))
    assert 0.0 < y["size"].min() and y["size"].max() <= 1.0


def test_load_data_feeds_a_mapped_third_head(demo_project):
    demo_project.heads.append(HeadSpec(name="roundness", task="binary", units=1))
    demo_project.data.targets = {"roundness": "is_round"}
    data = load_data(demo_project)
    assert set(data.y) == {"bbox", "classification", "roundness"}
    reference = make_demo_shapes(64, 32, 0, targets={"r": "is_round"})
    np.testing.assert_array_equal(data.y["roundness"], reference.y["r"])


def test_unmapped_head_names_the_quantities_and_the_data_dialog(demo_project):
    demo_project.heads.append(HeadSpec(name="is_big", task="binary", units=1))
    with pytest.raises(DataError) as info:
        load_data(demo_project)
    message = str(info.value)
    assert "Head 'is_big' has no demo target" in message
    assert "is_round, is_hollow" in message and "Edit ▸ Data…" in message


def test_head_without_loss_needs_no_demo_target(demo_project):
    demo_project.heads.append(HeadSpec(name="spare", task="regression", units=3,
                                       loss={"enabled": False}))
    data = load_data(demo_project)
    assert "spare" not in data.y
