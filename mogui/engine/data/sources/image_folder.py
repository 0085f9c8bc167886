"""A folder of images plus a CSV naming each image's file and its targets.

Images are decoded with TensorFlow (PNG, JPEG, GIF, BMP), converted to the input's channel
count, resized to its height and width (when ``resize`` is on) and scaled to 0..1, -1..1 or
left at 0..255. Small folders are decoded once into memory; large ones stream through a
``tf.data`` pipeline that decodes in parallel and prefetches, and with ``cache`` keeps the
decoded images (in memory or in a temporary file) for the epochs after the first.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from mogui.core.errors import DataError
from mogui.core.paths import path_problem
from mogui.core.project import ImageFolderData, InputSpec, Project
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import prepare_masked_targets
from mogui.engine.data.sources.image_cache import (
    CACHE_RECORD,
    SHUFFLE_RECORDS,
    shuffle_rows,
)
from mogui.engine.data.sources.streaming import (
    RowSelection,
    StreamingDataset,
    concat,
    should_stream,
)
from mogui.engine.data.sources.table import ChunkConverter, check_columns, iter_chunks, read_header
from mogui.engine.plain_keras.batches import packed_weights
from mogui.engine.plain_keras.images import decode_image, decode_pixels, scale_pixels

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


class ImageFolder(StreamingDataset):
    """Images named by a labels table; the table (names and targets) is held, images are not."""

    def __init__(self, project: Project, source: ImageFolderData, folder: Path,
                 labels: Path) -> None:
        self.project = project
        self.source = source
        self.folder = folder
        self.label = f"the images in '{folder.name}'"
        self.chunk_rows = 256
        if source.input not in project.input_names:
            raise DataError(f"The image folder feeds input '{source.input}', but the project "
                            f"has no such input (inputs: {project.input_names}). Pick one of "
                            "them in the data settings.")
        self.spec: InputSpec = project.inputs[project.input_names.index(source.input)]
        if len(self.spec.shape) != 3 or self.spec.shape[2] not in (1, 3, 4) \
                or not self.spec.is_fixed:
            raise DataError(f"Input '{self.spec.name}' has shape {list(self.spec.shape)}; "
                            "images need [height, width, channels] with 1 (grey), 3 (RGB) or "
                            "4 (RGBA) channels, each a fixed size (not None). Change the "
                            "input's shape.")
        if (problem := path_problem(folder, "folder")) is not None:
            raise DataError(f"The image folder '{folder}' {problem}. Check the folder in the "
                            "data settings (it is relative to the project file).")
        header = read_header(labels, source.delimiter)
        check_columns(header, [], labels)
        if source.file_column not in header:
            raise DataError(f"The labels table '{labels.name}' has no column "
                            f"'{source.file_column}' naming the image files. Its columns are "
                            f"{', '.join(repr(h) for h in header)}. Pick the file-name column "
                            "in the data settings.")
        converter = ChunkConverter(project, header, [], source.targets, labels)
        column = header.index(source.file_column)
        files: list[str] = []
        parts: list[Dataset] = []
        for chunk in iter_chunks(labels, source.delimiter, 65536):
            files.extend(row[column].strip() for row in chunk.rows)
            parts.append(converter.convert(chunk))
        self.files = files
        self.targets = concat(parts).y if parts else {}
        self._cache_dir: Path | None = None
        self._caches = 0
        missing = [name for name in files if not (folder / name).is_file()]
        if missing:
            shown = ", ".join(f"'{m}'" for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise DataError(f"{len(missing)} image file(s) listed in '{labels.name}' are not in "
                            f"'{folder.name}': {shown}{more}. Add the files or remove their "
                            "rows.")

    @property
    def num_samples(self) -> int:
        return len(self.files)

    def _cache_folder(self) -> Path:
        """A new folder in this source's temporary cache folder (removed with the source)."""
        if self._cache_dir is None:
            self._cache_dir = Path(tempfile.mkdtemp(prefix="mogui-image-cache-"))
            weakref.finalize(self, shutil.rmtree, self._cache_dir, True)
        self._caches += 1
        folder = self._cache_dir / f"pipeline-{self._caches}"
        folder.mkdir()
        return folder

    @property
    def decoded_bytes(self) -> int:
        return self.num_samples * int(np.prod(self.spec.shape)) * 4

    def path_of(self, row: int) -> Path:
        return self.folder / self.files[row]

    def iter_chunks(self) -> Iterator[tuple[int, Dataset]]:
        for start in range(0, self.num_samples, self.chunk_rows):
            stop = min(start + self.chunk_rows, self.num_samples)
            images = np.stack([self.decode(row) for row in range(start, stop)])
            targets = {k: v[start:stop] for k, v in self.targets.items()}
            yield start, Dataset(x={self.spec.name: images}, y=targets)

    def targets_only(self) -> Dataset:
        """Every row's targets, held already: no image is read."""
        return Dataset(x={}, y=dict(self.targets))

    def load(self) -> Dataset:
        """Every image decoded, in memory."""
        return concat([chunk for _start, chunk in self.iter_chunks()])

    def decode(self, row: int) -> np.ndarray:
        """One image as float32 ``[height, width, channels]``; DataError names a bad file."""
        path = self.path_of(row)
        try:
            image = decode_image(tf.io.read_file(str(path)), tuple(self.spec.shape),
                                 self.source.resize, self.source.scale)
        except (tf.errors.OpError, OSError) as exc:
            raise image_error(path.name, exc, "Replace it with a PNG, JPEG, GIF or BMP file, "
                              "or remove its row.") from None
        height, width, _ = self.spec.shape
        if image.shape[0] != height or image.shape[1] != width:
            raise DataError(f"The image '{path.name}' is {image.shape[1]}x{image.shape[0]} "
                            f"pixels but input '{self.spec.name}' takes {width}x{height}. "
                            "Turn on resizing in the data settings or resize the images.")
        return image.numpy()

    def batches(self, project: Project, selection: RowSelection, batch_size: int, *,
                shuffle: bool = False, seed: int = 0) -> Any:
        """Decode in parallel with ``tf.data``; shuffle with a bounded buffer.

        Images travel as whole 0..255 values (a quarter of the bytes of floats), in the cache
        too, and are scaled a batch at once; the heads' sample weights are one matrix. A cache
        holds records of ``CACHE_RECORD`` images (see :mod:`.image_cache`).
        """
        rows = np.arange(self.num_samples) if selection.rows is None \
            else np.flatnonzero(selection.rows)
        paths = np.array([str(self.path_of(r)) for r in rows])
        y, weights = prepare_masked_targets(project, {k: v[rows] for k, v in
                                                      self.targets.items()})
        weights = packed_weights(weights)
        spec, source = self.spec, self.source
        shape = tuple(spec.shape)

        def load(paths: Any, targets: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
            """Read and decode a batch of images (one ``tf.data`` call per batch: a call per
            image costs more than most small images take to decode)."""
            pixels = tf.map_fn(
                lambda path: tf.ensure_shape(
                    decode_pixels(tf.io.read_file(path), shape, source.resize), shape),
                paths, fn_output_signature=tf.TensorSpec(shape, tf.uint8))
            return {spec.name: pixels}, targets, sample_weight

        def scaled(x: Any, targets: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
            return {spec.name: scale_pixels(x[spec.name], source.scale)}, targets, sample_weight

        data = tf.data.Dataset.from_tensor_slices((paths, y, weights))
        if source.cache == "none":
            if shuffle:
                data = data.shuffle(min(len(rows), 16 * batch_size), seed=seed,
                                    reshuffle_each_iteration=True)
            data = data.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE)
        else:  # records of rows in file order, decoded once
            data = data.batch(CACHE_RECORD).map(load, num_parallel_calls=tf.data.AUTOTUNE)
            data = data.cache(str(self._cache_folder() / "records")
                              if source.cache == "disk" else "")
            if shuffle:  # a disk cache holds a few records in memory, a memory cache all
                held = 2 * SHUFFLE_RECORDS if source.cache == "disk" \
                    else math.ceil(len(rows) / CACHE_RECORD)
                data = shuffle_rows(data.shuffle(held, seed=seed, reshuffle_each_iteration=True),
                                    seed)
            data = data.rebatch(batch_size)
        data = data.map(scaled, num_parallel_calls=tf.data.AUTOTUNE)
        steps = math.ceil(len(rows) / batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(steps))
        data = data.prefetch(tf.data.AUTOTUNE)
        # The cache's folder goes with this source: the pipeline keeps the source alive, so
        # a pipeline whose source was let go still finds its cache.
        data._mogui_source = self
        return data


def image_error(name: str, exc: BaseException, fix: str) -> DataError:
    """``The image 'NAME' cannot be read (why). FIX``, why in words from TensorFlow's or the
    system's error."""
    why = " ".join(_plain(getattr(exc, "message", str(exc))).split())[:200].rstrip(".")
    if "Unknown image file format" in why:
        why = "it is not a PNG, JPEG, GIF or BMP image"
    return DataError(f"The image '{name}' cannot be read ({why}). {fix}")


def _plain(message: str) -> str:
    """TensorFlow's error text without its ``{{function_node …}}`` and ``[Op:…]`` decoration."""
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message.strip())
    text = re.sub(r"\s*\[Op:\w+\](\s*name:\s*\S*)?", "", text)
    return text.splitlines()[0].strip() if text else message


def open_image_folder(project: Project, source: ImageFolderData, folder: Path,
                      labels: Path) -> Dataset | ImageFolder:
    """The images in memory, or a streaming :class:`ImageFolder` when they are large."""
    images = ImageFolder(project, source, folder, labels)
    if should_stream(source.streaming, images.decoded_bytes):
        return images
    return images.load()
