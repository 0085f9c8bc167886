"""build_model / keras_layer with real Keras models."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from mogui.core.errors import BuildError
from mogui.core.io import example_path, load_example
from mogui.core.project import LayerSpec, Project
from mogui.core.validation import ProjectError
from mogui.engine.model.build import build_model, keras_layer


def make_project(trunk: list[dict[str, Any]], *, inputs: list[dict[str, Any]] | None = None,
                 heads: list[dict[str, Any]] | None = None) -> Project:
    return Project.model_validate({
        "inputs": inputs or [{"name": "x", "shape": [64]}],
        "trunk": trunk,
        "heads": heads or [{"name": "out", "task": "regression", "units": 1}],
    })


def build_error(project: Project) -> BuildError:
    with pytest.raises(BuildError) as info:
        build_model(project)
    return info.value


def test_demo_builds_with_outputs_named_after_heads(demo_project):
    model = build_model(demo_project)
    heads = demo_project.head_names
    assert sorted(model.output_names) == sorted(heads)
    for head in demo_project.heads:
        layer = model.get_layer(head.name)
        assert layer.units == head.units
        assert layer.get_config()["activation"] == head.output_activation
    assert model.get_layer("bbox").get_config()["activation"] == "sigmoid"
    assert model.get_layer("classification").get_config()["activation"] == "softmax"
    assert model.get_layer("conv1").output.shape == (None, 32, 32, 16)
    assert model.count_params() == sum(layer.count_params() for layer in model.layers)


def test_output_names_are_head_names_when_not_alphabetical():
    project = make_project(
        [{"name": "shared", "kind": "Dense", "params": {"units": 8}}],
        heads=[{"name": "z_box", "task": "regression", "units": 4},
               {"name": "a_cls", "task": "multiclass", "units": 3}],
    )
    model = build_model(project)
    assert set(model.output_names) == {"z_box", "a_cls"}
    prediction = model.predict({"x": np.zeros((2, 64), "float32")}, verbose=0)
    assert prediction["z_box"].shape == (2, 4)
    assert prediction["a_cls"].shape == (2, 3)
    np.testing.assert_allclose(prediction["a_cls"].sum(axis=1), 1.0, rtol=1e-5)


def test_demo_fits_with_dict_inputs_and_targets(demo_project):
    model = build_model(demo_project)
    model.compile(optimizer="adam",
                  loss={"bbox": "mse", "classification": "sparse_categorical_crossentropy"})
    rng = np.random.default_rng(0)
    x = {"image": rng.random((16, 32, 32, 1), dtype="float32")}
    y = {"bbox": rng.random((16, 4), dtype="float32"),
         "classification": rng.integers(0, 6, (16, 1))}
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert {"loss", "bbox_loss", "classification_loss"} <= set(history.history)
    assert np.isfinite(history.history["loss"][0])


def test_multi_input_branch_and_merge_builds_and_predicts():
    project = load_example("multi_input")
    model = build_model(project)
    assert sorted(model.output_names) == sorted(project.head_names)
    assert model.get_layer("merge").output.shape == (None, 40)
    assert model.get_layer("tokens").output.dtype == "int32"
    data = np.load(example_path("multi_input").parent / "multi_input_data.npz")
    x = {"sensors": data["sensors"][:5], "tokens": data["tokens"][:5]}
    prediction = model.predict(x, verbose=0)
    assert {k: v.shape for k, v in prediction.items()} == {
        "temperature": (5, 1), "alarm": (5, 1), "tags": (5, 5)}
    assert ((prediction["alarm"] > 0) & (prediction["alarm"] < 1)).all()


def test_head_source_and_empty_trunk():
    project = make_project(
        [], heads=[{"name": "direct", "task": "regression", "units": 2},
                   {"name": "deep", "task": "binary", "units": 1,
                    "layers": [{"name": "deep_hidden", "kind": "Dense",
                                "params": {"units": 5}}]}])
    model = build_model(project)
    assert model.get_layer("direct").input.shape == (None, 64)
    assert model.get_layer("deep").input.shape == (None, 5)


def test_head_source_picks_a_trunk_layer():
    project = make_project(
        [{"name": "early", "kind": "Dense", "params": {"units": 7}},
         {"name": "late", "kind": "Dense", "params": {"units": 3}}],
        heads=[{"name": "from_early", "task": "regression", "units": 1, "source": "early"},
               {"name": "from_late", "task": "regression", "units": 1}])
    model = build_model(project)
    assert model.get_layer("from_early").input.shape == (None, 7)
    assert model.get_layer("from_late").input.shape == (None, 3)


def test_invalid_project_raises_project_error_naming_the_field():
    project = make_project([{"name": "d", "kind": "Dense", "params": {"units": 0}}])
    with pytest.raises(ProjectError) as info:
        build_model(project)
    assert "trunk[0].params.units" in str(info.value)
    assert ">= 1" in str(info.value)


def test_invalid_head_source_raises_project_error():
    project = make_project([], heads=[{"name": "out", "task": "regression", "units": 1,
                                       "source": "nowhere"}])
    with pytest.raises(ProjectError, match=r"heads\[0\]\.source"):
        build_model(project)


def test_conv2d_after_dense_message():
    project = make_project([{"name": "dense1", "kind": "Dense", "params": {"units": 64}},
                            {"name": "conv1", "kind": "Conv2D"}])
    error = build_error(project)
    assert error.layer == "conv1"
    assert str(error) == ("Conv2D 'conv1' needs a 4-D input (batch, height, width, channels) "
                          "but 'dense1' gives (None, 64); add a Reshape before it or use Dense")


IMAGE = [{"name": "img", "shape": [8, 8, 1]}]

RANK_CASES = [
    ("MaxPooling2D", None, "4-D", "(None, 64)"),
    ("GlobalAveragePooling2D", None, "4-D", "(None, 64)"),
    ("Conv1D", None, "3-D", "(None, 64)"),
    ("LSTM", None, "3-D", "(None, 64)"),
    ("GRU", IMAGE, "3-D", "(None, 8, 8, 1)"),
    ("Conv1D", IMAGE, "3-D", "(None, 8, 8, 1)"),
    ("MaxPooling1D", IMAGE, "3-D", "(None, 8, 8, 1)"),
]


@pytest.mark.parametrize(("kind", "inputs", "rank", "shape"), RANK_CASES)
def test_rank_mismatch_names_layer_kind_and_shape(kind, inputs, rank, shape):
    project = make_project([{"name": "bad", "kind": kind}], inputs=inputs)
    error = build_error(project)
    assert error.layer == "bad"
    message = str(error)
    assert message.startswith(f"{kind} 'bad' needs a {rank} input")
    assert f"gives {shape}" in message
    assert "Reshape" in message
    assert "\n" not in message


def test_add_with_different_shapes():
    project = make_project([
        {"name": "a", "kind": "Dense", "params": {"units": 32}, "inputs": ["x"]},
        {"name": "b", "kind": "Dense", "params": {"units": 16}, "inputs": ["x"]},
        {"name": "total", "kind": "Add", "inputs": ["a", "b"]},
    ])
    error = build_error(project)
    assert error.layer == "total"
    assert "Add 'total'" in str(error)
    assert "'a' gives (None, 32) and 'b' gives (None, 16)" in str(error)
    assert "Concatenate" in str(error)


def test_concatenate_with_mismatched_other_axis():
    project = make_project([
        {"name": "a", "kind": "Reshape", "params": {"target_shape": [8, 8]}, "inputs": ["x"]},
        {"name": "b", "kind": "Reshape", "params": {"target_shape": [16, 4]}, "inputs": ["x"]},
        {"name": "joined", "kind": "Concatenate", "inputs": ["a", "b"]},
    ])
    error = build_error(project)
    assert error.layer == "joined"
    assert "Concatenate 'joined' joins along axis -1" in str(error)
    assert "'a' gives (None, 8, 8) and 'b' gives (None, 16, 4)" in str(error)


def test_concatenate_along_last_axis_builds():
    project = make_project([
        {"name": "a", "kind": "Reshape", "params": {"target_shape": [8, 8]}, "inputs": ["x"]},
        {"name": "b", "kind": "Reshape", "params": {"target_shape": [8, 8]}, "inputs": ["x"]},
        {"name": "joined", "kind": "Concatenate", "inputs": ["a", "b"]},
        {"name": "flat", "kind": "Flatten"},
    ])
    assert build_model(project).get_layer("joined").output.shape == (None, 8, 16)


def test_reshape_with_wrong_element_count():
    project = make_project([{"name": "grid", "kind": "Reshape",
                             "params": {"target_shape": [5, 5]}}])
    error = build_error(project)
    assert error.layer == "grid"
    assert str(error).startswith("Reshape 'grid' gets (None, 64) from 'x' (64 values per "
                                 "sample), but target_shape (5, 5) holds 25 values")
    assert "multiply to 64" in str(error)


@pytest.mark.parametrize(("kind", "params", "what"), [
    ("Conv2D", {"kernel_size": 9, "padding": "valid"}, "kernel_size is 9"),
    ("MaxPooling2D", {"pool_size": 9}, "pool_size is 9"),
])
def test_window_larger_than_input(kind, params, what):
    project = make_project([{"name": "window", "kind": kind, "params": params}], inputs=IMAGE)
    error = build_error(project)
    assert error.layer == "window"
    assert f"{kind} 'window' gets an input too small" in str(error)
    assert "(None, 8, 8, 1)" in str(error) and what in str(error)
    assert "padding 'same'" in str(error)


def test_pooling_chain_too_deep_for_small_image():
    pools = [{"name": f"pool{i}", "kind": "MaxPooling1D"} for i in range(4)]
    project = make_project(pools, inputs=[{"name": "seq", "shape": [4, 2]}])
    error = build_error(project)
    assert error.layer == "pool2"
    assert "(None, 1, 2)" in str(error)


def test_embedding_on_float_input_suggests_int32():
    project = make_project([{"name": "embed", "kind": "Embedding"}])
    error = build_error(project)
    assert error.layer == "embed"
    assert "Embedding 'embed'" in str(error) and "float32" in str(error)
    assert "int32" in str(error)


def test_embedding_on_int_input_builds():
    project = make_project([{"name": "embed", "kind": "Embedding"},
                            {"name": "f", "kind": "Flatten"}],
                           inputs=[{"name": "x", "shape": [6], "dtype": "int32"}])
    assert build_model(project).get_layer("embed").output.shape == (None, 6, 32)


def test_dense_on_rank_three_is_fine():
    project = make_project([{"name": "r", "kind": "Reshape", "params": {"target_shape": [8, 8]}},
                            {"name": "d", "kind": "Dense", "params": {"units": 3}}])
    assert build_model(project).get_layer("d").output.shape == (None, 8, 3)


def test_failure_in_a_head_layer_names_it():
    project = make_project(
        [{"name": "shared", "kind": "Dense", "params": {"units": 8}}],
        heads=[{"name": "ok", "task": "regression", "units": 1},
               {"name": "broken", "task": "regression", "units": 1,
                "layers": [{"name": "broken_conv", "kind": "Conv2D"}]}])
    error = build_error(project)
    assert error.layer == "broken_conv"
    assert "'shared' gives (None, 8)" in str(error)


def test_unexpected_keras_error_becomes_one_line_message():
    from mogui.engine.model.shape_errors import Source, explain_failure

    source = Source("x", (None, 64), "float32")
    with pytest.raises(ValueError) as info:  # an error no rule of mogui's rewords
        keras.layers.Reshape((-1, -1), name="odd")(keras.Input((64,)))
    message = explain_failure("Reshape", "odd", {"target_shape": [-1, -1]}, [source], info.value)
    assert message.startswith("Reshape 'odd' cannot take its input ('x' gives (None, 64))")
    assert "at most one unknown dimension" in message
    assert "\n" not in message and "\x1b" not in message


def test_keras_layer_passes_params_through():
    spec = LayerSpec(name="c", kind="Conv2D", params={"filters": 5, "kernel_size": 2,
                                                      "activation": "linear"})
    layer = keras_layer(spec)
    assert isinstance(layer, keras.layers.Conv2D)
    assert layer.name == "c"
    config = layer.get_config()
    assert config["filters"] == 5 and config["kernel_size"] == (2, 2)
    assert config["activation"] == "linear" and config["padding"] == "same"


def test_keras_layer_rejects_bad_params_naming_the_field():
    with pytest.raises(BuildError, match=r"Dropout 'drop': params\.rate must be < 1") as info:
        keras_layer(LayerSpec(name="drop", kind="Dropout", params={"rate": 1.5}))
    assert info.value.layer == "drop"


def test_keras_layer_rejects_unknown_kind():
    with pytest.raises(BuildError, match="choose one of") as info:
        keras_layer(LayerSpec(name="q", kind="Transformer"))
    assert info.value.layer == "q"


@pytest.mark.parametrize("name", ["bbox_classification", "bbox_classification_joint",
                                  "multi_input", "houses"])
def test_every_shipped_example_builds(name):
    project = load_example(name)
    model = build_model(project)
    assert sorted(model.output_names) == sorted(project.head_names)


def test_output_layers_stay_float32_under_mixed_precision():
    project = make_project([{"name": "shared", "kind": "Dense", "params": {"units": 8}}])
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_model(project)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("shared").compute_dtype == "float16"
    assert model.get_layer("out").compute_dtype == "float32"
    assert model.outputs[0].dtype == "float32"
