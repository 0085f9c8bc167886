"""The training script of an image-folder project reads the folder itself, into the arrays
mogui reads, streamed or not; a data.npz snapshot stays an option for data held in memory."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from mogui.core.errors import ExportError
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.sources import open_source
from mogui.engine.export import export_project, generate_script
from tests.engine.data_builders import image_project, write_image_folder


def _folder(tmp_path) -> None:
    """Twelve 16x16 grey images, one label missing; one image 20x24 and one in colour."""
    write_image_folder(tmp_path, 12, pixels=16, missing_shape=(4,))
    images = tmp_path / "images"
    big = np.linspace(0, 255, 20 * 24).reshape(20, 24, 1).astype(np.uint8)
    tf.io.write_file(str(images / "img_002.png"), tf.io.encode_png(big))
    colour = np.zeros((16, 16, 3), np.uint8)
    colour[4:12, 4:12] = (250, 40, 90)
    tf.io.write_file(str(images / "img_007.png"), tf.io.encode_png(colour))


def _load_data(project, folder) -> tuple[dict, dict]:
    namespace: dict = {"__name__": "exported"}
    exec(compile(generate_script(project, folder), "script.py", "exec"), namespace)
    return namespace["load_data"]()


@pytest.mark.parametrize("scale", ["unit", "symmetric", "none"])
def test_the_script_reads_the_folder_into_the_arrays_mogui_reads(tmp_path, scale):
    _folder(tmp_path)
    project = image_project(16)
    project.data.scale = scale
    mine = open_source(project, tmp_path)
    assert isinstance(mine, Dataset)
    x, y = _load_data(project, tmp_path)
    assert x["image"].dtype == mine.x["image"].dtype == np.float32
    np.testing.assert_array_equal(x["image"], mine.x["image"])
    assert set(y) == set(mine.y) == {"bbox", "shape"}
    for name in y:
        assert y[name].dtype == mine.y[name].dtype, name
        np.testing.assert_array_equal(y[name], mine.y[name], err_msg=name)
    assert y["shape"][4, 0] == -1  # the missing label
    assert x["image"].shape == (12, 16, 16, 1)  # resized, in grey
    project.data.scale = "none"
    pixels = _load_data(project, tmp_path)[0]["image"]
    assert set(np.unique(pixels)) <= set(range(256))  # whole 0..255 values
    scaled = {"unit": pixels / 255, "symmetric": pixels / 127.5 - 1, "none": pixels}[scale]
    np.testing.assert_allclose(x["image"], scaled, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_streamed_image_project_exports_a_script_that_runs_on_its_own(tmp_path):
    _folder(tmp_path)
    project = image_project(16)
    project.data.streaming = "always"
    project.training.epochs = 1
    result = export_project(project, tmp_path / "export", formats=(), project_dir=tmp_path)
    assert "data.npz" not in result.files and "IMAGE_FOLDER = Path(" in result.script
    export = tmp_path / "export"
    script = next(export.glob("train_*.py"))
    exported = (export / "history.csv").read_bytes()
    done = subprocess.run([sys.executable, str(script)], cwd=export, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (export / "rerun" / "history.csv").is_file()  # not over the exported files
    assert (export / "history.csv").read_bytes() == exported
    with pytest.raises(ExportError, match="streamed from disk"):
        export_project(project, tmp_path / "snap", formats=(), project_dir=tmp_path,
                       data_snapshot=True)
    assert not (tmp_path / "snap").exists()


@pytest.mark.slow
def test_a_snapshot_of_images_held_in_memory_stays_an_option(tmp_path):
    _folder(tmp_path)
    project = image_project(16)
    project.training.epochs = 1
    snap = export_project(project, tmp_path / "snap", formats=(), project_dir=tmp_path,
                          data_snapshot=True)
    assert "data.npz" in snap.files and "IMAGE_FOLDER" not in snap.script
    x, _y = _load_data(project, tmp_path)
    with np.load(tmp_path / "snap" / "data.npz") as npz:
        np.testing.assert_array_equal(npz["image"], x["image"])
