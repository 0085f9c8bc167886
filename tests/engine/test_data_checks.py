"""Every bad input gives a plain message naming the head, column or file, and trains nothing."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.core.events import BatchEnded, TrainingStarted
from mogui.core.project import ColumnMap
from mogui.core.tasks import Task
from mogui.engine.data import load_data
from mogui.engine.data.checks import check_data
from mogui.engine.training import run_training
from tests.engine.data_builders import (
    csv_source,
    image_project,
    table_project,
    write_image_folder,
    write_npz,
    write_table,
)


def _train_as_the_app_does(project, folder) -> list:
    """Load (and check) the data, then train: what the training worker and the CLI do."""
    events: list = []
    data = load_data(project, folder)
    run_training(project, data, events.append)
    return events


def _expect_no_training(project, folder, *fragments: str) -> str:
    events: list = []
    with pytest.raises(DataError) as info:
        events = _train_as_the_app_does(project, folder)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert not any(isinstance(e, TrainingStarted | BatchEnded) for e in events)
    report = check_data(project, folder)
    assert not report.ok and any(fragments[0] in e for e in report.errors)
    return message


def _read_rows(path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def _rewrite_cell(path, line: int, column: str, value: str) -> None:
    rows = _read_rows(path)
    rows[line - 1][rows[0].index(column)] = value
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_target_with_the_wrong_number_of_columns(tmp_path):
    path = write_table(tmp_path, 12)
    source = csv_source(path)
    source.targets[0] = ColumnMap(name="size", columns=["size", "a"])
    _expect_no_training(table_project(source), tmp_path, "size", "(samples, 1)", "(12, 2)")


def test_integer_labels_for_a_one_hot_loss(tmp_path):
    write_npz(tmp_path, 12)
    project = table_project()
    project.heads[1].task = Task.MULTICLASS_ONEHOT
    project.heads[1].loss.kind = "categorical_crossentropy"
    _expect_no_training(project, tmp_path, "kind", "integer class ids", "'multiclass'")


def test_class_index_out_of_range(tmp_path):
    path = write_table(tmp_path, 12)
    rows = _read_rows(path)
    for i, row in enumerate(rows[1:]):
        row[-1] = "7" if i == 5 else str(i % 3)
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    source = csv_source(path)
    source.targets[1] = ColumnMap(name="kind", columns=["kind"])
    _expect_no_training(table_project(source), tmp_path, "kind", "label 7", "3 units")


def test_unknown_category_name(tmp_path):
    path = write_table(tmp_path, 12)
    _rewrite_cell(path, 5, "kind", "emu")
    _expect_no_training(table_project(csv_source(path)), tmp_path, "'kind'", "'emu'",
                        "line 5", "cat, dog, owl")


def test_empty_input_cell_names_column_and_line(tmp_path):
    path = write_table(tmp_path, 12)
    _rewrite_cell(path, 4, "b", "")
    _expect_no_training(table_project(csv_source(path)), tmp_path, "Column 'b'", "line 4",
                        "input 'x'")


def test_nan_input_in_npz(tmp_path):
    write_npz(tmp_path, 12)
    arrays = dict(np.load(tmp_path / "data.npz"))
    arrays["x"][3, 1] = np.nan
    np.savez(tmp_path / "data.npz", **arrays)
    _expect_no_training(table_project(), tmp_path, "'x'", "NaN")


def test_infinite_target(tmp_path):
    path = write_table(tmp_path, 12)
    _rewrite_cell(path, 3, "size", "inf")
    _expect_no_training(table_project(csv_source(path)), tmp_path, "'size'", "infinite")


def test_row_count_mismatch(tmp_path):
    write_npz(tmp_path, 12)
    arrays = dict(np.load(tmp_path / "data.npz"))
    arrays["size"] = arrays["size"][:9]
    np.savez(tmp_path / "data.npz", **arrays)
    _expect_no_training(table_project(), tmp_path, "different numbers of rows", "'size': 9")


def test_missing_column(tmp_path):
    path = write_table(tmp_path, 12)
    source = csv_source(path)
    source.targets[0] = ColumnMap(name="size", columns=["weight"])
    _expect_no_training(table_project(source), tmp_path, "no column 'weight' (for 'size')",
                        "'size'")


def test_missing_table_file(tmp_path):
    _expect_no_training(table_project(csv_source(tmp_path / "gone.csv")), tmp_path,
                        "gone.csv", "does not exist")


def test_missing_image_file(tmp_path):
    write_image_folder(tmp_path, 6, pixels=16)
    (tmp_path / "images" / "img_004.png").unlink()
    _expect_no_training(image_project(16), tmp_path, "img_004.png", "not in 'images'")


def test_unreadable_image(tmp_path):
    write_image_folder(tmp_path, 6, pixels=16)
    (tmp_path / "images" / "img_002.png").write_bytes(b"not a picture at all")
    _expect_no_training(image_project(16), tmp_path, "img_002.png", "cannot be read")


def test_head_with_no_labels_at_all(tmp_path):
    path = write_table(tmp_path, 8, missing_size=tuple(range(8)))
    _expect_no_training(table_project(csv_source(path)), tmp_path, "'size' has no labelled")


def test_summary_counts_labels_classes_and_ranges(tmp_path):
    path = write_table(tmp_path, 30, missing_size=(1, 2, 3), missing_kind=(0,))
    report = check_data(table_project(csv_source(path)), tmp_path)
    assert report.ok and report.rows == 30
    size, kind = report.summaries["size"], report.summaries["kind"]
    assert (size.labelled, size.missing) == (27, 3)
    assert size.low is not None and size.low < 0 < size.high
    assert (kind.labelled, kind.missing) == (29, 1)
    assert sum(kind.class_counts.values()) == 29 and set(kind.class_counts) <= {0, 1, 2}
    assert "27 labelled; 3 missing" in size.describe()
