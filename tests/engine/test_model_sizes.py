"""The size limits checked before a model is built: counts that agree with Keras, problems that
name the layer, and nothing built (no memory taken) for a model over the limit."""

from __future__ import annotations

import pytest

from mogui.core.project import Project
from mogui.core.sizes import MAX_PARAMETERS, MAX_UNITS, parameter_counts, size_problems
from mogui.core.validation import ProjectError, check_project
from mogui.engine.model import build_model
from mogui.engine.model.shapes import inspect_project

EVERY_KIND = {
    "inputs": [{"name": "img", "shape": [17, 13, 3]},
               {"name": "seq", "shape": [9], "dtype": "int32"},
               {"name": "ts", "shape": [11, 5]}],
    "trunk": [
        {"name": "c1", "kind": "Conv2D", "inputs": ["img"],
         "params": {"filters": 7, "kernel_size": 3, "strides": 2, "padding": "valid"}},
        {"name": "bn", "kind": "BatchNormalization"},
        {"name": "p1", "kind": "MaxPooling2D", "params": {"pool_size": 2, "padding": "same"}},
        {"name": "c2", "kind": "Conv2D", "params": {"filters": 5, "kernel_size": 2}},
        {"name": "fl", "kind": "Flatten"},
        {"name": "ln", "kind": "LayerNormalization"},
        {"name": "emb", "kind": "Embedding", "inputs": ["seq"],
         "params": {"input_dim": 50, "output_dim": 6}},
        {"name": "lstm", "kind": "LSTM", "params": {"units": 7, "return_sequences": True}},
        {"name": "gru", "kind": "GRU", "params": {"units": 4}},
        {"name": "c1d", "kind": "Conv1D", "inputs": ["ts"],
         "params": {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "valid"}},
        {"name": "mp1", "kind": "MaxPooling1D", "params": {"pool_size": 2}},
        {"name": "ga1", "kind": "GlobalAveragePooling1D"},
        {"name": "rs", "kind": "Reshape", "inputs": ["fl"], "params": {"target_shape": [-1, 5]}},
        {"name": "ga1b", "kind": "GlobalAveragePooling1D"},
        {"name": "cat", "kind": "Concatenate", "inputs": ["gru", "ga1", "ga1b"]},
        {"name": "d", "kind": "Dense", "params": {"units": 12, "use_bias": False}},
        {"name": "drop", "kind": "Dropout"},
        {"name": "d2", "kind": "Dense", "params": {"units": 12}},
        {"name": "add", "kind": "Add", "inputs": ["drop", "d2"]},
        {"name": "act", "kind": "Activation"},
    ],
    "heads": [
        {"name": "h1", "task": "regression", "units": 3,
         "layers": [{"name": "hd", "kind": "Dense", "params": {"units": 5}}]},
        {"name": "h2", "task": "multiclass", "units": 4, "source": "c2",
         "layers": [{"name": "gap", "kind": "GlobalAveragePooling2D"}]},
    ],
}


def dense(units: int, features: int = 3, head_units: int = 1) -> Project:
    return Project.model_validate({
        "inputs": [{"name": "x", "shape": [features]}],
        "trunk": [{"name": "wide", "kind": "Dense", "params": {"units": units}}],
        "heads": [{"name": "y", "task": "regression", "units": head_units}]})


def test_counts_agree_with_keras_for_every_layer_kind():
    project = Project.model_validate(EVERY_KIND)
    counts = parameter_counts(project)
    inspection = inspect_project(project)
    assert inspection.error is None
    keras_counts = {r.name: r.param_count for r in inspection.rows if r.kind != "Input"}
    assert counts == keras_counts
    assert sum(counts.values()) == inspection.total_params
    assert size_problems(project) == []


def test_a_layer_wider_than_the_limit_is_named_before_anything_is_built():
    project = dense(10**9)
    problems = check_project(project)
    assert [str(p) for p in problems] == [
        f"trunk[0].params.units is 1,000,000,000, more than the {MAX_UNITS:,} units a layer may "
        "have (layer 'wide'); use fewer units"]
    with pytest.raises(ProjectError, match="layer 'wide'"):
        build_model(project)  # refused before Keras allocates 12 GB of weights
    assert check_project(dense(MAX_UNITS)) == []


def test_a_head_wider_than_the_limit_is_named():
    (problem,) = check_project(dense(4, head_units=MAX_UNITS + 1))
    assert problem.path == "heads[0].units" and "head 'y'" in problem.message


def test_too_many_parameters_names_the_biggest_layer():
    # 40,000 inputs x 50,001 units: 2.0 billion weights in one layer, just over the limit.
    project = dense(50_001, features=40_000)
    (problem,) = check_project(project)
    total = sum(parameter_counts(project).values())
    assert total > MAX_PARAMETERS
    assert problem.path == "trunk[0].params.units"
    assert f"it would have {total:,} parameters (at most {MAX_PARAMETERS:,})" in problem.message
    assert "layer 'wide'" in problem.message
    assert check_project(dense(49_000, features=40_000)) == []


def test_shapes_that_do_not_fit_are_left_to_the_build():
    project = Project.model_validate({
        "inputs": [{"name": "x", "shape": [3]}],
        "trunk": [{"name": "conv", "kind": "Conv2D", "params": {"filters": 4}},
                  {"name": "big", "kind": "Dense", "params": {"units": 10}}],
        "heads": [{"name": "y", "task": "regression", "units": 1}]})
    assert size_problems(project) == []
    assert "conv" not in parameter_counts(project)


def test_sizes_of_any_length_are_counted_where_the_weights_do_not_depend_on_them():
    project = Project.model_validate({
        "inputs": [{"name": "tokens", "shape": [None], "dtype": "int32"},
                   {"name": "series", "shape": [None, 4]}],
        "trunk": [{"name": "emb", "kind": "Embedding", "inputs": ["tokens"],
                   "params": {"input_dim": 20, "output_dim": 5}},
                  {"name": "gru", "kind": "GRU", "params": {"units": 3}},
                  {"name": "conv", "kind": "Conv1D", "inputs": ["series"],
                   "params": {"filters": 2, "kernel_size": 3}},
                  {"name": "pool", "kind": "GlobalAveragePooling1D"},
                  {"name": "both", "kind": "Concatenate", "inputs": ["gru", "pool"]}],
        "heads": [{"name": "y", "task": "regression", "units": 1}]})
    inspection = inspect_project(project)
    assert inspection.error is None
    assert parameter_counts(project) == {r.name: r.param_count for r in inspection.rows
                                         if r.kind != "Input"}
