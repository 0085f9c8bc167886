"""CSV tables read by Arrow's C reader: the fast way to read the columns a project maps.

Arrow parses and converts on its own threads, outside Python's interpreter lock, and reads only
the mapped columns: numbers as float64 (empty cells, ``NaN``, ``NA``, ``N/A`` and ``null`` as
NaN), category names as a dictionary of distinct strings. Where Arrow stops on a table (a row
of another width, a cell that is not a number, bytes that are not UTF-8, a number Arrow reads
differently such as ``1_000``), :func:`read_chunks` goes on from the same row with
:func:`mogui.engine.data.sources.table.iter_chunks`, which reads tables the reference way and
names the line of any problem. Both give the same chunks, so a table reads the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from mogui.engine.data.sources.table import Chunk, iter_chunks, read_header

#: Bytes of text Arrow parses at once (its chunks are then cut to ``chunk_rows``).
BLOCK_BYTES = 1 << 20
#: Cells Arrow reads as "no value" in a number column; other spellings (``nA``, `` NA ``) make
#: Arrow stop, and the reference reader takes over.
NULL_CELLS = ["", "nan", "NaN", "NAN", "na", "NA", "Na", "n/a", "N/A", "N/a", "null", "NULL",
              "Null"]


@dataclass
class ArrowChunk:
    """Consecutive data rows read by Arrow; ``start`` is the index of the first (0-based).

    Has the methods of :class:`~mogui.engine.data.sources.table.Chunk` that
    :class:`~mogui.engine.data.sources.table.ChunkConverter` uses.
    """

    start: int
    batch: pa.RecordBatch

    @property
    def num_rows(self) -> int:
        return self.batch.num_rows

    def _array(self, index: int) -> pa.Array:
        return self.batch.column(f"c{index}")

    def column(self, index: int) -> tuple[str, ...]:
        array = self._array(index)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        return tuple("" if cell is None else str(cell) for cell in array.to_pylist())

    def numbers(self, index: int) -> np.ndarray | None:
        array = self._array(index)
        if not pa.types.is_floating(array.type):
            return None
        return array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)

    def labels(self, index: int) -> tuple[list[str], np.ndarray]:
        array = self._array(index)  # a column of names is read as a dictionary
        names = [str(name).strip() for name in array.dictionary.to_pylist()]
        return names, array.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def arrow_chunks(path: Path, delimiter: str, width: int, chunk_rows: int,
                 number_columns: Sequence[int], name_columns: Sequence[int]
                 ) -> Iterator[ArrowChunk]:
    """Data rows (of a table with ``width`` columns) in chunks of at most ``chunk_rows``, with
    the columns at ``number_columns`` as float64 and at ``name_columns`` as dictionary strings
    (a column in both: strings). Raises ``pyarrow.ArrowException`` (or OSError) where Arrow
    cannot read the table."""
    types: dict[str, pa.DataType] = {f"c{i}": pa.float64() for i in number_columns}
    types.update({f"c{i}": pa.dictionary(pa.int32(), pa.string()) for i in name_columns})
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=[f"c{i}" for i in range(width)],
                                        skip_rows=1, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types=types, include_columns=list(types),
                                              null_values=NULL_CELLS,
                                              strings_can_be_null=False))
    start = 0
    with reader:
        for batch in reader:
            for offset in range(0, batch.num_rows, chunk_rows):
                part = batch.slice(offset, chunk_rows)
                yield ArrowChunk(start, part)
                start += part.num_rows


def read_chunks(path: Path, delimiter: str, chunk_rows: int, number_columns: Sequence[int],
                name_columns: Sequence[int], fast: bool = True) -> Iterator[Chunk | ArrowChunk]:
    """The table's data rows in chunks: read by Arrow (``fast``) and, from the row where Arrow
    stops (if it does), by the reference reader, which raises a DataError naming the line."""
    done = 0
    width = len(read_header(path, delimiter)) if fast else 0
    if width > 1:  # one column: blank lines are rows
        try:
            for chunk in arrow_chunks(path, delimiter, width, chunk_rows, number_columns,
                                      name_columns):
                yield chunk
                done += chunk.num_rows
            if done:
                return
        except (pa.ArrowException, OSError):
            pass
    for chunk in iter_chunks(path, delimiter, chunk_rows):
        if chunk.start + chunk.num_rows <= done:
            continue
        if chunk.start < done:
            chunk = Chunk(done, chunk.rows[done - chunk.start:])
        yield chunk


def count_rows(path: Path, delimiter: str, fast: bool = True) -> int:
    """Data rows in the table (Arrow reads the first column only)."""
    return sum(chunk.num_rows for chunk in read_chunks(path, delimiter, 1 << 20, [], [0],
                                                         fast))
