"""Scaling: Normalization layers measured on the training rows only, standardized regression
heads that predict in the target's units, the same figures streamed or in memory."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

from mogui.core.project import (
    ColumnMap,
    CsvData,
    HeadLoss,
    HeadSpec,
    InputSpec,
    LayerSpec,
    NpzData,
    Project,
)
from mogui.core.sizes import parameter_counts
from mogui.core.validation import check_project
from mogui.engine.data import load_data
from mogui.engine.losses import dry_run
from mogui.engine.model import build_model, inspect_project
from mogui.engine.plain_keras.scaling import adapt_scaling, moments
from mogui.engine.plain_keras.split import split_rows
from mogui.engine.training import run_training

ROWS = 120


def write_prices(folder, rows: int = ROWS, seed: int = 0):
    """Features on large scales; price = 1000 + 50 * standardized area (+ noise); a few
    prices missing."""
    rng = np.random.default_rng(seed)
    area = rng.normal(150.0, 40.0, rows)
    year = rng.integers(1950, 2020, rows).astype(float)
    price = 1000.0 + 50.0 * (area - 150.0) / 40.0 + rng.normal(0, 5.0, rows)
    path = folder / "prices.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area", "year", "price"])
        for i in range(rows):
            writer.writerow([f"{area[i]:.3f}", f"{year[i]:.0f}",
                             "" if i % 17 == 3 else f"{price[i]:.3f}"])
    return path, np.stack([area, year], axis=1), price


def price_project(streaming: str = "never", standardize: bool = True, **training) -> Project:
    return Project(
        name="prices",
        inputs=[InputSpec(name="x", shape=[2])],
        trunk=[LayerSpec(name="norm", kind="Normalization"),
               LayerSpec(name="hidden", kind="Dense", params={"units": 8})],
        heads=[HeadSpec(name="price", task="regression", units=1, standardize=standardize,
                        loss=HeadLoss(metrics=["mae"]))],
        training={"epochs": 1, "batch_size": 16, "validation_split": 0.25, "seed": 4,
                  "learning_rate": 0.01, **training},
        data=CsvData(path="prices.csv", inputs=[ColumnMap(name="x", columns=["area", "year"])],
                     targets=[ColumnMap(name="price", columns=["price"])],
                     streaming=streaming, chunk_rows=32))


def training_rows(rows: int = ROWS, seed: int = 4) -> np.ndarray:
    train, _val = split_rows(rows, 0.25, seed)
    return np.sort(train)


def test_normalization_is_measured_on_the_training_rows_only(tmp_path):
    _path, x, price = write_prices(tmp_path)
    project = price_project()
    result = run_training(project, load_data(project, tmp_path), lambda _e: None)
    norm, out = result.model.get_layer("norm"), result.model.get_layer("price")
    train = training_rows()
    x32 = x.round(3).astype(np.float32)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), x32[train].astype(np.float64).mean(0),
                               rtol=1e-6)
    np.testing.assert_allclose(norm.adapt_variance.numpy(), x32[train].astype(np.float64).var(0),
                               rtol=1e-5)
    assert not np.allclose(norm.adapt_mean.numpy(), x32.mean(0), rtol=1e-6)  # not all rows
    labelled = [i for i in train if i % 17 != 3]  # the price cells left empty count nowhere
    target = price.round(3).astype(np.float32)[labelled].astype(np.float64)
    np.testing.assert_allclose(out.adapt_mean.numpy(), [target.mean()], rtol=1e-6)
    np.testing.assert_allclose(out.adapt_variance.numpy(), [target.var()], rtol=1e-5)
    assert out.invert


def test_streamed_and_in_memory_data_measure_the_same(tmp_path):
    write_prices(tmp_path)
    means = []
    for streaming in ("never", "always"):
        project = price_project(streaming)
        result = run_training(project, load_data(project, tmp_path), lambda _e: None)
        means.append([result.model.get_layer(n).adapt_mean.numpy() for n in ("norm", "price")])
    for memory, streamed in zip(*means, strict=True):
        np.testing.assert_allclose(streamed, memory, rtol=1e-6)


def test_a_standardized_head_predicts_in_the_targets_units(tmp_path):
    _path, x, price = write_prices(tmp_path)
    project = price_project(epochs=12)
    result = run_training(project, load_data(project, tmp_path), lambda _e: None,
                          out_dir=tmp_path / "run")
    model = keras.saving.load_model(tmp_path / "run" / "model.keras", compile=False)
    predicted = np.asarray(model.predict({"x": x.astype(np.float32)}, verbose=0)["price"])[:, 0]
    assert abs(predicted.mean() - 1000.0) < 25.0  # the target's units, not standard deviations
    assert np.abs(predicted - price).mean() < price.std()
    mse = result.history["val_loss"][-1]
    assert mse < 0.5 * price.var()  # the logged loss is in the target's units too


def test_adapting_skips_a_head_without_labelled_training_rows():
    project = price_project()
    project.data = NpzData(path="unused.npz")
    model = build_model(project)
    x = {"x": np.ones((4, 2), np.float32)}
    y = {"price": np.zeros((4, 1), np.float32)}
    adapted = adapt_scaling(model, lambda: [(x, y, {"price": np.zeros(4, np.float32)})])
    assert adapted == ["norm"]
    assert model.get_layer("price").adapt_variance.numpy().tolist() == [1.0]
    # a constant feature keeps variance 1: (x - mean) / 1 = 0, not a division by ~0
    assert model.get_layer("norm").adapt_variance.numpy().tolist() == [1.0, 1.0]


def test_moments_of_pieces_equal_those_of_the_whole():
    values = np.random.default_rng(1).normal(3.0, 7.0, (101, 4, 3))
    mean, variance = moments([values[:10], values[10:11], values[11:]], (-1,))
    flat = values.reshape(-1, 3)
    np.testing.assert_allclose(mean, flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(variance, flat.var(0), rtol=1e-12)
    with pytest.raises(ValueError):
        moments([np.zeros((0, 3))])


def test_parameter_counts_include_the_rescaling_layer():
    project = price_project()
    project.data = NpzData(path="unused.npz")
    project.heads.append(HeadSpec(name="box", task="regression", units=4, standardize=True))
    model = build_model(project)
    inspection = inspect_project(project, None)
    assert inspection.total_params == model.count_params() == sum(
        parameter_counts(project).values())
    assert inspection.row("box").param_count == 8 * 4 + 4 + 2 * 4 + 1
    assert model.get_layer("box_standardized").units == 4


def test_standardize_belongs_to_regression_heads_with_a_free_layer_name():
    project = price_project()
    project.heads.append(HeadSpec(name="kind", task="multiclass", units=3, standardize=True))
    project.trunk.append(LayerSpec(name="price_standardized", kind="Dense"))
    messages = {p.path: p.message for p in check_project(project)}
    assert "regression heads only" in messages["heads[1].standardize"]
    assert "'price_standardized'" in messages["heads[0].standardize"]


def test_mixed_precision_keeps_scaling_in_float32():
    project = price_project(mixed_precision=True)
    project.data = NpzData(path="unused.npz")
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_model(project)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("norm").compute_dtype == "float32"
    assert model.get_layer("price").compute_dtype == "float32"
    assert model.get_layer("hidden").compute_dtype == "float16"


def test_the_dry_run_measures_its_batch(tmp_path):
    write_prices(tmp_path)
    project = price_project()
    data = load_data(project, tmp_path)
    report = dry_run(project, data, batch_size=32)
    # Without measuring, the untrained head would output about 0 against prices near 1000.
    assert report.heads[0].value < 100_000
