"""CSV, .npz and image-folder data: read, streamed with bounded memory, and trained on."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mogui.core.events import TrainingStarted
from mogui.core.io import load_project, save_project
from mogui.core.project import ColumnMap, CsvData
from mogui.core.tasks import Task
from mogui.engine.data import load_data
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.sources import StreamingDataset, open_source
from mogui.engine.data.sources.csv_source import CsvTable
from mogui.engine.training import run_training
from tests.engine.data_builders import (
    KINDS,
    csv_source,
    image_project,
    table_arrays,
    table_project,
    write_image_folder,
    write_npz,
    write_table,
)


def _train(project, data):
    events = []
    result = run_training(project, data, events.append)
    return result, events


def test_csv_columns_become_inputs_and_targets(tmp_path):
    write_table(tmp_path, 12, missing_size=(2,), missing_kind=(5,))
    project = table_project(csv_source(tmp_path / "table.csv"))
    data = open_source(project, tmp_path)
    x, size, kind = table_arrays(12)
    assert isinstance(data, Dataset)
    np.testing.assert_allclose(data.x["x"], x.astype(np.float32))
    assert np.isnan(data.y["size"][2, 0]) and data.y["size"][3, 0] == np.float32(size[3])
    assert data.y["kind"][5, 0] == -1
    expected = kind.copy()
    expected[5] = -1
    np.testing.assert_array_equal(data.y["kind"].ravel(), expected)


def test_category_names_become_one_hot_for_a_one_hot_head(tmp_path):
    write_table(tmp_path, 6, missing_kind=(1,))
    project = table_project(csv_source(tmp_path / "table.csv"))
    project.heads[1].task = Task.MULTICLASS_ONEHOT
    project.heads[1].loss.kind = "categorical_crossentropy"
    data = open_source(project, tmp_path)
    _x, _size, kind = table_arrays(6)
    assert data.y["kind"].shape == (6, 3)
    assert (data.y["kind"][1] == -1).all()
    rows = [i for i in range(6) if i != 1]
    np.testing.assert_array_equal(data.y["kind"][rows].argmax(axis=1), kind[rows])


def test_paths_are_relative_to_the_project_file(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    write_table(folder, 10)
    save_project(table_project(csv_source(folder / "table.csv")), folder / "p.mogui.json")
    monkeypatch.chdir(tmp_path)
    project = load_project(folder / "p.mogui.json")
    assert project.data.path == "table.csv"
    assert load_data(project, folder).num_samples == 10


@pytest.mark.parametrize("streaming", ["never", "always"])
def test_a_multi_head_model_trains_from_csv(tmp_path, streaming):
    write_table(tmp_path, 48, missing_size=(0, 7), missing_kind=(3,))
    project = table_project(csv_source(tmp_path / "table.csv", streaming=streaming,
                                       chunk_rows=10))
    project.training.batch_size = 8
    data = load_data(project, tmp_path)
    assert isinstance(data, StreamingDataset) == (streaming == "always")
    result, events = _train(project, data)
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert (started.train_samples, started.val_samples) == (36, 12)
    assert started.steps_per_epoch == 5
    for key in ("loss", "size_loss", "kind_loss", "val_size_loss", "val_kind_loss"):
        assert np.isfinite(result.history[key][0]), key


def test_a_multi_head_model_trains_from_npz_with_missing_labels(tmp_path):
    write_npz(tmp_path, 40, missing_size=(1, 2), missing_kind=(4,))
    project = table_project()
    result, _events = _train(project, load_data(project, tmp_path))
    assert all(np.isfinite(v[0]) for v in result.history.values())


@pytest.mark.parametrize("streaming", ["never", "always"])
def test_a_detection_model_trains_from_an_image_folder(tmp_path, streaming):
    write_image_folder(tmp_path, 24, pixels=20, missing_shape=(2,))
    project = image_project(16)
    project.data.streaming = streaming
    data = load_data(project, tmp_path)
    assert isinstance(data, StreamingDataset) == (streaming == "always")
    result, _events = _train(project, data)
    for key in ("bbox_loss", "shape_loss", "val_bbox_loss", "val_shape_loss"):
        assert np.isfinite(result.history[key][0]), key


def test_images_are_decoded_scaled_and_resized(tmp_path):
    _labels, pixels = write_image_folder(tmp_path, 4, pixels=16)
    project = image_project(16)
    project.data.resize = False
    data = open_source(project, tmp_path)
    np.testing.assert_allclose(data.x["image"], pixels, atol=1e-6)
    project.data.scale = "symmetric"
    np.testing.assert_allclose(open_source(project, tmp_path).x["image"], pixels * 2 - 1,
                               atol=1e-5)
    small = image_project(8)
    small.data.resize = True
    assert open_source(small, tmp_path).x["image"].shape == (4, 8, 8, 1)


def test_streaming_csv_holds_one_chunk_at_a_time(tmp_path):
    """A table far larger than the rows the loader may hold streams through bounded memory."""
    rows, chunk = 40000, 200
    path = write_table(tmp_path, rows)
    project = table_project(csv_source(path, streaming="always", chunk_rows=chunk))
    table = open_source(project, tmp_path)
    assert isinstance(table, CsvTable)

    tracemalloc.start()
    CsvTable(project, project.data, path).load()
    _current, peak_in_memory = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    train, _val = table.split(0.1, seed=0)
    batches = table.batches(project, train, 100, shuffle=True)
    tracemalloc.start()
    seen = sum(int(x["x"].shape[0]) for x, _y, _w in batches)
    _current, peak_streaming = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == train.count == 36000
    assert table.max_rows_held == chunk
    assert peak_streaming < path.stat().st_size / 2
    assert peak_streaming < peak_in_memory / 4


def test_streamed_batches_carry_the_same_rows_as_the_in_memory_split(tmp_path):
    write_table(tmp_path, 30, missing_size=(4,))
    project = table_project(csv_source(tmp_path / "table.csv", streaming="always",
                                       chunk_rows=7))
    table = open_source(project, tmp_path)
    _train_rows, val = table.split(0.3, seed=9)
    _mem_train, mem_val = CsvTable(project, project.data, tmp_path / "table.csv").load() \
        .split(0.3, seed=9)
    streamed = [x["x"].numpy() for x, _y, _w in table.batches(project, val, 4)]
    np.testing.assert_allclose(np.sort(np.concatenate(streamed), axis=0),
                               np.sort(mem_val.x["x"], axis=0))


def test_integer_category_input_feeds_an_embedding(tmp_path):
    path = write_table(tmp_path, 9)
    project = table_project(CsvData(path=path.name, inputs=[
        ColumnMap(name="x", columns=["kind"], classes=list(KINDS))]))
    project.inputs[0].shape = [1]
    project.inputs[0].dtype = "int32"
    data = open_source(project, tmp_path)
    _x, _size, kind = table_arrays(9)
    np.testing.assert_array_equal(data.x["x"].ravel(), kind)
