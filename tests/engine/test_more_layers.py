"""The pooling, upsampling, recurrent, attention, preprocessing, augmentation and reshaping
kinds: each builds, its shape-table row and parameter count agree with Keras (and with the
count made before building), a bad configuration gets a plain message, and the exported
script builds the same model."""

from __future__ import annotations

import runpy
from typing import Any

import keras
import numpy as np
import pytest

from mogui.core.errors import BuildError
from mogui.core.project import Project
from mogui.core.sizes import parameter_counts
from mogui.core.validation import ProjectError, check_project
from mogui.engine.export.codegen import generate_script
from mogui.engine.model import build_model, inspect_project

IMAGE = {"name": "img", "shape": [8, 8, 3]}
SEQUENCE = {"name": "seq", "shape": [6, 5]}
FLAT = {"name": "x", "shape": [64]}

# case id -> (input, kind, params, output shape with the batch axis)
CASES: dict[str, tuple[dict[str, Any], str, dict[str, Any], tuple[int | None, ...]]] = {
    "AveragePooling1D": (SEQUENCE, "AveragePooling1D", {"pool_size": 2}, (None, 3, 5)),
    "AveragePooling2D": (IMAGE, "AveragePooling2D", {"pool_size": 3, "padding": "same"},
                         (None, 3, 3, 3)),
    "GlobalAveragePooling1D": (SEQUENCE, "GlobalAveragePooling1D", {}, (None, 5)),
    "GlobalAveragePooling2D": (IMAGE, "GlobalAveragePooling2D", {}, (None, 3)),
    "Conv2DTranspose-valid": (IMAGE, "Conv2DTranspose", {"filters": 4, "kernel_size": 3,
                                                         "strides": 2, "padding": "valid"},
                              (None, 17, 17, 4)),
    "Conv2DTranspose-same": (IMAGE, "Conv2DTranspose", {"filters": 2, "kernel_size": 5,
                                                        "strides": 3}, (None, 24, 24, 2)),
    "UpSampling2D": (IMAGE, "UpSampling2D", {"size": 3, "interpolation": "bilinear"},
                     (None, 24, 24, 3)),
    "Bidirectional-LSTM": (SEQUENCE, "Bidirectional", {"units": 4}, (None, 8)),
    "Bidirectional-GRU-sequences-sum": (SEQUENCE, "Bidirectional",
                                        {"layer": "GRU", "units": 3, "return_sequences": True,
                                         "merge_mode": "sum"}, (None, 6, 3)),
    "MultiHeadAttention-self": (SEQUENCE, "MultiHeadAttention", {"num_heads": 2, "key_dim": 3},
                                (None, 6, 5)),
    "LayerNormalization": (SEQUENCE, "LayerNormalization", {}, (None, 6, 5)),
    "Rescaling": (IMAGE, "Rescaling", {"scale": 2.0, "offset": -1.0}, (None, 8, 8, 3)),
    "RandomFlip": (IMAGE, "RandomFlip", {"mode": "vertical"}, (None, 8, 8, 3)),
    "RandomRotation": (IMAGE, "RandomRotation", {"factor": 0.25, "fill_mode": "nearest"},
                       (None, 8, 8, 3)),
    "RandomZoom": (IMAGE, "RandomZoom", {"height_factor": 0.3}, (None, 8, 8, 3)),
    "Reshape": (SEQUENCE, "Reshape", {"target_shape": [3, -1]}, (None, 3, 10)),
    "Permute": (IMAGE, "Permute", {"dims": [3, 1, 2]}, (None, 3, 8, 8)),
}


def project_of(inputs: list[dict[str, Any]], trunk: list[dict[str, Any]]) -> Project:
    return Project.model_validate({
        "inputs": inputs, "trunk": trunk,
        "heads": [{"name": "out", "task": "regression", "units": 2}]})


def one_layer(inp: dict[str, Any], kind: str, params: dict[str, Any]) -> Project:
    return project_of([inp], [{"name": "layer", "kind": kind, "params": params},
                              {"name": "flat", "kind": "Flatten"}])


@pytest.mark.parametrize("case", sorted(CASES))
def test_builds_and_its_row_and_count_agree_with_keras(case):
    inp, kind, params, expected = CASES[case]
    project = one_layer(inp, kind, params)
    assert check_project(project) == []
    model = build_model(project)
    layer = model.get_layer("layer")
    assert tuple(layer.output.shape) == expected
    row = inspect_project(project).row("layer")
    assert (row.kind, row.output_shape, row.error) == (kind, expected, None)
    assert row.param_count == layer.count_params() == parameter_counts(project)["layer"]
    prediction = model.predict({inp["name"]: np.ones((2, *inp["shape"]), "float32")},
                               verbose=0)
    assert prediction["out"].shape == (2, 2)


@pytest.mark.parametrize(("inputs", "expected_params"), [
    # query (6, 5) and value (7, 4): 2 heads of 3 project 5, 4, 4 and back to 5
    (["seq", "mem"], 2 * 3 * (5 + 1) + 2 * 3 * (4 + 1) * 2 + 2 * 3 * 5 + 5),
    # and a key of its own (7, 2)
    (["seq", "mem", "keys"], 2 * 3 * (5 + 1) + 2 * 3 * (2 + 1) + 2 * 3 * (4 + 1)
     + 2 * 3 * 5 + 5),
])
def test_attention_takes_query_value_and_key(inputs, expected_params):
    project = project_of(
        [SEQUENCE, {"name": "mem", "shape": [7, 4]}, {"name": "keys", "shape": [7, 2]}],
        [{"name": "attend", "kind": "MultiHeadAttention", "inputs": inputs,
          "params": {"num_heads": 2, "key_dim": 3}},
         {"name": "pool", "kind": "GlobalAveragePooling1D"}])
    model = build_model(project)
    layer = model.get_layer("attend")
    assert tuple(layer.output.shape) == (None, 6, 5)  # the query's steps and features
    assert layer.count_params() == expected_params == parameter_counts(project)["attend"]
    assert inspect_project(project).row("attend").param_count == expected_params


def build_error(project: Project) -> str:
    with pytest.raises(BuildError) as info:
        build_model(project)
    assert info.value.layer == "bad"
    return str(info.value)


IMAGE_AXES = "4-D input (batch, height, width, channels)"


@pytest.mark.parametrize(("inp", "kind", "params", "message"), [
    (FLAT, "Conv2DTranspose", {}, f"Conv2DTranspose 'bad' needs a {IMAGE_AXES} but 'x' gives "
     "(None, 64); add a Reshape to (height, width, channels) before it"),
    (SEQUENCE, "UpSampling2D", {}, f"UpSampling2D 'bad' needs a {IMAGE_AXES} but 'seq' gives "
     "(None, 6, 5); add a Reshape to (height, width, channels) before it"),
    (FLAT, "RandomFlip", {}, f"RandomFlip 'bad' needs a {IMAGE_AXES} but 'x' gives (None, 64); "
     "it changes images: put it after an image input of shape (height, width, channels), "
     "before the first Conv2D"),
    (IMAGE, "AveragePooling1D", {}, "AveragePooling1D 'bad' needs a 3-D input (batch, steps, "
     "channels) but 'img' gives (None, 8, 8, 3); use AveragePooling2D or add a Reshape before "
     "it"),
    (FLAT, "Bidirectional", {}, "Bidirectional 'bad' needs a 3-D input (batch, steps, "
     "features) but 'x' gives (None, 64); add a Reshape to (steps, features) before it, or an "
     "Embedding if the input holds token ids"),
    (IMAGE, "MultiHeadAttention", {}, "MultiHeadAttention 'bad' needs a 3-D input (batch, "
     "steps, features) but 'img' gives (None, 8, 8, 3); add a Reshape to (steps, features) "
     "before it"),
    (SEQUENCE, "Permute", {"dims": [3, 2, 1]}, "Permute 'bad' reorders 3 axes (dims 3, 2, 1) "
     "but 'seq' gives (None, 6, 5), which has 2 after the batch axis; list each of the axes "
     "1..2 once in dims"),
])
def test_an_input_that_does_not_fit_gets_a_plain_message(inp, kind, params, message):
    project = project_of([inp], [{"name": "bad", "kind": kind, "params": params},
                                 {"name": "flat", "kind": "Flatten"}])
    assert build_error(project) == message
    row = inspect_project(project).row("bad")
    assert row.error == message


def test_a_window_larger_than_its_input_is_named():
    project = one_layer(SEQUENCE, "AveragePooling1D", {"pool_size": 7})
    project.trunk[0].name = "bad"
    message = build_error(project)
    assert message.startswith("AveragePooling1D 'bad' gets an input too small for its window: "
                              "'seq' gives (None, 6, 5), but pool_size is 7")


def test_attention_value_and_key_of_different_lengths():
    project = project_of(
        [SEQUENCE, {"name": "mem", "shape": [7, 4]}, {"name": "keys", "shape": [9, 4]}],
        [{"name": "bad", "kind": "MultiHeadAttention", "inputs": ["seq", "mem", "keys"]},
         {"name": "flat", "kind": "Flatten"}])
    assert build_error(project) == (
        "MultiHeadAttention 'bad' pairs each value step with a key step, but 'mem' gives "
        "(None, 7, 4) and 'keys' gives (None, 9, 4): 7 and 9 steps; give the key as many "
        "steps as the value, or leave the key out (the value is the key then)")


@pytest.mark.parametrize(("kind", "params", "inputs", "problem"), [
    ("MultiHeadAttention", {}, ["seq", "seq", "seq", "seq"],
     "trunk[0].inputs: MultiHeadAttention takes at most 3 inputs (query, value, key), got 4; "
     "merge the others with Concatenate or Add first"),
    ("Permute", {"dims": [1, 1]}, [], "trunk[0].params.dims must list each of the axes 1..2 "
     "once, in the new order (axis 0, the batch, stays), e.g. 2, 1"),
    ("Bidirectional", {"layer": "SimpleRNN"}, [], "trunk[0].params.layer must be one of "),
    ("RandomRotation", {"factor": 0}, [], "trunk[0].params.factor must be > 0"),
    ("RandomZoom", {"height_factor": 1}, [], "trunk[0].params.height_factor must be < 1"),
    ("UpSampling2D", {"size": 0}, [], "trunk[0].params.size must be >= 1"),
    ("Conv2DTranspose", {"padding": "full"}, [], "trunk[0].params.padding must be one of "),
    ("MultiHeadAttention", {"num_heads": 0}, [], "trunk[0].params.num_heads must be >= 1"),
])
def test_a_bad_parameter_is_named_by_its_field(kind, params, inputs, problem):
    project = project_of([SEQUENCE], [{"name": "bad", "kind": kind, "params": params,
                                       "inputs": inputs}])
    problems = [str(p) for p in check_project(project)]
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    with pytest.raises(ProjectError):
        build_model(project)


EVERY_NEW_KIND = project_of(
    [IMAGE, SEQUENCE, {"name": "mem", "shape": [4, 6]}, {"name": "keys", "shape": [4, 3]}],
    [{"name": "flip", "kind": "RandomFlip", "inputs": ["img"]},
     {"name": "turn", "kind": "RandomRotation"},
     {"name": "zoom", "kind": "RandomZoom"},
     {"name": "scale", "kind": "Rescaling"},
     {"name": "up", "kind": "Conv2DTranspose", "params": {"filters": 4, "strides": 2}},
     {"name": "bigger", "kind": "UpSampling2D"},
     {"name": "avg2", "kind": "AveragePooling2D", "params": {"pool_size": 4}},
     {"name": "gap2", "kind": "GlobalAveragePooling2D"},
     {"name": "swap", "kind": "Permute", "inputs": ["seq"], "params": {"dims": [2, 1]}},
     {"name": "back", "kind": "Permute", "params": {"dims": [2, 1]}},
     {"name": "norm", "kind": "LayerNormalization"},
     {"name": "self_attention", "kind": "MultiHeadAttention",
      "params": {"num_heads": 2, "key_dim": 4}},
     {"name": "cross", "kind": "MultiHeadAttention", "inputs": ["self_attention", "mem"],
      "params": {"num_heads": 1, "key_dim": 2, "dropout": 0.1}},
     {"name": "keyed", "kind": "MultiHeadAttention", "inputs": ["cross", "mem", "keys"],
      "params": {"num_heads": 3, "key_dim": 2}},
     {"name": "both_ways", "kind": "Bidirectional",
      "params": {"layer": "GRU", "units": 3, "return_sequences": True}},
     {"name": "avg1", "kind": "AveragePooling1D", "params": {"pool_size": 2}},
     {"name": "gap1", "kind": "GlobalAveragePooling1D"},
     {"name": "grid", "kind": "Reshape", "params": {"target_shape": [2, 3]}},
     {"name": "flat", "kind": "Flatten"},
     {"name": "joined", "kind": "Concatenate", "inputs": ["gap2", "flat"]},
     {"name": "summary", "kind": "Bidirectional", "inputs": ["back"],
      "params": {"units": 2, "merge_mode": "ave"}},
     {"name": "all", "kind": "Concatenate", "inputs": ["joined", "summary"]}])


def test_every_new_kind_in_one_model_counts_as_keras_does():
    inspection = inspect_project(EVERY_NEW_KIND)
    assert inspection.error is None
    counts = {r.name: r.param_count for r in inspection.rows if r.kind != "Input"}
    assert parameter_counts(EVERY_NEW_KIND) == counts
    assert build_model(EVERY_NEW_KIND).count_params() == sum(counts.values())


def test_the_exported_script_builds_the_same_model(tmp_path):
    script = tmp_path / "train_every_kind.py"
    script.write_text(generate_script(EVERY_NEW_KIND), encoding="utf-8")
    exported = runpy.run_path(str(script), run_name="exported_script")
    keras.utils.set_random_seed(0)
    mogui = build_model(EVERY_NEW_KIND)
    keras.utils.set_random_seed(0)
    theirs = exported["build_model"]()
    assert [layer.name for layer in theirs.layers] == [layer.name for layer in mogui.layers]
    for mine, other in zip(mogui.layers, theirs.layers, strict=True):
        assert type(mine) is type(other), mine.name
        assert other.get_config() == mine.get_config(), mine.name
        assert other.output.shape == mine.output.shape, mine.name
        for a, b in zip(mine.get_weights(), other.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # the same random initial weights
    assert theirs.count_params() == mogui.count_params()
