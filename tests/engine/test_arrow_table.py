"""Tables read by Arrow give the same arrays as the reference reader, row for row: for the
spellings both accept, and for the ones only the reference reader accepts (it takes over from
the row where Arrow stops, without repeating or skipping a row)."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.engine.data.sources import arrow_table
from mogui.engine.data.sources.arrow_table import ArrowChunk, count_rows, read_chunks
from mogui.engine.data.sources.csv_source import CsvTable
from mogui.engine.data.sources.table import ChunkConverter, read_header
from tests.engine.data_builders import KINDS, csv_source, table_project

HEADER = "\ufeffa,b,c,note,size,kind"
# (line, a, b, c, size or None for missing, kind id or -1 for missing)
ROWS = [
    ('1,2,3,plain,0.5,cat', (1, 2, 3), 0.5, 0),
    ('"4",5,6,"quoted, with comma",1e3,dog', (4, 5, 6), 1000.0, 1),
    ('7,8,9,"two\nlines",,owl', (7, 8, 9), None, 2),
    ('-1.5E-1,0,0,x,NA, owl ', (-0.15, 0, 0), None, 2),
    ('2,2,2,x,N/A,', (2, 2, 2), None, -1),
    ('3,3,3,x,null,NA', (3, 3, 3), None, -1),
    ('4,4,4,x,nan,cat', (4, 4, 4), None, 0),
    ('5,5,5,x, 2.25 ,dog', (5, 5, 5), 2.25, 1),
]


def _write(tmp_path, rows, newline="\n"):  # noqa: ANN001, ANN202
    path = tmp_path / "table.csv"
    lines = [HEADER, *(r[0] for r in rows[:3]), "", *(r[0] for r in rows[3:])]
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


def _converted(path, chunk_rows, fast):  # noqa: ANN001, ANN202
    project = table_project(csv_source(path))
    converter = ChunkConverter(project, read_header(path), project.data.inputs,
                               project.data.targets, path)
    numbers, names = converter.column_kinds()
    chunks = list(read_chunks(path, ",", chunk_rows, numbers, names, fast=fast))
    data = [converter.convert(c) for c in chunks]
    return chunks, {key: np.concatenate([d.x.get(key, d.y.get(key)) for d in data])
                    for key in ("x", "size", "kind")}


def _expected(rows):  # noqa: ANN001, ANN202
    """The arrays written out by hand from ROWS."""
    return {"x": np.array([r[1] for r in rows], dtype=np.float32),
            "size": np.array([[np.nan if r[2] is None else r[2]] for r in rows], np.float32),
            "kind": np.array([[r[3]] for r in rows], dtype=np.int32)}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_arrow_reads_quotes_blank_lines_and_missing_cells_as_written(tmp_path, chunk_rows,
                                                                     newline):
    path = _write(tmp_path, ROWS, newline)
    chunks, arrays = _converted(path, chunk_rows, fast=True)
    assert all(isinstance(c, ArrowChunk) for c in chunks)  # Arrow read it all
    assert [c.start for c in chunks] == list(range(0, len(ROWS), chunk_rows))
    assert all(0 < c.num_rows <= chunk_rows for c in chunks)
    for key, want in _expected(ROWS).items():
        np.testing.assert_array_equal(arrays[key], want, err_msg=key)
    _, reference = _converted(path, chunk_rows, fast=False)
    for key, want in reference.items():
        np.testing.assert_array_equal(arrays[key], want, err_msg=key)
    assert count_rows(path, ",") == count_rows(path, ",", fast=False) == len(ROWS)


@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_the_reference_reader_goes_on_from_the_row_where_arrow_stops(tmp_path, monkeypatch,
                                                                     chunk_rows):
    # Arrow parses ~40 bytes at a time here, so it reads some rows before it meets ' NA '
    # (spaces around a missing-value mark), which only the reference reader accepts.
    monkeypatch.setattr(arrow_table, "BLOCK_BYTES", 40)
    rows = ROWS * 3 + [('6,6,6,x, NA ,cat', (6, 6, 6), None, 0)] + ROWS
    path = _write(tmp_path, rows)
    chunks, arrays = _converted(path, chunk_rows, fast=True)
    assert isinstance(chunks[0], ArrowChunk) and not isinstance(chunks[-1], ArrowChunk)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    assert sum(c.num_rows for c in chunks) == len(rows)
    for key, want in _expected(rows).items():
        np.testing.assert_array_equal(arrays[key], want, err_msg=key)


def test_a_row_of_the_wrong_width_is_still_named_by_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(arrow_table, "BLOCK_BYTES", 40)
    path = _write(tmp_path, ROWS + [("1,2,3", (), None, 0)])
    # Line 12: header, three rows (one spans two lines), a blank line, then five rows.
    with pytest.raises(DataError, match=r"Line 12 of 'table.csv' has 3 cells but the header "
                                        "has 6"):
        _converted(path, 4, fast=True)


def test_a_cell_that_is_not_a_number_is_named_by_its_line(tmp_path):
    path = _write(tmp_path, ROWS + [("1,2,3,x,big,cat", (), None, 0)])
    # Data row 9 (0-based 8) is line 10 as data rows count (header on line 1).
    with pytest.raises(DataError, match=r"Column 'size' of 'table.csv' holds 'big' on line 10"):
        _converted(path, 100, fast=True)


def test_a_name_not_among_the_classes_is_named_by_its_line(tmp_path):
    path = _write(tmp_path, ROWS + [("1,2,3,x,1,bat", (), None, 0)])
    with pytest.raises(DataError, match=r"holds 'bat' on line 10, which is not one of the "
                                        r"classes listed for 'kind' \(cat, dog, owl\)"):
        _converted(path, 100, fast=True)


def test_a_streamed_table_holds_at_most_chunk_rows_rows(tmp_path):
    path = _write(tmp_path, ROWS * 50)
    table = CsvTable(table_project(csv_source(path, chunk_rows=16)),
                     csv_source(path, chunk_rows=16), path)
    data = table.load()
    assert table.num_samples == data.num_samples == 400
    assert table.max_rows_held == 16
    kinds = np.array([r[3] for r in ROWS] * 50)
    assert (data.y["kind"][:, 0] == kinds).all() and len(KINDS) == 3


def test_cells_read_by_arrow_are_the_cells_as_written(tmp_path):
    path = _write(tmp_path, ROWS)
    fast = list(read_chunks(path, ",", 100, [0], [5]))
    reference = list(read_chunks(path, ",", 100, [0], [5], fast=False))
    assert isinstance(fast[0], ArrowChunk)
    assert fast[0].column(5) == reference[0].column(5)  # names, unstripped, empty cells ""
    assert fast[0].column(5)[3] == " owl " and fast[0].column(5)[4] == ""
    assert fast[0].column(0) == ("1.0", "4.0", "7.0", "-0.15", "2.0", "3.0", "4.0", "5.0")
