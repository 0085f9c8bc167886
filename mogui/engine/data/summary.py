"""What a data file holds, column by column, before any project exists: the first step of a
project made from data (``mogui init``, the app's New from data).

:func:`summarize_data` reads a CSV table (chunk by chunk), an ``.npz`` file (array by array) or
an image folder's label table, and returns a :class:`~mogui.core.from_data.DataSummary`; the
rest (tasks, features, the default model) is pure Python in :mod:`mogui.core.from_data` and
:mod:`mogui.core.default_model`.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import tensorflow as tf

from mogui.core.columns import MAX_LISTED, ColumnKind, ColumnStats, ColumnSummary
from mogui.core.errors import DataError
from mogui.core.from_data import DataSummary
from mogui.core.paths import path_problem
from mogui.engine.data.sources.image_folder import IMAGE_SUFFIXES, image_error
from mogui.engine.data.sources.table import iter_chunks, read_header

#: Delimiters a table's header line is tried with, most likely first.
DELIMITERS = (",", ";", "\t", "|")
#: Images looked at for the model input's size and channels.
SHAPE_SAMPLE = 64


def guess_delimiter(path: Path) -> str:
    """The delimiter the table's first line uses most (``,`` when it holds none)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return ","  # read_header says what is wrong with the file
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def summarize_table(path: Path, delimiter: str | None = None) -> DataSummary:
    """Every column of a CSV table summarised, read in chunks."""
    delimiter = delimiter or guess_delimiter(path)
    header = read_header(path, delimiter)
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise DataError(f"The table '{path.name}' names the column(s) "
                        f"{', '.join(repr(t) for t in twice)} twice. Give every column its own "
                        "name in the header row.")
    stats = [ColumnStats(name) for name in header]
    rows = 0
    for chunk in iter_chunks(path, delimiter, 65536):
        rows += len(chunk.rows)
        for row in chunk.rows:
            for column, cell in zip(stats, row, strict=True):
                column.add_cell(cell)
    return DataSummary("csv", path, rows, tuple(s.summary() for s in stats), delimiter)


def array_summary(name: str, array: np.ndarray) -> ColumnSummary:
    """One ``.npz`` array summarised: a row is one sample (its first axis)."""
    rows = int(array.shape[0]) if array.ndim else 0
    shape = tuple(int(d) for d in array.shape[1:])
    flat = array.reshape(rows, -1) if rows else array.reshape(0, 1)
    if array.dtype.kind in "US":
        stats = ColumnStats(name, shape)
        for cell in flat[:, 0]:
            stats.add_cell(str(cell))
        return stats.summary()
    if array.dtype.kind not in "biuf":
        raise DataError(f"The array '{name}' holds {array.dtype} values; arrays must hold "
                        "numbers (or text for class names).")
    values = flat.astype(np.float64)
    if array.dtype.kind == "f":
        missing_rows = ~np.isfinite(values).all(axis=1)
    else:  # class ids: a row of -1 has no label
        missing_rows = (values == -1).all(axis=1) if values.size and \
            values[values != -1].min(initial=0) >= 0 else np.zeros(rows, dtype=bool)
    present = values[~missing_rows]
    present = present[np.isfinite(present)]
    if present.size == 0:
        return ColumnSummary(name, "empty", rows, rows, shape=shape)
    kind: ColumnKind = "integer" if np.all(present == np.round(present)) else "number"
    distinct, listed = MAX_LISTED + 1, ()
    if present.size <= 5_000_000:
        unique = np.unique(present)
        if len(unique) <= MAX_LISTED:
            distinct = len(unique)
            listed = tuple(f"{int(v)}" if kind == "integer" else f"{v:g}" for v in unique)
    return ColumnSummary(name, kind, rows, int(missing_rows.sum()), float(present.min()),
                         float(present.max()), float(present.mean()), float(present.std()),
                         distinct, listed, shape)


def summarize_npz(path: Path) -> DataSummary:
    """Every array of an ``.npz`` file summarised; all must have the same number of rows."""
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The data file '{path}' {problem}.")
    if not zipfile.is_zipfile(path):
        raise DataError(f"The data file '{path.name}' is not a NumPy .npz archive. Save the "
                        "arrays with numpy.savez, or give a CSV table.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"The data file '{path.name}' cannot be read as a NumPy .npz archive "
                        f"({' '.join(str(exc).split())}). Save it with numpy.savez.") from None
    if not arrays:
        raise DataError(f"The data file '{path.name}' holds no arrays.")
    rows = {name: (a.shape[0] if a.ndim else 0) for name, a in arrays.items()}
    if len(set(rows.values())) > 1:
        listing = ", ".join(f"'{n}': {r}" for n, r in rows.items())
        raise DataError(f"The arrays of '{path.name}' have different numbers of rows "
                        f"({listing}). Every array needs one row per sample.")
    columns = tuple(array_summary(name, array) for name, array in arrays.items())
    return DataSummary("npz", path, next(iter(rows.values())), columns)


def find_labels(folder: Path) -> Path:
    """The label table of an image folder: the only CSV file in it, or ``labels.csv`` beside
    it."""
    inside = sorted(p for p in folder.glob("*.csv") if p.is_file())
    if len(inside) == 1:
        return inside[0]
    beside = folder.parent / "labels.csv"
    if not inside and beside.is_file():
        return beside
    found = f"it holds {', '.join(p.name for p in inside)}" if inside else "none was found"
    raise DataError(f"Which table labels the images in '{folder.name}'? Give it with --labels "
                    f"TABLE ({found}; a single CSV file in the folder, or labels.csv beside it, "
                    "is found by itself).")


def image_cells_column(names: list[str], rows: list[list[str]]) -> tuple[str, str] | None:
    """The first column whose first 20 cells in ``rows`` that are not empty all end in an
    image suffix, with its first such cell; ``None`` when no column does."""
    for index, name in enumerate(names):
        cells = [cell for row in rows if index < len(row) and (cell := row[index].strip())]
        if cells and all(cell.lower().endswith(IMAGE_SUFFIXES) for cell in cells[:20]):
            return name, cells[0]
    return None


def image_table_note(table: DataSummary) -> str | None:
    """What to do instead when a CSV table given as the data names image files: give the
    folder of images (the table's own folder, or one beside it holding the first image)."""
    found = image_cells_column(table.names, _first_rows(table.path, table.delimiter))
    if found is None:
        return None
    column, first = found
    here = table.path.parent
    folders = [here, *sorted(p for p in here.iterdir() if p.is_dir())]
    folder = next((f for f in folders if (f / first).is_file()), None)
    where = f"the folder '{folder}'" if folder else "the folder that holds those images"
    return (f"The column '{column}' names image files ('{first}', ...); read as a table, "
            f"the images themselves are not used. To train on them, give {where} as the data "
            f"and this table as its labels (mogui init --data FOLDER --labels "
            f"{table.path.name}; in the app, New from data, Image folder + table of labels).")


def find_file_column(summary: DataSummary, rows: list[list[str]]) -> str:
    """The column whose cells name image files: in ``rows`` (the table's first rows), its
    first 20 cells that are not empty end in an image suffix; else a column named like one."""
    if (found := image_cells_column(summary.names, rows)) is not None:
        return found[0]
    for column in summary.columns:
        if column.name.lower() in ("file", "filename", "file_name", "image", "path"):
            return column.name
    raise DataError(f"No column of '{summary.path.name}' names the image files (cells like "
                    f"img_001.png). Give it with --file-column; the columns are "
                    f"{', '.join(repr(n) for n in summary.names)}.")


def image_shape(path: Path) -> tuple[int, int, int]:
    """(height, width, channels) of one image file."""
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False)
    except (tf.errors.OpError, OSError) as exc:
        raise image_error(path.name, exc, "Replace it with a PNG, JPEG, GIF or BMP file.") \
            from None
    height, width, channels = (int(d) for d in image.shape)
    return height, width, 1 if channels == 1 else 3


def images_shape(folder: Path, files: list[str]) -> tuple[int, int, int]:
    """(height, width, channels) for the model's input: the most common size among up to
    :data:`SHAPE_SAMPLE` images spread over ``files`` (the earliest of equally common ones),
    and RGB when any of them has colour (grey images are converted)."""
    step = max(1, len(files) // SHAPE_SAMPLE)
    shapes = [image_shape(folder / name) for name in files[::step][:SHAPE_SAMPLE]]
    (height, width), _count = Counter(shape[:2] for shape in shapes).most_common(1)[0]
    return height, width, 3 if any(shape[2] == 3 for shape in shapes) else 1


def _first_rows(path: Path, delimiter: str, count: int = 64) -> list[list[str]]:
    """The first ``count`` data rows of a table, as written."""
    first = next(iter_chunks(path, delimiter, count), None)
    return first.rows if first is not None else []


def summarize_image_folder(folder: Path, labels: Path | None = None,
                           file_column: str | None = None,
                           delimiter: str | None = None) -> DataSummary:
    """An image folder's label table summarised (without its file-name column), with the
    images' size (:func:`images_shape`)."""
    if (problem := path_problem(folder, "folder")) is not None:
        raise DataError(f"The image folder '{folder}' {problem}.")
    labels = labels or find_labels(folder)
    table = summarize_table(labels, delimiter)
    column = file_column or find_file_column(table, _first_rows(labels, table.delimiter))
    if column not in table.names:
        raise DataError(f"The table '{labels.name}' has no column '{column}'. Its columns are "
                        f"{', '.join(repr(n) for n in table.names)}.")
    files: list[str] = []
    index = table.names.index(column)
    for chunk in iter_chunks(labels, table.delimiter, 65536):
        files.extend(row[index].strip() for row in chunk.rows)
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        shown = ", ".join(f"'{m}'" for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(f"{len(missing)} image file(s) listed in '{labels.name}' are not in "
                        f"'{folder.name}': {shown}{more}. Add the files or remove their rows.")
    columns = tuple(c for c in table.columns if c.name != column)
    return DataSummary("image_folder", labels, table.rows, columns, table.delimiter, folder,
                       column, images_shape(folder, files))


def summarize_data(path: str | Path, *, labels: str | Path | None = None,
                   file_column: str | None = None, delimiter: str | None = None
                   ) -> DataSummary:
    """A CSV table, an ``.npz`` file or an image folder (with its label table) summarised."""
    path = Path(path)
    if path.is_dir():
        return summarize_image_folder(path, Path(labels) if labels else None, file_column,
                                      delimiter)
    if labels is not None or file_column is not None:
        raise DataError("--labels and --file-column belong to an image folder; "
                        f"'{path.name}' is a file.")
    if (problem := path_problem(path)) is not None:
        raise DataError(f"The data file '{path}' {problem}.")
    if path.suffix.lower() == ".npz" or zipfile.is_zipfile(path):
        return summarize_npz(path)
    table = summarize_table(path, delimiter)
    note = image_table_note(table)
    return replace(table, notes=(note,)) if note else table


__all__ = ["array_summary", "guess_delimiter", "summarize_data", "summarize_image_folder",
           "summarize_npz", "summarize_table"]
