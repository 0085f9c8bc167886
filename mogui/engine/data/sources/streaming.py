"""Data read from disk while training: a ``tf.data`` pipeline with prefetch, bounded memory.

A :class:`StreamingDataset` never holds the whole data set. It yields consecutive chunks (a few
thousand rows) that training turns into batches of ``(x, y, sample_weight)``, each a dict keyed
by input or head name; the next chunks are read and converted in a background thread while
training takes the current one (:func:`read_ahead`). The validation rows are the same ones
:meth:`Dataset.split` would pick for the same seed (only a boolean row mask is kept in memory).
"""

from __future__ import annotations

import math
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import tensorflow as tf

from mogui.core.project import Project
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import prepare_masked_targets
from mogui.engine.plain_keras.batches import packed_weights

#: Files (or decoded images) larger than this stream when the source's streaming is "auto".
AUTO_STREAM_BYTES = 256 * 1024 * 1024
#: Chunks read, converted and shuffled ahead (in a background thread) while training takes one.
READ_AHEAD = 2

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` items ahead of the consumer,
    so that reading and converting the next chunk overlaps with training on this one. An
    exception in the thread is raised here; closing the iterator stops the thread."""
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # noqa: BLE001 - raised again in the consumer
            put((False, exc))

    thread = threading.Thread(target=produce, name="mogui-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = ready.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()


@dataclass
class RowSelection:
    """Which rows of a streaming source one pipeline reads (``None``: all of them)."""

    rows: np.ndarray | None
    count: int


class StreamingDataset(ABC):
    """A data source read chunk by chunk. Subclasses yield :class:`Dataset` chunks."""

    label: str = "the data"
    chunk_rows: int = 4096

    @property
    @abstractmethod
    def num_samples(self) -> int:
        """Number of rows (samples)."""

    @abstractmethod
    def iter_chunks(self) -> Iterator[tuple[int, Dataset]]:
        """``(first_row, chunk)`` pairs in file order; targets keep missing-label markers."""

    def targets_only(self) -> Dataset:
        """Every row's targets, without the inputs (one pass over the data)."""
        return concat([Dataset(x={}, y=chunk.y) for _start, chunk in self.iter_chunks()])

    def take(self, n: int) -> Dataset:
        """The first ``n`` rows, in memory (for dry runs, previews and checks)."""
        parts: list[Dataset] = []
        have = 0
        for _start, chunk in self.iter_chunks():
            parts.append(chunk.take(n - have))
            have += parts[-1].num_samples
            if have >= n:
                break
        return concat(parts)

    def split(self, validation_split: float, seed: int, shuffle: bool = True
              ) -> tuple[RowSelection, RowSelection | None]:
        """Rows for training and for validation, matching :meth:`Dataset.split`."""
        n = self.num_samples
        n_val = int(round(n * validation_split))
        if validation_split > 0.0:
            n_val = min(max(n_val, 1), n - 1)
        if n_val <= 0:
            return RowSelection(None, n), None
        order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
        is_val = np.zeros(n, dtype=bool)
        is_val[order[n - n_val:]] = True
        return RowSelection(~is_val, n - n_val), RowSelection(is_val, n_val)

    def prepared_chunks(self, project: Project, selection: RowSelection
                        ) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                            dict[str, np.ndarray]]]:
        """The selected rows, chunk by chunk, as ``(x, y, sample_weight)`` ready for Keras."""
        for start, chunk in self.iter_chunks():
            if selection.rows is not None:
                keep = np.flatnonzero(selection.rows[start:start + chunk.num_samples])
                if keep.size == 0:
                    continue
                chunk = chunk.subset(keep)
            yield self._prepared(project, chunk)

    # -- tf.data -------------------------------------------------------------------------------
    def batches(self, project: Project, selection: RowSelection, batch_size: int, *,
                shuffle: bool = False, seed: int = 0) -> Any:
        """A ``tf.data.Dataset`` of ``(x, y, sample_weight)`` batches with prefetch.

        Shuffling permutes the rows inside each chunk, with a new order every epoch. The heads'
        sample weights are one matrix (``packed_weights``).
        """
        example = self._packed(self._prepared(project, self.take(1)))
        signature = tf.nest.map_structure(
            lambda v: tf.TensorSpec((None, *v.shape[1:]), tf.as_dtype(v.dtype)), example)
        epoch = [0]

        def prepared() -> Iterator[tuple[dict, dict, np.ndarray]]:
            rng = np.random.default_rng([seed, epoch[0]])
            epoch[0] += 1
            for start, chunk in self.iter_chunks():
                if selection.rows is not None:
                    keep = np.flatnonzero(selection.rows[start:start + chunk.num_samples])
                    if keep.size == 0:
                        continue
                    chunk = chunk.subset(keep)
                if shuffle:
                    chunk = chunk.subset(rng.permutation(chunk.num_samples))
                yield self._packed(self._prepared(project, chunk))

        def generate() -> Iterator[tuple[dict, dict, np.ndarray]]:
            yield from read_ahead(prepared())

        data = tf.data.Dataset.from_generator(generate, output_signature=signature)
        data = data.rebatch(batch_size)
        steps = math.ceil(selection.count / batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(steps))
        return data.prefetch(tf.data.AUTOTUNE)

    @staticmethod
    def _packed(prepared: tuple[dict, dict, dict]) -> tuple[dict, dict, np.ndarray]:
        x, y, weights = prepared
        return x, y, packed_weights(weights)

    def _prepared(self, project: Project, chunk: Dataset
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        x = {spec.name: chunk.x[spec.name].astype(spec.dtype, copy=False)
             for spec in project.inputs}
        y, weights = prepare_masked_targets(project, chunk.y)
        return x, y, weights


def concat(parts: list[Dataset]) -> Dataset:
    """Rows of several datasets with the same arrays, one after another."""
    if not parts:
        return Dataset(x={}, y={})
    if len(parts) == 1:
        return parts[0]
    return Dataset(x={k: np.concatenate([p.x[k] for p in parts]) for k in parts[0].x},
                   y={k: np.concatenate([p.y[k] for p in parts]) for k in parts[0].y})


def should_stream(setting: str, estimated_bytes: int) -> bool:
    """Whether a source with ``streaming`` = ``setting`` streams data of this size."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    return estimated_bytes > AUTO_STREAM_BYTES
