"""Streamed input: chunks read ahead in a background thread, decoded images cached after the
first epoch; the same rows and values either way."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from mogui.engine.data.sources import open_source
from mogui.engine.data.sources.streaming import read_ahead
from tests.engine.data_builders import (
    csv_source,
    image_project,
    table_project,
    write_image_folder,
    write_table,
)


def test_read_ahead_keeps_order_and_raises_errors_where_they_are_read():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("cell 7 is broken")

    items = read_ahead(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="cell 7"):
        next(items)


def test_closing_read_ahead_stops_its_thread():
    produced = []

    def endless():
        for i in range(10_000):
            produced.append(i)
            yield i

    items = read_ahead(endless(), depth=2)
    assert next(items) == 0
    items.close()
    for thread in threading.enumerate():
        if thread.name == "mogui-read-ahead":
            thread.join(timeout=5)
    assert not any(t.name == "mogui-read-ahead" for t in threading.enumerate())
    assert len(produced) < 10  # it stopped a few items ahead, not at the end


def _epoch(batches) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for x, y, _w in batches:
        xs.append(next(iter(x.values())).numpy())
        ys.append(y["bbox"].numpy() if "bbox" in y else y["size"].numpy())
    return np.concatenate(xs), np.concatenate(ys)


def _sorted(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort(y.T[::-1])
    return x[order], y[order]


def test_streamed_csv_reads_every_row_once_per_epoch(tmp_path):
    path = write_table(tmp_path, 300, missing_size=(4, 40))
    project = table_project(csv_source(path, streaming="always", chunk_rows=32))
    source = open_source(project, tmp_path)
    train, _val = source.split(0.2, seed=1)
    batches = source.batches(project, train, 16, shuffle=True, seed=1)
    first, second = _epoch(batches), _epoch(batches)
    assert len(first[0]) == train.count == 240
    assert not np.array_equal(first[0], second[0])  # a new order every epoch
    np.testing.assert_array_equal(_sorted(*first)[0], _sorted(*second)[0])


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_images_give_the_same_data_as_decoding(tmp_path, cache):
    write_image_folder(tmp_path, 40, pixels=16)
    project = image_project(16)
    project.data.streaming = "always"
    plain = open_source(project, tmp_path)
    rows, _none = plain.split(0.0, seed=0)
    expected = _sorted(*_epoch(plain.batches(project, rows, 8, shuffle=True)))
    project.data.cache = cache
    cached = open_source(project, tmp_path)
    batches = cached.batches(project, rows, 8, shuffle=True, seed=3)
    first, second = _epoch(batches), _epoch(batches)
    for epoch in (first, second):
        got = _sorted(*epoch)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    assert not np.array_equal(first[1], second[1])  # still shuffled every epoch
    if cache == "disk":
        folder = cached._cache_dir
        assert folder is not None and any(folder.iterdir())
        del batches, cached
        gc.collect()
        assert not folder.exists()  # the cache goes with its source
