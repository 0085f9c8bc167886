"""CSV tables as arrays: chosen columns per input and per head, category names as class ids.

An empty cell (or ``NaN``, ``NA``, ``N/A``, ``null``, in any case) in a head's columns means
that row has no label for the head: NaN for numbers, -1 for class ids. A cell that is one of
the listed class names is that class, even when it reads ``NA``.
"""

import csv

import numpy as np

#: Cells that mean "no value", compared stripped and lower-cased.
EMPTY_CELLS = frozenset({"", "nan", "na", "n/a", "null"})


def is_empty(cell):
    """True when a cell holds no value."""
    return cell.strip().lower() in EMPTY_CELLS


def read_table(path, delimiter=","):
    """The header (stripped names) and the data rows of a UTF-8 CSV table; blank lines are
    skipped."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = [name.strip() for name in next(reader)]
        rows = [row for row in reader if row and not (len(row) == 1 and not row[0].strip())]
    return header, rows


def column_numbers(rows, index):
    """One column as float64 numbers; empty cells are NaN."""
    cells = ["nan" if is_empty(row[index]) else row[index].strip() for row in rows]
    return np.array(cells, dtype=np.float64)


def class_ids(rows, index, classes):
    """One column of class names as int32 ids (a name's position in ``classes``); empty
    cells are -1."""
    lookup = {name: i for i, name in enumerate(classes)}
    ids = []
    for row in rows:
        cell = row[index].strip()
        if cell in lookup:
            ids.append(lookup[cell])
        elif is_empty(cell):
            ids.append(-1)
        else:
            raise ValueError(f"{cell!r} is not one of the classes {list(classes)}")
    return np.array(ids, dtype=np.int32)


def one_hot_rows(ids, units):
    """One-hot rows for class ids; a missing id (-1) gives a row of -1 (still missing)."""
    out = np.zeros((len(ids), units), dtype=np.int32)
    labelled = ids != -1
    out[np.flatnonzero(labelled), ids[labelled]] = 1
    out[~labelled] = -1
    return out


def one_hot_numbers(numbers, units):
    """One-hot float32 rows for a column of numeric class ids; NaN (empty) gives a NaN row."""
    missing = np.isnan(numbers)
    ids = np.where(missing, 0, numbers).astype(np.int64)
    out = np.zeros((len(numbers), units), dtype=np.float32)
    out[np.arange(len(numbers)), ids] = 1.0
    out[missing] = np.nan
    return out


def table_arrays(header, rows, inputs, targets):
    """Inputs and targets of a table, keyed by input and head name.

    ``inputs`` maps an input to ``(columns, classes, shape)``: its values, row by row, take
    the per-sample ``shape`` (float32, or int32 class ids when ``classes`` are listed).
    ``targets`` maps a head to ``(columns, classes, one_hot_units)``: class ids ``(n, 1)`` when
    ``classes`` are listed (one-hot rows when ``one_hot_units`` is set), else float32 numbers,
    one column per listed column.
    """
    index = {name: i for i, name in enumerate(header)}
    x = {}
    for name, (columns, classes, shape) in inputs.items():
        if classes:
            values = class_ids(rows, index[columns[0]], classes)
        else:
            values = np.stack([column_numbers(rows, index[c]) for c in columns], axis=1)
            values = values.astype(np.float32)
        x[name] = values.reshape(-1, *shape)
    y = {}
    for name, (columns, classes, one_hot_units) in targets.items():
        if classes:
            ids = class_ids(rows, index[columns[0]], classes)
            y[name] = one_hot_rows(ids, one_hot_units) if one_hot_units else ids.reshape(-1, 1)
        elif one_hot_units and len(columns) == 1:
            y[name] = one_hot_numbers(column_numbers(rows, index[columns[0]]), one_hot_units)
        else:
            numbers = [column_numbers(rows, index[c]) for c in columns]
            y[name] = np.stack(numbers, axis=1).astype(np.float32)
    return x, y
