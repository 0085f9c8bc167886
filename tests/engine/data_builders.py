"""Real data files for the data-source tests: CSV tables, .npz archives and image folders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mogui.core.project import (
    ColumnMap,
    CsvData,
    HeadSpec,
    ImageFolderData,
    InputSpec,
    LayerSpec,
    NpzData,
    Project,
)
from mogui.engine.plain_keras.demo_shapes import SHAPE_CLASSES, make_demo_arrays

KINDS = ("cat", "dog", "owl")
JOINT_PER_SAMPLE = """
import keras
from keras import ops


def loss(y_true, y_pred):
    size = ops.mean(ops.square(y_true["size"] - y_pred["size"]), axis=-1)
    labels = ops.reshape(y_true["kind"], (-1,))
    kind = keras.losses.sparse_categorical_crossentropy(labels, y_pred["kind"])
    return {"size": size, "kind": kind}
"""
JOINT_WITH_MASK = """
import keras
from keras import ops


def loss(y_true, y_pred, mask):
    size = ops.mean(ops.square(y_true["size"] - y_pred["size"]), axis=-1)
    return ops.sum(size * mask["size"]) / ops.sum(mask["size"])
"""


def table_project(data: CsvData | NpzData | None = None) -> Project:
    """Input ``x`` (3 numbers); heads ``size`` (regression) and ``kind`` (3 classes)."""
    return Project(
        name="table",
        inputs=[InputSpec(name="x", shape=[3])],
        trunk=[LayerSpec(name="hidden", kind="Dense", params={"units": 8,
                                                             "activation": "relu"})],
        heads=[HeadSpec(name="size", task="regression", units=1),
               HeadSpec(name="kind", task="multiclass", units=3)],
        training={"batch_size": 64, "epochs": 1, "validation_split": 0.25, "seed": 3},
        data=data or NpzData(path="data.npz"))


def table_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (n, 3), sizes (n,) and kind ids (n,) with learnable structure."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).round(3)
    size = (x @ np.array([0.5, -1.0, 2.0]) + 0.1 * rng.normal(size=n)).round(3)
    kind = (np.digitize(x[:, 0], [-0.4, 0.4])).astype(int)
    return x, size, kind


def write_table(folder: Path, n: int = 40, *, missing_size: tuple[int, ...] = (),
                missing_kind: tuple[int, ...] = (), name: str = "table.csv") -> Path:
    """A CSV with columns a, b, c, size, kind (category names); listed rows left empty."""
    x, size, kind = table_arrays(n)
    path = folder / name
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "c", "size", "kind"])
        for i in range(n):
            writer.writerow([*x[i], "" if i in missing_size else size[i],
                             "" if i in missing_kind else KINDS[kind[i]]])
    return path


def csv_source(path: Path, **options: object) -> CsvData:
    return CsvData(path=path.name,
                   inputs=[ColumnMap(name="x", columns=["a", "b", "c"])],
                   targets=[ColumnMap(name="size", columns=["size"]),
                            ColumnMap(name="kind", columns=["kind"], classes=list(KINDS))],
                   **options)


def write_npz(folder: Path, n: int = 40, *, missing_size: tuple[int, ...] = (),
              missing_kind: tuple[int, ...] = ()) -> Path:
    """The table's data as an .npz: NaN marks missing sizes, -1 missing kinds."""
    x, size, kind = table_arrays(n)
    size = size.astype(np.float32).reshape(-1, 1)
    kind = kind.astype(np.int32).reshape(-1, 1)
    size[list(missing_size)] = np.nan
    kind[list(missing_kind)] = -1
    path = folder / "data.npz"
    np.savez(path, x=x.astype(np.float32), size=size, kind=kind)
    return path


def image_project(size: int = 16) -> Project:
    """A small detection model: image -> ``bbox`` (4 numbers) and ``shape`` (6 classes)."""
    return Project(
        name="images",
        inputs=[InputSpec(name="image", shape=[size, size, 1])],
        trunk=[LayerSpec(name="conv", kind="Conv2D", params={"filters": 4, "kernel_size": 3,
                                                            "activation": "relu"}),
               LayerSpec(name="pool", kind="GlobalAveragePooling2D")],
        heads=[HeadSpec(name="bbox", task="regression", units=4),
               HeadSpec(name="shape", task="multiclass", units=6)],
        training={"batch_size": 16, "epochs": 1, "validation_split": 0.25, "seed": 1},
        data=ImageFolderData(folder="images", labels="labels.csv", targets=[
            ColumnMap(name="bbox", columns=["x_min", "y_min", "x_max", "y_max"]),
            ColumnMap(name="shape", columns=["shape"], classes=list(SHAPE_CLASSES))]))


def write_image_folder(root: Path, n: int = 24, *, pixels: int = 20,
                       missing_shape: tuple[int, ...] = (), image_format: str = "png"
                       ) -> tuple[Path, np.ndarray]:
    """Images of the demo shapes (``pixels`` square; ``image_format`` ``png`` or ``jpeg``) and
    ``labels.csv`` beside them.

    Returns the labels path and the images as 0..1 floats (n, pixels, pixels, 1), as written
    (a JPEG decodes to slightly different values).
    """
    import tensorflow as tf

    images, boxes, labels = make_demo_arrays(n, pixels, seed=5)
    folder = root / "images"
    folder.mkdir(parents=True, exist_ok=True)
    as_bytes = np.round(images * 255).astype(np.uint8)
    encode = tf.io.encode_png if image_format == "png" else tf.io.encode_jpeg
    suffix = "png" if image_format == "png" else "jpg"
    for i in range(n):
        tf.io.write_file(str(folder / f"img_{i:03d}.{suffix}"), encode(as_bytes[i]))
    path = root / "labels.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "x_min", "y_min", "x_max", "y_max", "shape"])
        for i in range(n):
            name = "" if i in missing_shape else SHAPE_CLASSES[int(labels[i, 0])]
            writer.writerow([f"img_{i:03d}.{suffix}", *boxes[i].round(4), name])
    return path, as_bytes.astype(np.float32) / 255.0
