"""Streamed image folders: batches hold the same images as the folder loaded in memory, with
or without a cache, and a cache lives as long as the pipeline that reads it."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mogui.engine.data.sources import open_source
from mogui.engine.data.sources.image_cache import CACHE_RECORD, shuffle_rows
from mogui.engine.plain_keras.images import decode_image, decode_pixels
from tests.engine.data_builders import image_project, write_image_folder


def _images(batches) -> np.ndarray:  # noqa: ANN001 - a tf.data.Dataset
    return np.concatenate([x["image"].numpy() for x, _y, _w in batches])


def test_a_pipeline_keeps_its_cache_after_its_source_is_let_go(tmp_path):
    write_image_folder(tmp_path, 24, pixels=16)
    project = image_project(16)
    project.data.streaming = "always"
    expected = _images(open_source(project, tmp_path).batches(
        project, open_source(project, tmp_path).split(0.0, seed=0)[0], 8))
    project.data.cache = "disk"
    source = open_source(project, tmp_path)
    rows, _none = source.split(0.0, seed=0)
    batches = source.batches(project, rows, 8)
    folder = source._cache_dir
    del source  # nothing but the pipeline holds the source now
    first, second = _images(batches), _images(batches)  # decodes and fills, then reads
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)
    assert folder is not None and any(folder.iterdir())


def _rows_by_image(batches) -> dict:  # noqa: ANN001
    """Each streamed image (as bytes) -> its sample-weight row, checking dtypes on the way."""
    seen = {}
    for x, _y, w in batches:
        assert x["image"].dtype == "float32" and w.dtype == "float32"
        for image, weights in zip(x["image"].numpy(), w.numpy(), strict=True):
            seen[image.tobytes()] = tuple(weights)
    return seen


@pytest.mark.parametrize("cache", ["none", "memory", "disk"])
def test_streamed_batches_hold_the_images_loaded_in_memory_and_a_weight_matrix(tmp_path, cache):
    write_image_folder(tmp_path, 24, pixels=20, missing_shape=(2, 5))  # resized to 16x16
    project = image_project(16)
    project.data.scale = "symmetric"
    in_memory = open_source(project, tmp_path)  # decoded one by one, as floats
    project.data.streaming, project.data.cache = "always", cache
    source = open_source(project, tmp_path)
    rows, _none = source.split(0.0, seed=0)
    batches = source.batches(project, rows, 8, shuffle=True, seed=3)
    for _epoch in range(2):  # the first fills a cache, the second reads it
        seen = _rows_by_image(batches)
        expected = {image.tobytes(): (1.0, 0.0 if i in (2, 5) else 1.0)  # columns: bbox, shape
                    for i, image in enumerate(in_memory.x["image"])}
        assert seen == expected


def test_a_resized_image_is_rounded_to_whole_pixel_values():
    # Bilinear 2x2 -> 1x1 samples the middle: the mean of the four pixels, 11.75 -> 12.
    png = tf.io.encode_png(np.array([[[10], [11]], [[12], [14]]], dtype=np.uint8))
    pixels = decode_pixels(png, (1, 1, 1), resize=True)
    assert pixels.dtype == tf.uint8 and pixels.numpy().tolist() == [[[12]]]
    unit = decode_image(png, (1, 1, 1), resize=True)
    assert unit.numpy().tolist() == [[[pytest.approx(12 / 255)]]]
    same_size = decode_pixels(png, (2, 2, 1), resize=True)
    assert same_size.numpy()[..., 0].tolist() == [[10, 11], [12, 14]]


def _shuffled_ids(rows: int, seed: int, epochs: int) -> list[np.ndarray]:
    """Row ids (0..rows-1, in records of CACHE_RECORD) as shuffled_records orders them."""
    ids = tf.data.Dataset.range(rows).map(lambda i: ({"i": i}, i, tf.ones((2,)) * 0))
    records = ids.batch(CACHE_RECORD).cache("")
    records = records.shuffle(-(-rows // CACHE_RECORD), seed=seed, reshuffle_each_iteration=True)
    pipeline = shuffle_rows(records, seed)
    return [np.concatenate([y.numpy() for _x, y, _w in pipeline]) for _ in range(epochs)]


def test_cached_records_are_shuffled_across_records_anew_each_epoch():
    rows = 5 * CACHE_RECORD + 40  # six records, the last one short
    first, second = _shuffled_ids(rows, seed=3, epochs=2)
    for order in (first, second):
        assert sorted(order.tolist()) == list(range(rows))  # every row once
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.sort(first))
    # The first batch of 64 holds rows of more than one record, and not in their record order.
    records = first[:64] // CACHE_RECORD
    assert len(set(records.tolist())) > 1
    again, = _shuffled_ids(rows, seed=3, epochs=1)
    np.testing.assert_array_equal(again, first)  # the same seed, the same order
    other, = _shuffled_ids(rows, seed=4, epochs=1)
    assert not np.array_equal(other, first)


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_batches_are_full_but_the_last_whatever_the_batch_size(tmp_path, cache):
    write_image_folder(tmp_path, 70, pixels=8)
    project = image_project(8)
    project.data.streaming, project.data.cache = "always", cache
    source = open_source(project, tmp_path)
    rows, _none = source.split(0.0, seed=0)
    batches = source.batches(project, rows, 16, shuffle=True, seed=1)
    for _epoch in range(2):
        sizes = [int(w.shape[0]) for _x, _y, w in batches]
        assert sizes == [16, 16, 16, 16, 6]
    assert int(batches.cardinality()) == 5


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_epochs_after_the_first_read_the_cache_not_the_files(tmp_path, cache):
    write_image_folder(tmp_path, CACHE_RECORD + 30, pixels=8)  # two records, one short
    project = image_project(8)
    project.data.streaming, project.data.cache = "always", cache
    source = open_source(project, tmp_path)
    rows, _none = source.split(0.0, seed=0)
    batches = source.batches(project, rows, 32, shuffle=True, seed=2)
    first = _rows_by_image(batches)
    for image in (tmp_path / "images").iterdir():
        image.write_bytes(b"gone")  # decoding now would fail
    assert _rows_by_image(batches) == first
    if cache == "disk":
        assert any(source._cache_dir.rglob("records*"))
