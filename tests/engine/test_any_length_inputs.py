"""Inputs with a size of any length (``None``, as ``keras.Input(shape=(None,))``): a ticket
title of token ids into an Embedding and a pooling layer, then two heads, read from a project
file with NPZ data of one fixed length."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from mogui.core.errors import BuildError, DataError
from mogui.core.io import load_project, save_project
from mogui.core.project import (
    HeadSpec,
    InputSpec,
    LayerSpec,
    NpzData,
    Project,
    TrainingSettings,
)
from mogui.engine.data import load_data
from mogui.engine.export.codegen import generate_script
from mogui.engine.losses.dry_run import dry_run
from mogui.engine.model import build_model, format_shape, inspect_project
from mogui.engine.training import run_training

SAMPLES, LENGTH, VOCABULARY = 48, 12, 50


def ticket_project(folder: Path) -> Path:
    """A project file whose input ``title`` has shape [None], and its data (length 12)."""
    rng = np.random.default_rng(0)
    np.savez(folder / "tickets.npz",
             title=rng.integers(0, VOCABULARY, size=(SAMPLES, LENGTH)).astype("int32"),
             priority=rng.random((SAMPLES, 1)).astype("float32"),
             department=rng.integers(0, 4, size=(SAMPLES,)).astype("int32"))
    project = Project(
        name="Tickets",
        inputs=[InputSpec(name="title", shape=[None], dtype="int32")],
        trunk=[LayerSpec(name="embed", kind="Embedding",
                         params={"input_dim": VOCABULARY, "output_dim": 8}),
               LayerSpec(name="pool", kind="GlobalAveragePooling1D")],
        heads=[HeadSpec(name="priority", task="regression", units=1),
               HeadSpec(name="department", task="multiclass", units=4)],
        training=TrainingSettings(epochs=1, batch_size=16),
        data=NpzData(path="tickets.npz"))
    path = folder / "tickets.json"
    save_project(project, path)
    return path


def test_a_none_size_builds_inspects_and_trains_one_epoch(tmp_path):
    path = ticket_project(tmp_path)
    assert '"shape": [\n        null\n      ]' in path.read_text()
    project = load_project(path)
    assert project.inputs[0].shape == [None]

    inspection = inspect_project(project)
    assert inspection.ok, inspection.error
    shapes = {row.name: format_shape(row.output_shape) for row in inspection.rows}
    assert shapes == {"title": "(None, None)", "embed": "(None, None, 8)", "pool": "(None, 8)",
                      "priority": "(None, 1)", "department": "(None, 4)"}

    data = load_data(project, tmp_path)
    result = run_training(project, data, lambda _event: None)
    history = result.history
    assert len(history["loss"]) == 1 and math.isfinite(history["loss"][0])
    assert {"priority_loss", "department_loss"} <= set(history)
    report = dry_run(project, data)
    assert {h.head for h in report.heads} == {"priority", "department"}
    assert math.isfinite(report.total)


def test_the_generated_script_declares_and_builds_the_none_size(tmp_path):
    project = load_project(ticket_project(tmp_path))
    script = tmp_path / "train_tickets.py"
    script.write_text(generate_script(project, tmp_path), encoding="utf-8")
    text = script.read_text(encoding="utf-8")
    assert 'keras.Input(shape=(None,), dtype="int32", name="title")' in text
    model = runpy.run_path(str(script), run_name="not_main")["build_model"]()
    assert tuple(model.input["title"].shape) == (None, None)


@pytest.mark.parametrize(("trunk", "layer", "expected"), [
    ([LayerSpec(name="hidden", kind="Dense")], "hidden",
     "Dense 'hidden' needs a fixed size on the last axis (its weights are sized by it), but "
     "'title' gives (None, None), whose last axis may have any length"),
    ([LayerSpec(name="embed", kind="Embedding", params={"input_dim": 50}),
      LayerSpec(name="flat", kind="Flatten")], "flat",
     "Flatten 'flat' needs a fixed size on every axis to count the values of a sample, but "
     "'embed' gives (None, None, 32)"),
    ([LayerSpec(name="grid", kind="Reshape", params={"target_shape": [3, 4]})], "grid",
     "Reshape 'grid' cannot reshape 'title' gives (None, None) to a fixed target_shape"),
])
def test_layers_that_need_a_fixed_size_name_themselves(trunk, layer, expected):
    project = Project(inputs=[InputSpec(name="title", shape=[None], dtype="int32")],
                      trunk=trunk, heads=[HeadSpec(name="priority", task="regression", units=1)])
    inspection = inspect_project(project)
    assert inspection.error is not None and inspection.error.layer == layer
    assert str(inspection.error).startswith(expected)
    assert "GlobalAveragePooling1D" in str(inspection.error) or layer == "grid"
    with pytest.raises(BuildError, match=layer):
        build_model(project)


def test_data_of_another_rank_is_refused_plainly(tmp_path):
    project = load_project(ticket_project(tmp_path))
    np.savez(tmp_path / "tickets.npz", title=np.zeros((SAMPLES, 3, 4), "int32"),
             priority=np.zeros((SAMPLES, 1), "float32"),
             department=np.zeros(SAMPLES, "int32"))
    with pytest.raises(DataError, match=r"Input 'title' has shape \[None\] per sample"):
        load_data(project, tmp_path)
