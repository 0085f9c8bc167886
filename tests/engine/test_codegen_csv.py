"""The training script of a CSV project reads the table itself, into the arrays mogui reads;
a data.npz snapshot stays an option."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.project import (
    ColumnMap,
    CsvData,
    HeadSpec,
    InputSpec,
    LayerSpec,
    Project,
)
from mogui.engine.data.sources import open_source
from mogui.engine.export import export_project, generate_script

TABLE = """a,b,c,d,size,w,h,kind,code,t1,t2
0.5,1,2,3,1.5,0.1,0.2,cat,0,1,0
1.5,2,3,4,,0.3,NA,dog,2,0,1
2.5,3,4,5,NaN,0.5,0.6,,1,1,1
3.5,4,5,6,4.5,0.7,0.8,owl,,0,0
4.5,5,6,7,null,n/a,1.0,NA,1,1,0
5.5,6,7,8,6.5,1.1,1.2,cat,2,,1
"""


def csv_project() -> Project:
    """Every way a table feeds a model: a fixed and an any-length input, class names
    (with "NA" as one of them), one-hot targets from names and from ids, several columns."""
    return Project(
        name="every column",
        inputs=[InputSpec(name="x", shape=[2, 2]), InputSpec(name="seq", shape=[None])],
        trunk=[LayerSpec(name="flat", kind="Flatten", inputs=["x"]),
               LayerSpec(name="hidden", kind="Dense", params={"units": 4})],
        heads=[HeadSpec(name="size", task="regression", units=1, standardize=True),
               HeadSpec(name="box", task="regression", units=2),
               HeadSpec(name="kind", task="multiclass", units=4),
               HeadSpec(name="kind_hot", task="multiclass_onehot", units=3),
               HeadSpec(name="code_hot", task="multiclass_onehot", units=3),
               HeadSpec(name="tags", task="multilabel", units=2)],
        data=CsvData(path="t.csv",
                     inputs=[ColumnMap(name="x", columns=["a", "b", "c", "d"]),
                             ColumnMap(name="seq", columns=["a", "b"])],
                     targets=[ColumnMap(name="size", columns=["size"]),
                              ColumnMap(name="box", columns=["w", "h"]),
                              ColumnMap(name="kind", columns=["kind"],
                                        classes=["cat", "dog", "owl", "NA"]),
                              ColumnMap(name="kind_hot", columns=["kind"],
                                        classes=["cat", "dog", "owl"]),
                              ColumnMap(name="code_hot", columns=["code"]),
                              ColumnMap(name="tags", columns=["t1", "t2"])]))


def script_namespace(project: Project, folder, **options) -> dict:
    namespace: dict = {"__name__": "exported"}
    exec(compile(generate_script(project, folder, **options), "script.py", "exec"), namespace)
    return namespace


def test_the_script_reads_the_table_into_the_arrays_mogui_reads(tmp_path):
    (tmp_path / "t.csv").write_text(TABLE)
    project = csv_project()
    mine = open_source(project, tmp_path)
    x, y = script_namespace(project, tmp_path)["load_data"]()
    assert set(x) == set(mine.x) and set(y) == set(mine.y)
    for name in mine.x:
        assert x[name].dtype == mine.x[name].dtype and x[name].shape == mine.x[name].shape
        np.testing.assert_array_equal(x[name], mine.x[name])
    for name in mine.y:
        assert y[name].dtype == mine.y[name].dtype, name
        np.testing.assert_array_equal(y[name], mine.y[name], err_msg=name)
    assert y["kind"][:, 0].tolist() == [0, 1, -1, 2, 3, 0]  # "NA" is a class of 'kind'
    assert y["kind_hot"][4].tolist() == [-1, -1, -1]  # … and an empty cell of 'kind_hot'
    assert np.isnan(y["size"][[1, 2, 4], 0]).all()


def test_the_script_names_the_table_by_its_absolute_path(tmp_path):
    (tmp_path / "t.csv").write_text(TABLE)
    script = generate_script(csv_project(), tmp_path)
    assert f'DATA_FILE = Path("{tmp_path / "t.csv"}")' in script
    assert "def read_table(" in script and "data.npz" not in script


@pytest.mark.slow
def test_a_snapshot_of_the_arrays_stays_an_option(tmp_path):
    (tmp_path / "t.csv").write_text(TABLE)
    project = Project(
        name="snapshot", inputs=[InputSpec(name="x", shape=[4])],
        heads=[HeadSpec(name="size", task="regression", units=1)],
        training={"epochs": 1, "batch_size": 4, "validation_split": 0.0},
        data=CsvData(path="t.csv", inputs=[ColumnMap(name="x", columns=["a", "b", "c", "d"])],
                     targets=[ColumnMap(name="size", columns=["size"])]))
    plain = export_project(project, tmp_path / "plain", formats=(), project_dir=tmp_path)
    snap = export_project(project, tmp_path / "snap", formats=(), project_dir=tmp_path,
                          data_snapshot=True)
    assert "data.npz" not in plain.files and "read_table(DATA_FILE" in plain.script
    assert "data.npz" in snap.files and 'DATA_FILE = Path(__file__).parent / "data.npz"' in \
        snap.script
    x, y = script_namespace(project, tmp_path)["load_data"]()
    with np.load(tmp_path / "snap" / "data.npz") as npz:
        np.testing.assert_array_equal(npz["x"], x["x"])
        np.testing.assert_array_equal(npz["size"], y["size"])
