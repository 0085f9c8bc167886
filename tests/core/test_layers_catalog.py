"""The layer catalog: parameter validation, and every kind building in real Keras."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mogui.core.layers import LAYER_KINDS, default_params, layer_kind, validate_params
from mogui.core.project import LayerSpec, Project
from mogui.core.validation import check_project

# kind -> (input shape without batch, input dtype, expected output shape with batch)
SUITABLE: dict[str, tuple[tuple[int, ...], str, tuple[int | None, ...]]] = {
    "Dense": ((6,), "float32", (None, 64)),
    "Dropout": ((6,), "float32", (None, 6)),
    "BatchNormalization": ((6,), "float32", (None, 6)),
    "LayerNormalization": ((6,), "float32", (None, 6)),
    "Normalization": ((6,), "float32", (None, 6)),
    "Activation": ((6,), "float32", (None, 6)),
    "Conv1D": ((10, 4), "float32", (None, 10, 32)),
    "Conv2D": ((8, 8, 3), "float32", (None, 8, 8, 32)),
    "MaxPooling1D": ((10, 4), "float32", (None, 5, 4)),
    "MaxPooling2D": ((8, 8, 3), "float32", (None, 4, 4, 3)),
    "GlobalAveragePooling1D": ((10, 4), "float32", (None, 4)),
    "GlobalAveragePooling2D": ((8, 8, 3), "float32", (None, 3)),
    "Flatten": ((4, 5), "float32", (None, 20)),
    "Reshape": ((4, 5), "float32", (None, 20)),
    "Embedding": ((7,), "int32", (None, 7, 32)),
    "LSTM": ((10, 4), "float32", (None, 32)),
    "GRU": ((10, 4), "float32", (None, 32)),
    "Concatenate": ((6,), "float32", (None, 12)),
    "Add": ((6,), "float32", (None, 6)),
    "AveragePooling1D": ((10, 4), "float32", (None, 5, 4)),
    "AveragePooling2D": ((8, 8, 3), "float32", (None, 4, 4, 3)),
    "Conv2DTranspose": ((8, 8, 3), "float32", (None, 8, 8, 32)),
    "UpSampling2D": ((8, 8, 3), "float32", (None, 16, 16, 3)),
    "Bidirectional": ((10, 4), "float32", (None, 64)),
    "MultiHeadAttention": ((10, 4), "float32", (None, 10, 4)),
    "Rescaling": ((8, 8, 3), "float32", (None, 8, 8, 3)),
    "RandomFlip": ((8, 8, 3), "float32", (None, 8, 8, 3)),
    "RandomRotation": ((8, 8, 3), "float32", (None, 8, 8, 3)),
    "RandomZoom": ((8, 8, 3), "float32", (None, 8, 8, 3)),
    "Permute": ((4, 5), "float32", (None, 5, 4)),
}


def test_every_catalog_kind_has_a_build_case():
    assert set(SUITABLE) == set(LAYER_KINDS)


def _same(config_value: Any, param: Any) -> bool:
    if isinstance(config_value, tuple | list) and not isinstance(param, list):
        # (3, 3) for a kernel size of 3; (-0.1, 0.1) for a random factor of 0.1
        return all(v == param for v in config_value) or list(config_value) == [-param, param]
    if isinstance(config_value, tuple | list):
        return list(config_value) == list(param)
    return config_value == param


@pytest.mark.parametrize("kind", sorted(LAYER_KINDS))
def test_kind_builds_in_keras_with_default_params(kind):
    import keras

    from mogui.engine.model.build import keras_layer

    shape, dtype, expected = SUITABLE[kind]
    params = default_params(kind)
    layer = keras_layer(LayerSpec(name=f"my_{kind.lower()}", kind=kind, params=params))
    assert isinstance(layer, getattr(keras.layers, kind))
    assert layer.name == f"my_{kind.lower()}"
    config = layer.get_config()
    if kind == "Bidirectional":  # the recurrent layer holds the parameters but two
        assert config["merge_mode"] == params.pop("merge_mode")
        assert config["layer"]["class_name"] == params.pop("layer")
        config = config["layer"]["config"]
    for key, value in params.items():
        assert _same(config[key], value), (key, config[key], value)
    if LAYER_KINDS[kind].is_merge:
        output = layer([keras.Input(shape, dtype=dtype), keras.Input(shape, dtype=dtype)])
    elif kind == "MultiHeadAttention":
        query = keras.Input(shape, dtype=dtype)
        output = layer(query, query)
    else:
        output = layer(keras.Input(shape, dtype=dtype))
    assert tuple(output.shape) == expected


def test_defaults_are_valid_and_complete():
    for kind in LAYER_KINDS:
        assert validate_params(kind, {}) == default_params(kind)


def _error_fields(kind: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as info:
        validate_params(kind, params)
    return [e["loc"] for e in info.value.errors()]


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("Dense", {"units": 0}, "units"),
    ("Dense", {"activation": "relu6"}, "activation"),
    ("Dense", {"use_bias": "maybe"}, "use_bias"),
    ("Dropout", {"rate": 1.0}, "rate"),
    ("Dropout", {"rate": -0.1}, "rate"),
    ("BatchNormalization", {"momentum": 1.0}, "momentum"),
    ("LayerNormalization", {"epsilon": 0}, "epsilon"),
    ("Conv2D", {"padding": "full"}, "padding"),
    ("Conv2D", {"kernel_size": 0}, "kernel_size"),
    ("Conv1D", {"strides": 0}, "strides"),
    ("MaxPooling2D", {"pool_size": 0}, "pool_size"),
    ("Reshape", {"target_shape": []}, "target_shape"),
    ("Embedding", {"input_dim": 0}, "input_dim"),
    ("LSTM", {"dropout": 1.0}, "dropout"),
    ("GRU", {"units": "many"}, "units"),
    ("Concatenate", {"axis": "last"}, "axis"),
    ("Dense", {"unit": 3}, "unit"),
    ("Flatten", {"data_format": "channels_first"}, "data_format"),
])
def test_validate_params_rejects_bad_values_naming_the_field(kind, params, field):
    assert _error_fields(kind, params) == [(field,)]


def test_validate_params_fills_defaults_and_keeps_values():
    assert validate_params("Dense", {"units": 5}) == {"units": 5, "activation": "relu",
                                                      "use_bias": True}


def test_unknown_kind_lists_choices():
    with pytest.raises(KeyError, match="Conv2D"):
        layer_kind("Conv3D")


def test_check_project_reports_param_field_paths():
    project = Project.model_validate({
        "inputs": [{"name": "x", "shape": [4]}],
        "trunk": [{"name": "d", "kind": "Dense", "params": {"units": 2}},
                  {"name": "drop", "kind": "Dropout", "params": {"rate": 2}}],
        "heads": [{"name": "y", "task": "regression", "units": 1,
                   "layers": [{"name": "h", "kind": "Dense", "params": {"units": 0}}]}],
    })
    paths = [p.path for p in check_project(project)]
    assert paths == ["trunk[1].params.rate", "heads[0].layers[0].params.units"]


def test_merge_kinds_need_two_inputs():
    assert LAYER_KINDS["Add"].is_merge and LAYER_KINDS["Concatenate"].is_merge
    assert not LAYER_KINDS["Dense"].is_merge
