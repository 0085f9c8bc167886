"""Reading CSV tables in chunks and turning chosen columns into input and target arrays.

Cells become numbers, or class ids when a column map lists ``classes``. An empty cell (or
``NaN``, ``NA``, ``N/A``, ``null``; see :mod:`mogui.engine.plain_keras.table_columns`) in a
head's columns marks that row unlabelled for the head (NaN, or -1 for class ids; see
:mod:`mogui.engine.data.masking`). Every problem is a :class:`DataError` naming the file, the column
and the line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import NoReturn, Protocol

import numpy as np

from mogui.core.errors import DataError
from mogui.core.paths import path_problem, read_problem
from mogui.core.project import ColumnMap, HeadSpec, InputSpec, Project
from mogui.core.tasks import Task
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import MISSING_LABEL
from mogui.engine.plain_keras.table_columns import EMPTY_CELLS, is_empty


class Rows(Protocol):
    """Consecutive data rows of a table, read by :func:`iter_chunks` (:class:`Chunk`) or by
    Arrow (:class:`~mogui.engine.data.sources.arrow_table.ArrowChunk`)."""

    start: int

    @property
    def num_rows(self) -> int: ...

    def column(self, index: int) -> tuple[str, ...]:
        """The cells of one column as text: as written, or for a column Arrow read as
        numbers, each number written out (``"1.0"``; ``""`` where empty)."""

    def numbers(self, index: int) -> np.ndarray | None:
        """One column as float64 (NaN where empty), or None: read the cells instead."""

    def labels(self, index: int) -> tuple[list[str], np.ndarray]:
        """One column's distinct names (stripped), and which of them each row holds."""


@dataclass
class Chunk:
    """Consecutive data rows of a table; ``start`` is the index of the first (0-based)."""

    start: int
    rows: list[list[str]]
    _columns: list[tuple[str, ...]] | None = field(default=None, repr=False)

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def column(self, index: int) -> tuple[str, ...]:
        """The cells of one column (the chunk is transposed once, on the first call)."""
        if self._columns is None:
            self._columns = list(zip(*self.rows, strict=True))
        return self._columns[index]

    def numbers(self, index: int) -> np.ndarray | None:
        """One column as float64, or None when a cell is empty or not a number as written."""
        cells = self.column(index)
        if "" in cells:
            return None
        try:
            return np.array(cells, dtype=np.float64)
        except ValueError:
            return None

    def labels(self, index: int) -> tuple[list[str], np.ndarray]:
        """One column's distinct stripped cells, and which of them each row holds."""
        cells = np.char.strip(np.asarray(self.column(index), dtype=str))
        names, where = np.unique(cells, return_inverse=True)
        return names.tolist(), where.reshape(-1)


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """The column names of the table's first line."""
    _require_file(path, "table")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(path, exc) from None
    if not header:
        raise DataError(f"The table '{path.name}' is empty. It needs a header row naming the "
                        "columns, then one row per sample.")
    return [name.strip() for name in header]


def iter_chunks(path: Path, delimiter: str, chunk_rows: int) -> Iterator[Chunk]:
    """Data rows (after the header) in chunks of at most ``chunk_rows``; blank lines skipped."""
    _require_file(path, "table")
    start = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            width = len(next(reader, []))
            while block := list(islice(reader, chunk_rows)):
                if set(map(len, block)) != {width}:  # blank lines, or a row of another width
                    block = [row for row in block if not _blank(row)]
                    if set(map(len, block)) - {width}:
                        _raise_first_bad_row(path, delimiter, width)
                    if not block:
                        continue
                yield Chunk(start, block)
                start += len(block)
            if start == 0:
                raise DataError(f"The table '{path.name}' has a header row but no data rows. "
                                "Add one row per sample below the header.")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(path, exc) from None


#: Names a table usually has; another that fails to read as one is said not to be one.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".tab", ".dat")


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _raise_first_bad_row(path: Path, delimiter: str, width: int) -> NoReturn:
    """Raise the DataError for the first row whose width differs from the header's, naming
    its line (read again row by row: line numbers count the lines of quoted cells too)."""
    fix = "Every row needs one cell per column (leave a cell empty rather than leaving it out)."
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, [])
        for row in reader:
            if not _blank(row) and len(row) != width:
                cells = f"{len(row)} cell{'' if len(row) == 1 else 's'}"
                if width == 1 or path.suffix.lower() not in TABLE_SUFFIXES:
                    raise DataError(
                        f"'{path.name}' does not look like a table: line {reader.line_num} has "
                        f"{cells} and the first line {width}. Give a CSV table whose first "
                        f"line names the columns, separated by '{delimiter}' (or another "
                        "delimiter: , ; tab |).")
                raise DataError(f"Line {reader.line_num} of '{path.name}' has {cells} but the "
                                f"header has {width}. {fix}")
    # Not found again: the file changed while it was read.
    raise DataError(f"A row of '{path.name}' does not have the header's {width} cells. {fix}")


def count_rows(path: Path, delimiter: str) -> int:
    """Data rows in the table, read in chunks."""
    return sum(len(chunk.rows) for chunk in iter_chunks(path, delimiter, 65536))


def _unreadable(path: Path, exc: Exception) -> DataError:
    if isinstance(exc, UnicodeDecodeError):
        return DataError(f"The table '{path.name}' {read_problem(path, exc)}.")
    return DataError(f"The table '{path.name}' cannot be read ({exc}). Save it as UTF-8 CSV "
                     "text with a header row.")


def _require_file(path: Path, what: str) -> None:
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The {what} file '{path}' {problem}. Check the path in the data "
                        "settings (it is relative to the project file).")


def check_columns(header: Sequence[str], maps: Sequence[ColumnMap], path: Path) -> None:
    """Every mapped column must be in the header."""
    missing = [(m.name, c) for m in maps for c in m.columns if c not in header]
    if missing:
        listing = ", ".join(f"'{c}' (for '{name}')" for name, c in missing)
        raise DataError(f"The table '{path.name}' has no column {listing}. Its columns are "
                        f"{', '.join(repr(h) for h in header)}. Pick existing columns in the "
                        "data settings or rename the header.")


class ChunkConverter:
    """Turns table chunks into a :class:`Dataset` for the project's inputs and heads."""

    def __init__(self, project: Project, header: Sequence[str], inputs: Sequence[ColumnMap],
                 targets: Sequence[ColumnMap], path: Path) -> None:
        check_columns(header, [*inputs, *targets], path)
        self.project = project
        self.path = path
        self.index = {name: i for i, name in enumerate(header)}
        self.inputs = list(inputs)
        self.targets = list(targets)
        known_heads = set(project.head_names)
        known_inputs = set(project.input_names)
        for m in self.inputs:
            if m.name not in known_inputs:
                raise DataError(f"The data settings map columns to input '{m.name}', but the "
                                f"project has no such input (inputs: {project.input_names}).")
        for m in self.targets:
            if m.name not in known_heads:
                raise DataError(f"The data settings map columns to head '{m.name}', but the "
                                f"project has no such head (heads: {project.head_names}).")

    def convert(self, chunk: Rows) -> Dataset:
        x = {m.name: self._input(m, chunk) for m in self.inputs}
        y = {m.name: self._target(m, chunk) for m in self.targets}
        return Dataset(x=x, y=y)

    def column_kinds(self) -> tuple[list[int], list[int]]:
        """Indices of the columns read as numbers and of those read as category names."""
        maps = [*self.inputs, *self.targets]
        names = sorted({self.index[c] for m in maps if m.classes for c in m.columns})
        numbers = sorted({self.index[c] for m in maps if not m.classes for c in m.columns}
                         - set(names))
        return numbers, names

    # -- columns ---------------------------------------------------------------------------
    def _numbers(self, column: str, chunk: Rows) -> np.ndarray:
        numbers = chunk.numbers(self.index[column])
        if numbers is not None:
            return numbers
        cells = np.asarray(chunk.column(self.index[column]), dtype=str)
        cells = np.where(empty_cells(cells), "nan", cells)
        try:
            return cells.astype(np.float64)
        except ValueError:
            for offset, cell in enumerate(cells.tolist()):
                try:
                    float(cell)
                except ValueError:
                    raise DataError(
                        f"Column '{column}' of '{self.path.name}' holds '{cell}' on line "
                        f"{chunk.start + offset + 2}, which is not a number. Fix the cell, or "
                        "list the column's category names as classes in the data settings."
                    ) from None
            raise

    def _class_ids(self, m: ColumnMap, chunk: Rows) -> np.ndarray:
        if len(m.columns) != 1:
            raise DataError(f"'{m.name}' maps {len(m.columns)} columns with category names; "
                            "category names come from exactly one column.")
        column = m.columns[0]
        names, where = chunk.labels(self.index[column])
        lookup = {name: i for i, name in enumerate(m.classes)}
        ids_of_names = np.full(len(names), MISSING_LABEL, dtype=np.int32)
        for n, name in enumerate(names):
            if name in lookup:
                ids_of_names[n] = lookup[name]
            elif not is_empty(name):
                offset = int(np.flatnonzero(where == n)[0])
                raise DataError(
                    f"Column '{column}' of '{self.path.name}' holds '{name}' on line "
                    f"{chunk.start + offset + 2}, which is not one of the classes listed for "
                    f"'{m.name}' ({', '.join(m.classes)}). Add it to the classes or fix the "
                    "cell.")
        return ids_of_names[where]

    def _input(self, m: ColumnMap, chunk: Rows) -> np.ndarray:
        spec = self.project.inputs[self.project.input_names.index(m.name)]
        if m.classes:
            ids = self._class_ids(m, chunk)
            return ids.reshape(-1, *(spec.sized(len(m.columns)) or spec.shape))
        columns = []
        for column in m.columns:
            numbers = self._numbers(column, chunk)
            empty = np.flatnonzero(~np.isfinite(numbers))
            if empty.size:
                raise DataError(
                    f"Column '{column}' of '{self.path.name}' is empty or not finite on line "
                    f"{chunk.start + int(empty[0]) + 2} ({empty.size} row(s) in lines "
                    f"{chunk.start + 2}-{chunk.start + chunk.num_rows + 1}), but it feeds "
                    f"input '{m.name}'. Only targets may be left empty: fill the cells or "
                    "remove those rows.")
            columns.append(numbers)
        return _reshape_input(spec, np.stack(columns, axis=1), m)

    def _target(self, m: ColumnMap, chunk: Rows) -> np.ndarray:
        head = self.project.head(m.name)
        if m.classes:
            ids = self._class_ids(m, chunk)
            if head.task == Task.MULTICLASS_ONEHOT:
                return one_hot_ids(ids, head.units)
            return ids.reshape(-1, 1)
        values = np.stack([self._numbers(c, chunk) for c in m.columns], axis=1)
        if head.task == Task.MULTICLASS_ONEHOT and len(m.columns) == 1 and head.units > 1:
            return one_hot_float_ids(values[:, 0], head)
        return values.astype(np.float32)


def empty_cells(cells: np.ndarray) -> np.ndarray:
    """Which cells of a string array hold no value (see :func:`is_empty`)."""
    return np.isin(np.char.lower(np.char.strip(cells)), sorted(EMPTY_CELLS))


def _reshape_input(spec: InputSpec, values: np.ndarray, m: ColumnMap) -> np.ndarray:
    shape = spec.sized(values.shape[1])  # a None axis (any length) takes the columns left
    if shape is None and spec.is_fixed:
        size = int(np.prod(spec.shape))
        raise DataError(
            f"Input '{spec.name}' has shape {list(spec.shape)} ({size} value(s) per sample) but "
            f"{len(m.columns)} column(s) are mapped to it. Map {size} column(s) or change the "
            "input's shape.")
    if shape is None:
        raise DataError(
            f"Input '{spec.name}' has shape {list(spec.shape)}: its None size takes the columns "
            f"its fixed sizes leave, but {len(m.columns)} column(s) are mapped to it, which "
            "do not fill them (and at most one size may be None). Map other columns or change "
            "the input's shape.")
    return values.reshape(-1, *shape).astype(np.float32)


def one_hot_ids(ids: np.ndarray, units: int) -> np.ndarray:
    """One-hot rows for class ids; a missing id (-1) gives a row of -1 (still missing)."""
    out = np.zeros((len(ids), units), dtype=np.int32)
    labelled = ids != MISSING_LABEL
    valid = labelled & (ids >= 0) & (ids < units)
    out[np.flatnonzero(valid), ids[valid]] = 1
    out[~labelled] = MISSING_LABEL
    return out


def one_hot_float_ids(values: np.ndarray, head: HeadSpec) -> np.ndarray:
    """One-hot rows from a column of numeric class ids; empty cells give NaN rows."""
    missing = np.isnan(values)
    ids = np.where(missing, 0, values)
    bad = ~missing & ((ids != np.round(ids)) | (ids < 0) | (ids >= head.units))
    if bad.any():
        value = values[np.flatnonzero(bad)[0]]
        raise DataError(f"Head '{head.name}' has {head.units} classes (ids 0..{head.units - 1}) "
                        f"but its column holds {value:g}. Fix the value or the head's units.")
    out = np.zeros((len(values), head.units), dtype=np.float32)
    out[np.arange(len(values)), ids.astype(np.int64)] = 1.0
    out[missing] = np.nan
    return out
