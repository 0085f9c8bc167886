"""Checks that data and model suit each other, before training (Check data, `validate`)."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.project import HeadLoss, HeadSpec, InputSpec, LayerSpec, NpzData, Project
from mogui.engine.data import check_data
from mogui.engine.data.sanity import consumers

N = 64


def project(*heads: HeadSpec, trunk: list[LayerSpec] | None = None) -> Project:
    return Project(name="sanity", inputs=[InputSpec(name="x", shape=[3])],
                   trunk=trunk if trunk is not None else
                   [LayerSpec(name="hidden", kind="Dense", params={"units": 4})],
                   heads=list(heads) or [HeadSpec(name="y", task="regression", units=1)],
                   data=NpzData(path="d.npz"))


def save(folder, **arrays) -> None:
    rng = np.random.default_rng(0)
    base = {"x": rng.normal(size=(N, 3)).astype(np.float32),
            "y": rng.normal(size=(N, 1)).astype(np.float32)}
    np.savez(folder / "d.npz", **{**base, **arrays})


def findings(p: Project, folder) -> tuple[list[str], list[str]]:
    report = check_data(p, folder)
    return report.errors, report.warnings


def test_clean_data_gives_no_finding(tmp_path):
    save(tmp_path)
    assert findings(project(), tmp_path) == ([], [])


@pytest.mark.parametrize("activation, low, high, found", [
    ("sigmoid", 47, 175, True),
    ("softmax", 0.0, 1.0, False),
    ("sigmoid", 0.0, 1.0, False),
    ("tanh", -1.0, 1.0, False),
    ("tanh", -3.0, 1.0, True),
    ("relu", 0.0, 500.0, False),
    ("relu", -2.0, 5.0, True),
    ("linear", 47, 175, False),
])
def test_an_activation_that_cannot_reach_the_targets(tmp_path, activation, low, high, found):
    save(tmp_path, y=np.linspace(low, high, N, dtype=np.float32).reshape(-1, 1))
    errors, _warnings = findings(project(HeadSpec(name="y", task="regression", units=1,
                                                  activation=activation)), tmp_path)
    assert bool(errors) == found, errors
    if found:
        assert f"ends in {activation}" in errors[0] and "never reach" in errors[0]


def test_a_standardized_head_with_a_bounded_activation_only_warns(tmp_path):
    save(tmp_path, y=np.linspace(47, 175, N, dtype=np.float32).reshape(-1, 1))
    errors, warnings = findings(project(HeadSpec(name="y", task="regression", units=1,
                                                 activation="sigmoid", standardize=True)),
                                tmp_path)
    assert errors == [] and any("even standardized" in w for w in warnings)


def test_unscaled_features_warn_unless_a_layer_normalizes_them(tmp_path):
    x = np.random.default_rng(1).normal(size=(N, 3)).astype(np.float32)
    x[:, 1] = x[:, 1] * 300 + 5000  # mean 5000, std 300
    save(tmp_path, x=x)
    _errors, warnings = findings(project(), tmp_path)
    assert len(warnings) == 1
    assert "Input 'x' is not normalized" in warnings[0] and "feature 1" in warnings[0]
    assert "mean 5" in warnings[0] and "Normalization" in warnings[0]
    for kind in ("Normalization", "BatchNormalization"):
        normalized = project(trunk=[LayerSpec(name="n", kind=kind),
                                    LayerSpec(name="hidden", kind="Dense")])
        assert findings(normalized, tmp_path) == ([], []), kind


def test_a_constant_column_warns(tmp_path):
    x = np.random.default_rng(1).normal(size=(N, 3)).astype(np.float32)
    x[:, 2] = 7.0
    save(tmp_path, x=x)
    _errors, warnings = findings(project(), tmp_path)
    assert len(warnings) == 1 and "feature 2" in warnings[0] and "same value" in warnings[0]


def test_a_classification_head_with_one_class_warns(tmp_path):
    kinds = np.full((N, 1), 2, dtype=np.int32)
    kinds[:5] = -1  # unlabelled rows are no class
    save(tmp_path, kind=kinds)
    head = HeadSpec(name="kind", task="multiclass", units=3)
    errors, warnings = findings(project(HeadSpec(name="y", task="regression", units=1), head),
                                tmp_path)
    assert errors == []
    assert len(warnings) == 1 and "Head 'kind' has one class (id 2)" in warnings[0]
    assert f"all its {N - 5} labelled rows" in warnings[0]


def test_a_one_unit_softmax_head_is_an_error(tmp_path):
    save(tmp_path, kind=np.zeros((N, 1), np.int32))
    errors, _warnings = findings(project(HeadSpec(name="kind", task="multiclass", units=1,
                                                  loss=HeadLoss())), tmp_path)
    assert any("multiclass with 1 unit" in e for e in errors), errors


def test_which_layers_read_an_input():
    p = project(HeadSpec(name="y", task="regression", units=1),
                HeadSpec(name="raw", task="regression", units=1, source="x"),
                trunk=[LayerSpec(name="n", kind="Normalization"),
                       LayerSpec(name="d", kind="Dense", inputs=["x"])])
    assert consumers(p, "x") == ["Normalization", "Dense", "Dense"]
