"""A streamed image folder's disk cache lives as long as the pipeline that reads it, even when
the source that made the pipeline is let go."""

from __future__ import annotations

import numpy as np

from mogui.engine.data.sources import open_source
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
