"""A multiclass_onehot head takes one-hot rows (or class probabilities); multi-hot and all-zero
rows are refused by the data check, naming the head, how many rows and the first one; rows
without a label stay allowed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.core.project import ColumnMap, CsvData, HeadSpec, InputSpec, NpzData, Project
from mogui.engine.data import check_data, load_data, prepare_masked_targets


def onehot_project(data: CsvData | NpzData | None = None) -> Project:
    return Project(inputs=[InputSpec(name="x", shape=[2])],
                   heads=[HeadSpec(name="kind", task="multiclass_onehot", units=3)],
                   data=data or NpzData(path="data.npz"))


def save(folder, kind: np.ndarray) -> None:
    np.savez(folder / "data.npz", x=np.zeros((len(kind), 2), np.float32), kind=kind)


def test_multi_hot_and_all_zero_rows_are_refused_with_the_first_row(tmp_path):
    kind = np.tile(np.eye(3, dtype=np.int32), (4, 1))
    kind[5] = [1, 1, 0]
    kind[8] = [0, 0, 0]
    save(tmp_path, kind)
    with pytest.raises(DataError) as info:
        load_data(onehot_project(), tmp_path)
    message = str(info.value)
    assert message.startswith("Head 'kind' (multiclass_onehot): 2 of 12 rows are not one-hot, "
                              "e.g. row 5 (counting from 0) is [1, 1, 0].")
    assert "'multilabel'" in message
    assert str(pickle.loads(pickle.dumps(info.value))) == message  # crosses the process pipe


def test_unlabelled_rows_and_class_probabilities_are_allowed(tmp_path):
    kind = np.tile(np.eye(3, dtype=np.float32), (4, 1))
    kind[1] = np.nan  # no label for this row
    kind[2] = [0.1, 0.2, 0.7]  # soft labels sum to 1
    save(tmp_path, kind)
    data = load_data(onehot_project(), tmp_path)
    targets, weights = prepare_masked_targets(onehot_project(), data.y)
    assert weights["kind"][1] == 0 and weights["kind"].sum() == 11
    np.testing.assert_allclose(targets["kind"][2], [0.1, 0.2, 0.7])

    ints = np.tile(np.eye(3, dtype=np.int32), (4, 1))
    ints[3] = -1  # the integer marker for "no label"
    save(tmp_path, ints)
    assert load_data(onehot_project(), tmp_path).num_samples == 12


def test_streamed_rows_are_counted_across_chunks(tmp_path):
    lines = ["a,b,k0,k1,k2"] + ["0,0,0,1,0"] * 12
    lines[1 + 2] = "0,0,0,0,0"  # chunk 0
    lines[1 + 9] = "0,0,1,0,1"  # chunk 2
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    source = CsvData(path="t.csv", inputs=[ColumnMap(name="x", columns=["a", "b"])],
                     targets=[ColumnMap(name="kind", columns=["k0", "k1", "k2"])],
                     streaming="always", chunk_rows=4)
    report = check_data(onehot_project(source), tmp_path)
    assert report.errors == [
        "Head 'kind' (multiclass_onehot): 2 of 12 rows are not one-hot, e.g. row 2 (counting "
        "from 0) is [0, 0, 0]. Each row needs exactly one 1 (or class probabilities summing to "
        "1). Fix those rows, leave them unlabelled (empty cells, NaN, or -1 in every column), "
        "or use the task 'multilabel' when a sample may belong to several classes"]
