"""Reading a CSV table in chunks: blank lines skipped wherever they are, rows numbered from 0
across chunks, and a row of the wrong width named by its line in the file."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.engine.data.sources.table import count_rows, iter_chunks

LINES = ["a,b", "1,2", "", "3,4", "  ", "5,6", '"7\nstill 7",8', "9,10", "", ""]


def _write(tmp_path, lines):  # noqa: ANN001, ANN202
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 100])
def test_blank_lines_are_skipped_in_any_chunk(tmp_path, chunk_rows):
    path = _write(tmp_path, LINES)
    chunks = list(iter_chunks(path, ",", chunk_rows))
    rows = [row for chunk in chunks for row in chunk.rows]
    assert rows == [["1", "2"], ["3", "4"], ["5", "6"], ["7\nstill 7", "8"], ["9", "10"]]
    assert [c.start for c in chunks] == list(np.cumsum([0] + [len(c.rows) for c in chunks]))[:-1]
    assert all(0 < len(c.rows) <= chunk_rows for c in chunks)
    assert count_rows(path, ",") == 5


@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_a_row_of_the_wrong_width_is_named_by_its_line(tmp_path, chunk_rows):
    # Line 10 of the file: blank lines 3 and 5 count, and the quoted cell spans lines 7-8.
    path = _write(tmp_path, [*LINES[:8], "11,12,13", "14,15"])
    with pytest.raises(DataError, match=r"Line 10 of 't.csv' has 3 cells but the header has 2"):
        list(iter_chunks(path, ",", chunk_rows))


def test_a_header_without_rows_says_so(tmp_path):
    path = _write(tmp_path, ["a,b", "", " "])
    with pytest.raises(DataError, match="header row but no data rows"):
        list(iter_chunks(path, ",", 2))
