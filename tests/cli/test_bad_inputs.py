"""Every bad input at the command line exits 2 with one line saying what is wrong, and changes
no file.

A table of cases in five groups: project files, data files, custom code, training settings and
the file system. Each case builds its input in ``tmp_path`` from one tiny valid project (a
CSV table, input ``x`` of 3 numbers, heads ``size`` and ``kind``), runs ``mogui.cli.main``
in this process and checks the exit code, the message and that every file under ``tmp_path``
is as it was: a failing command creates, changes and deletes nothing, except that a ``train``
whose run had begun leaves that run's record (``project.json``, and ``run.json`` saying it
failed and why), never a half-written model or history.

The jobs that ``validate``, ``train`` and ``export`` run in a child process run here, in this
process, their errors rebuilt as they are after crossing the pipe; the cases marked ``child``
use the real child process, to prove that path maps errors the same way.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mogui import cli
from mogui.core.jobs import JobHandle
from mogui.core.runs import PROJECT_FILE, RUN_FILE
from mogui.runner.child import ErrorInfo
from tests.engine.data_builders import image_project, write_image_folder, write_table

Builder = Callable[[Path], list[str]]


def _permissions_apply() -> bool:
    """False for a user who reads any file whatever its mode (root, unless its capabilities
    were dropped)."""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return True
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_text("x")
        probe.chmod(0)
        try:
            probe.read_text()
        except PermissionError:
            return True
        return False


PERMISSIONS_APPLY = _permissions_apply()


@dataclass(frozen=True)
class Case:
    """One bad input: ``build`` makes it under a folder and returns the command line."""

    id: str
    build: Builder
    words: tuple[str, ...]
    child: bool = False  # run the job in a real child process
    needs_user: bool = False  # file permissions mean nothing to root

    def param(self) -> Any:
        marks = [pytest.mark.skipif(not PERMISSIONS_APPLY, reason="root reads and writes "
                                    "everything")] if self.needs_user else []
        return pytest.param(self, id=self.id, marks=marks)


# -- the tiny valid project --------------------------------------------------------------------

def base() -> dict[str, Any]:
    """A valid project: ``x`` (3 numbers) -> Dense(4) -> ``size`` (regression), ``kind`` (3
    classes), trained on ``table.csv``."""
    return {
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [3]}],
        "trunk": [{"name": "hidden", "kind": "Dense", "params": {"units": 4}}],
        "heads": [{"name": "size", "task": "regression", "units": 1},
                  {"name": "kind", "task": "multiclass", "units": 3}],
        "training": {"epochs": 1, "batch_size": 8, "validation_split": 0.25},
        "data": {"kind": "csv", "path": "table.csv",
                 "inputs": [{"name": "x", "columns": ["a", "b", "c"]}],
                 "targets": [{"name": "size", "columns": ["size"]},
                             {"name": "kind", "columns": ["kind"],
                              "classes": ["cat", "dog", "owl"]}]},
    }


def write_project(folder: Path, project: dict[str, Any] | None = None,
                  name: str = "project.json") -> Path:
    """``project`` (default: :func:`base`) beside a 16-row ``table.csv``."""
    write_table(folder, 16)
    path = folder / name
    path.write_text(json.dumps(project if project is not None else base()))
    return path


def edited(change: Callable[[dict[str, Any]], Any], command: str = "validate",
           *extra: str) -> Builder:
    """The base project changed by ``change`` (which edits the dict in place)."""
    def build(folder: Path) -> list[str]:
        project = base()
        change(project)
        return [command, str(write_project(folder, project)), *extra]
    return build


def setting(dotted: str, value: Any, command: str = "validate") -> Builder:
    """The base project with one field (``training.batch_size``, ``heads.0.units``) set."""
    def change(project: dict[str, Any]) -> None:
        *parents, last = dotted.split(".")
        node: Any = project
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return edited(change, command)


def project_text(content: bytes | str) -> Builder:
    """A project file holding exactly ``content``."""
    def build(folder: Path) -> list[str]:
        path = folder / "project.json"
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
        return ["validate", str(path)]
    return build


def data(source: dict[str, Any], files: Callable[[Path], Any],
         change: Callable[[dict[str, Any]], Any] | None = None) -> Builder:
    """The base project reading ``source`` (its files made by ``files``)."""
    def build(folder: Path) -> list[str]:
        project = base()
        project["data"] = source
        if change is not None:
            change(project)
        path = write_project(folder, project)
        (folder / "table.csv").unlink()
        files(folder)
        return ["validate", str(path)]
    return build


def table(text: str, **options: Any) -> Builder:
    """The base project's CSV source reading a ``table.csv`` that holds ``text``."""
    source = {**base()["data"], **options}
    return data(source, lambda folder: (folder / "table.csv").write_text(text))


HEADER = "a,b,c,size,kind\n"
ROW = "0.1,0.2,0.3,1.5,cat\n"


def rows(*lines: str, good: int = 8) -> str:
    """A table: ``good`` valid rows, then ``lines``."""
    return HEADER + ROW * good + "".join(line + "\n" for line in lines)


def npz(**arrays: Any) -> Builder:
    """The base project reading ``data.npz`` holding ``arrays``."""
    return data({"kind": "npz", "path": "data.npz"},
                lambda folder: np.savez(folder / "data.npz", **arrays))


def good_arrays(n: int = 16) -> dict[str, np.ndarray]:
    return {"x": np.zeros((n, 3), np.float32), "size": np.ones((n, 1), np.float32),
            "kind": np.arange(n, dtype=np.int32).reshape(-1, 1) % 3}


def onehot(target: np.ndarray) -> Builder:
    """A ``kind`` head with task multiclass_onehot (3 units) trained on ``target``."""
    def change(project: dict[str, Any]) -> None:
        project["heads"][1]["task"] = "multiclass_onehot"
    arrays = {**good_arrays(len(target)), "kind": target}
    return data({"kind": "npz", "path": "data.npz"},
                lambda folder: np.savez(folder / "data.npz", **arrays), change)


def images(change: Callable[[dict[str, Any], Path], Any], resize: bool = True) -> Builder:
    """The image-folder project (16x16 grey, heads ``bbox`` and ``shape``), then ``change``."""
    def build(folder: Path) -> list[str]:
        project = json.loads(image_project(16).to_json())
        project["data"]["resize"] = resize
        write_image_folder(folder, 8, pixels=16)
        change(project, folder)
        path = folder / "project.json"
        path.write_text(json.dumps(project))
        return ["validate", str(path)]
    return build


def head_loss(source: str, head: int = 0, command: str = "validate", *extra: str) -> Builder:
    """Head ``head`` (0 ``size``, 1 ``kind``) trained by the custom ``source``."""
    def change(project: dict[str, Any]) -> None:
        project["heads"][head]["loss"] = {"kind": "custom", "source": source}
    return edited(change, command, *extra)


def joint_loss(source: str) -> Builder:
    def change(project: dict[str, Any]) -> None:
        project["loss_mode"] = "joint"
        project["joint_loss"] = {"source": source}
    return edited(change)


def files(make: Callable[[Path], list[str]]) -> Builder:
    """A case that builds everything itself."""
    return make


# -- project files -----------------------------------------------------------------------------

def _layer(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(project: dict[str, Any]) -> None:
        project["trunk"].append({"name": "extra", **fields})
    return change


def _del(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda project: project.pop(key)


PROJECT_FILES = [
    Case("not-json", project_text("{\"name\": "), ("not valid JSON", "line 1")),
    Case("json-list", project_text("[1, 2]"), ("must be a JSON object",)),
    Case("empty-file", project_text(b""), ("empty",)),
    Case("whitespace-only", project_text("  \n\n "), ("empty",)),
    Case("not-utf8", project_text(b'{"name": "caf\xe9"}'), ("UTF-8",)),
    Case("utf16", project_text('{"name": "x"}'.encode("utf-16")), ("UTF-8",)),
    Case("deep-nesting", project_text("[" * 100_000), ("nests",)),
    Case("newer-schema", setting("schema_version", 99), ("schema_version", "update mogui")),
    Case("schema-zero", setting("schema_version", 0), ("schema_version", "positive")),
    Case("no-inputs", edited(_del("inputs")), ("inputs is required",)),
    Case("empty-inputs", setting("inputs", []), ("inputs", "at least 1")),
    Case("no-heads", edited(_del("heads")), ("heads is required",)),
    Case("unknown-field", setting("colour", "blue"), ("colour", "not a known field")),
    Case("bad-input-name", setting("inputs.0.name", "1x"), ("inputs[0].name", "letters")),
    Case("zero-input-shape", setting("inputs.0.shape", [0]), ("inputs[0].shape[0]", ">= 1")),
    Case("duplicate-names", setting("trunk.0.name", "size"), ("'size'", "already used")),
    Case("unknown-layer-kind", setting("trunk.0.kind", "Dens"),
         ("trunk[0].kind", "'Dens'", "choose one of")),
    Case("unknown-layer-param", setting("trunk.0.params", {"unit": 4}),
         ("trunk[0].params.unit", "not a known field")),
    Case("zero-units", setting("trunk.0.params", {"units": 0}),
         ("trunk[0].params.units", ">= 1")),
    Case("dangling-layer-input", setting("trunk.0.inputs", ["nope"]),
         ("trunk[0].inputs[0]", "'nope'")),
    Case("unknown-task", setting("heads.0.task", "ranking"), ("heads[0].task", "one of")),
    Case("zero-head-units", setting("heads.0.units", 0), ("heads[0].units", ">= 1")),
    Case("loss-misfits-task", setting("heads.1.loss", {"kind": "mse"}),
         ("heads[1].loss.kind", "'mse'", "use one of")),
    Case("unknown-activation", setting("heads.0.activation", "sigmoidal"),
         ("heads[0].activation", "'sigmoidal'")),
    Case("head-source-unknown", setting("heads.0.source", "nowhere"),
         ("heads[0].source", "'nowhere'")),
    Case("metric-not-offered", setting("heads.0.loss", {"metrics": ["accuracy"]}),
         ("heads[0].loss.metrics[0]", "'accuracy'")),
    Case("nothing-trained", edited(lambda p: [h.update(loss={"enabled": False})
                                              for h in p["heads"]]),
         ("no head has a loss",)),
    Case("negative-loss-weight", setting("heads.0.loss", {"weight": -1}),
         ("heads[0].loss.weight", ">= 0")),
    Case("dropout-rate-one", edited(_layer(kind="Dropout", params={"rate": 1.0})),
         ("trunk[1].params.rate", "< 1")),
    Case("reshape-two-unknowns", edited(_layer(kind="Reshape",
                                               params={"target_shape": [-1, -1]})),
         ("target_shape", "-1 at most once")),
    Case("concatenate-one-input", edited(_layer(kind="Concatenate")),
         ("trunk[1].inputs", "at least 2")),
    Case("dense-two-inputs", edited(_layer(kind="Dense", inputs=["x", "hidden"])),
         ("trunk[1].inputs", "Concatenate")),
    Case("unknown-data-kind", setting("data", {"kind": "parquet", "path": "t.pq"}),
         ("data", "kind", "csv")),
    Case("two-char-delimiter", setting("data.delimiter", ";;"), ("data.csv.delimiter",)),
    Case("huge-units", setting("trunk.0.params", {"units": 10**9}),
         ("hidden", "units", "1,000,000")),
    Case("units-1e9-literal", project_text(json.dumps(base()).replace(
        '"units": 4', '"units": 1e9')), ("trunk[0].params.units", "layer 'hidden'", "1,000,000")),
    Case("huge-filters", edited(lambda p: p.update(
        inputs=[{"name": "x", "shape": [8, 8, 1]}],
        trunk=[{"name": "conv", "kind": "Conv2D", "params": {"filters": 5 * 10**7}},
               {"name": "pool", "kind": "GlobalAveragePooling2D"}])),
         ("conv", "filters", "1,000,000")),
    Case("huge-head-units", setting("heads.0.units", 10**8), ("size", "units", "1,000,000")),
    Case("too-many-parameters", edited(lambda p: p.update(
        inputs=[{"name": "x", "shape": [200_000]}],
        trunk=[{"name": "wide", "kind": "Dense", "params": {"units": 500_000}}])),
         ("wide", "parameters", "2,000,000,000")),
    Case("unbuildable-model", edited(_layer(kind="Conv2D")),
         ("extra", "4-D input"), child=True),
]

# -- data files --------------------------------------------------------------------------------

DATA_FILES = [
    Case("csv-missing", data(base()["data"], lambda folder: None),
         ("table.csv", "does not exist")),
    Case("csv-header-only", table(HEADER), ("table.csv", "no data rows")),
    Case("csv-header-only-child", table("a,b,c,size,kind\n\n\n"),
         ("table.csv", "no data rows"), child=True),
    Case("csv-zero-bytes", table(""), ("table.csv", "empty")),
    Case("csv-missing-column", table("a,b,size,kind\n0,0,1,cat\n"),
         ("no column 'c'", "Its columns are")),
    Case("csv-not-a-number", table(rows("0.1,abc,0.3,1.5,cat")),
         ("'b'", "'abc'", "line 10", "not a number")),
    Case("csv-ragged-row", table(rows("0.1,0.2,0.3")), ("Line 10", "3 cells", "header has 5")),
    Case("csv-not-utf8", data(base()["data"], lambda folder: (folder / "table.csv").write_bytes(
        rows().encode() + "0,0,0,1,caf\xe9\n".encode("latin-1"))), ("table.csv", "UTF-8")),
    Case("csv-empty-input-cell", table(rows("0.1,,0.3,1.5,cat")),
         ("'b'", "line 10", "input 'x'")),
    Case("csv-unknown-class", table(rows("0.1,0.2,0.3,1.5,emu")),
         ("'emu'", "line 10", "cat, dog, owl")),
    Case("csv-class-id-out-of-range", data(
        {**base()["data"], "targets": [{"name": "size", "columns": ["size"]},
                                       {"name": "kind", "columns": ["kind"]}]},
        lambda folder: (folder / "table.csv").write_text(
            HEADER + "0,0,0,1,2\n" * 8 + "0,0,0,1,7\n")), ("kind", "label 7", "0..2")),
    Case("csv-fractional-class-id", data(
        {**base()["data"], "targets": [{"name": "size", "columns": ["size"]},
                                       {"name": "kind", "columns": ["kind"]}]},
        lambda folder: (folder / "table.csv").write_text(HEADER + "0,0,0,1,1.5\n" * 8)),
        ("kind", "fractions")),
    Case("csv-infinite-target", table(rows("0.1,0.2,0.3,inf,cat")),
         ("'size'", "infinite")),
    Case("csv-input-columns-vs-shape", data(
        {**base()["data"], "inputs": [{"name": "x", "columns": ["a", "b"]}]},
        lambda folder: (folder / "table.csv").write_text(rows())),
        ("Input 'x'", "3 value(s)", "2 column(s)")),
    Case("csv-maps-unknown-head", data(
        {**base()["data"], "targets": [*base()["data"]["targets"],
                                       {"name": "colour", "columns": ["a"]}]},
        lambda folder: (folder / "table.csv").write_text(rows())), ("'colour'", "no such head")),
    Case("csv-head-never-labelled", table(HEADER + "0.1,0.2,0.3,,cat\n" * 8),
         ("'size'", "no labelled rows")),
    Case("csv-is-a-folder", data(base()["data"], lambda folder: (folder / "table.csv").mkdir()),
         ("table.csv", "folder")),
    Case("csv-symlink-loop", data(base()["data"], lambda folder: (
        (folder / "table.csv").symlink_to(folder / "loop.csv"),
        (folder / "loop.csv").symlink_to(folder / "table.csv"))), ("table.csv", "symlink loop")),
    Case("csv-symlink-loop-child", data(base()["data"], lambda folder: (
        (folder / "table.csv").symlink_to("table.csv"))), ("table.csv", "symlink loop"),
        child=True),
    Case("csv-unreadable", data(base()["data"], lambda folder: (
        (folder / "table.csv").write_text(rows()), (folder / "table.csv").chmod(0))),
        ("table.csv", "permission denied"), needs_user=True),
    Case("csv-dangling-symlink", data(base()["data"], lambda folder: (
        (folder / "table.csv").symlink_to(folder / "gone.csv"))),
         ("table.csv", "link", "gone.csv")),
    Case("binary-target-out-of-range", data(
        base()["data"], lambda folder: (folder / "table.csv").write_text(rows()),
        lambda p: p["heads"][0].update(task="binary")), ("size", "0/1 labels", "1.5")),
    Case("npz-missing", data({"kind": "npz", "path": "data.npz"}, lambda folder: None),
         ("data.npz", "does not exist")),
    Case("npz-not-an-archive", data({"kind": "npz", "path": "data.npz"},
                                    lambda folder: (folder / "data.npz").write_text("x,y\n1,2\n")),
         ("data.npz", "numpy.savez")),
    Case("npz-missing-array", npz(x=np.zeros((16, 3)), size=np.zeros((16, 1))),
         ("no array for", "'kind'")),
    Case("npz-row-counts-differ", npz(**{**good_arrays(), "size": np.zeros((15, 1))}),
         ("different numbers of rows",)),
    Case("npz-wrong-input-shape", npz(**{**good_arrays(), "x": np.zeros((16, 4))}),
         ("Input 'x'", "[3]", "[4]")),
    Case("npz-object-array", data({"kind": "npz", "path": "data.npz"}, lambda folder: np.savez(
        folder / "data.npz", **{**good_arrays(), "x": np.array([[{}] * 3] * 16)})),
        ("data.npz", "cannot be read")),
    Case("npz-nan-input", npz(**{**good_arrays(), "x": np.full((16, 3), np.nan)}),
         ("Input 'x'", "NaN")),
    Case("npz-text-target", npz(**{**good_arrays(), "size": np.array([["a"]] * 16)}),
         ("'size'", "numbers")),
    Case("npz-no-rows", npz(x=np.zeros((0, 3)), size=np.zeros((0, 1)), kind=np.zeros((0, 1))),
         ("no samples",)),
    Case("onehot-multi-hot-rows", onehot(np.array([[1, 0, 0]] * 6 + [[1, 1, 0]] * 2 + [[0, 0, 1]]
                                                  * 8)),
         ("'kind'", "not one-hot", "2 of 16 rows", "row 6")),
    Case("onehot-all-zero-rows", onehot(np.array([[0, 1, 0]] * 3 + [[0, 0, 0]] + [[0, 0, 1]] * 12,
                                                 dtype=np.float32)),
         ("'kind'", "not one-hot", "1 of 16 rows", "row 3")),
    Case("onehot-given-class-ids", onehot(np.arange(16).reshape(-1, 1) % 3),
         ("kind", "integer class ids", "multiclass")),
    Case("image-folder-missing", images(lambda p, folder: p["data"].update(folder="pictures")),
         ("pictures", "does not exist")),
    Case("image-missing-files", images(lambda p, folder: (folder / "images" / "img_003.png")
                                       .unlink()), ("1 image file(s)", "img_003.png")),
    Case("image-corrupt-file", images(lambda p, folder: (folder / "images" / "img_002.png")
                                      .write_bytes(b"not a png")),
         ("img_002.png", "cannot be read (it is not a PNG, JPEG, GIF or BMP image). Replace")),
    Case("image-wrong-size", images(lambda p, folder: p["inputs"][0].update(shape=[12, 12, 1]),
                                    resize=False), ("img_000.png", "16x16", "12x12")),
    Case("image-input-not-an-image", images(lambda p, folder: p.update(
        inputs=[{"name": "image", "shape": [16]}],
        trunk=[{"name": "hidden", "kind": "Dense", "params": {"units": 4}}])),
        ("Input 'image'", "[height, width, channels]")),
    Case("image-no-file-column", images(lambda p, folder: p["data"].update(file_column="path")),
         ("labels.csv", "'path'")),
    Case("demo-input-mismatch", edited(lambda p: p.update(
        data={"kind": "demo_shapes", "samples": 16, "image_size": 16},
        heads=[{"name": "bbox", "task": "regression", "units": 4}])),
        ("demo shapes", "'image'")),
    Case("demo-head-without-quantity", edited(lambda p: p.update(
        inputs=[{"name": "image", "shape": [16, 16, 1]}],
        trunk=[{"name": "flat", "kind": "Flatten"}],
        data={"kind": "demo_shapes", "samples": 16, "image_size": 16})),
        ("'kind'", "demo target")),
]

# -- custom code -------------------------------------------------------------------------------

MSE = "    return ops.mean(ops.square(y_true - y_pred))\n"

CUSTOM_CODE = [
    Case("syntax-error", head_loss("def loss(y_true, y_pred):\n    return (y_true +\n"),
         ("size loss", "line 2", "syntax error")),
    Case("no-loss-function", head_loss("def my_loss(y_true, y_pred):\n" + MSE),
         ("size loss", "no function named 'loss'")),
    Case("loss-not-callable", head_loss("loss = 3\n"), ("size loss", "not a function")),
    Case("loss-one-argument", head_loss("def loss(y_true):\n    return y_true\n"),
         ("size loss", "line 1", "exactly the arguments")),
    Case("empty-source", head_loss("   \n"), ("heads[0].loss.source", "empty")),
    Case("name-error", head_loss("def loss(y_true, y_pred):\n    return undefined_name\n"),
         ("size loss", "line 2", "undefined_name")),
    Case("name-error-child", head_loss("def loss(y_true, y_pred):\n    return missing_name\n"),
         ("size loss", "line 2", "missing_name"), child=True),
    Case("import-error-at-load", head_loss("import no_such_module\ndef loss(y_true, y_pred):\n"
                                           + MSE), ("size loss", "line 1", "no_such_module")),
    Case("error-at-load", head_loss("x = 1 / 0\ndef loss(y_true, y_pred):\n" + MSE),
         ("size loss", "line 1", "ZeroDivisionError", "while the code was loading")),
    Case("sys-exit", head_loss("import sys\ndef loss(y_true, y_pred):\n    sys.exit(3)\n"),
         ("size loss", "line 3", "sys.exit(3)")),
    Case("raises-own-error", head_loss("def loss(y_true, y_pred):\n"
                                       "    raise ValueError('labels look odd')\n"),
         ("size loss", "line 2", "labels look odd")),
    Case("returns-none", head_loss("def loss(y_true, y_pred):\n    pass\n"),
         ("size loss", "returned None")),
    Case("returns-text", head_loss("def loss(y_true, y_pred):\n    return 'low'\n"),
         ("size loss", "line 2", "text")),
    Case("returns-dict", head_loss("def loss(y_true, y_pred):\n    return {'a': y_pred}\n"),
         ("size loss", "dict", "joint loss mode")),
    Case("returns-matrix", head_loss("def loss(y_true, y_pred):\n"
                                     "    return ops.square(y_true - y_pred) * ops.ones((1, 5))\n"),
         ("size loss", "line 2", "(8, 5)", "axis=-1")),
    Case("returns-booleans", head_loss("def loss(y_true, y_pred):\n    return y_true > y_pred\n"),
         ("size loss", "bool")),
    Case("returns-nan", head_loss("def loss(y_true, y_pred):\n"
                                  "    return ops.mean(ops.log(y_pred - 1e9))\n"),
         ("size loss", "NaN", "epsilon")),
    Case("indexes-another-head", head_loss("def loss(y_true, y_pred):\n"
                                           "    return ops.mean(y_pred['kind'])\n"),
         ("size loss", "line 2", "only its own head", "joint loss mode")),
    Case("indexes-another-head-child", head_loss(
        "def loss(y_true, y_pred):\n    box = y_true['box']\n" + MSE),
        ("size loss", "line 2", "only its own head", "joint loss mode"), child=True),
    Case("incompatible-shapes", head_loss(
        "def loss(y_true, y_pred):\n"
        "    wanted = ops.one_hot(ops.reshape(y_true, (-1,)), 4)\n"
        "    return ops.mean(ops.square(wanted - y_pred), axis=-1)\n", head=1),
        ("kind loss", "line 3", "(8, 4)", "(8, 3)")),
    Case("incompatible-shapes-child", head_loss(
        "def loss(y_true, y_pred):\n"
        "    return ops.mean(ops.concatenate([y_true] * 2, -1)\n"
        "                    - ops.concatenate([y_pred] * 3, -1))\n"),
        ("size loss", "line 2", "(8, 2)", "(8, 3)"), child=True),
    Case("untrained-train-fails-cleanly", head_loss(
        "def loss(y_true, y_pred):\n    return nothing_here\n", 0, "train", "--out", "out/run"),
        ("size loss", "line 2", "nothing_here")),
    Case("train-graph-shape-error", head_loss(
        "def loss(y_true, y_pred):\n    return ops.mean(ops.matmul(y_true, y_pred))\n", 1,
        "train", "--out", "run"), ("kind loss", "line 2", "(8, 1)", "(8, 3)", "matrix product")),
    Case("train-graph-reshape-error", head_loss(
        "def loss(y_true, y_pred):\n    return ops.mean(ops.reshape(y_pred, (-1, 5)))\n", 1,
        "train"), ("kind loss", "line 2", "reshape", "multiple of 5")),
    Case("joint-misspelt-head", joint_loss("def loss(y_true, y_pred):\n"
                                           "    return ops.mean(y_pred['sise'])\n"),
         ("joint loss", "line 2", "'sise'", "'size'", "'kind'")),
    Case("joint-misspelt-head-child", joint_loss("def loss(y_true, y_pred):\n"
                                                 "    return ops.mean(y_true['knd'])\n"),
         ("joint loss", "line 2", "'knd'", "'size'", "'kind'"), child=True),
    Case("joint-unknown-term", joint_loss("def loss(y_true, y_pred):\n"
                                          "    return {'colour': ops.mean(y_pred['size'])}\n"),
         ("joint loss", "'colour'", "name no head")),
    Case("joint-returns-none", joint_loss("def loss(y_true, y_pred):\n    y_pred['size']\n"),
         ("joint loss", "returned None")),
    Case("joint-empty-dict", joint_loss("def loss(y_true, y_pred):\n    return {}\n"),
         ("joint loss", "empty dict")),
    Case("joint-wrong-signature", joint_loss("def loss(y_pred):\n    return 0.0\n"),
         ("joint loss", "exactly the arguments")),
    Case("joint-empty-source", joint_loss(""), ("joint_loss.source", "empty")),
    Case("joint-matrix-term", joint_loss("def loss(y_true, y_pred):\n"
                                         "    return {'size': ops.square(y_pred['kind'])}\n"),
         ("joint loss", "(8, 3)", "scalar")),
    Case("joint-weights-unknown-head", edited(lambda p: p.update(
        loss_mode="joint", joint_loss={"source": "def loss(y_true, y_pred):\n    return 0.0\n",
                                       "term_weights": {"box": 2.0}})),
         ("joint_loss.term_weights.box", "names no head")),
]

# -- training settings -------------------------------------------------------------------------

TRAINING_SETTINGS = [
    Case("negative-epochs", setting("training.epochs", -1), ("training.epochs", ">= 1")),
    Case("zero-epochs", setting("training.epochs", 0, "train"), ("training.epochs", ">= 1")),
    Case("fractional-epochs", setting("training.epochs", 2.5), ("training.epochs", "whole")),
    Case("zero-batch-size", setting("training.batch_size", 0), ("training.batch_size", ">= 1")),
    Case("text-batch-size", setting("training.batch_size", "big"),
         ("training.batch_size", "whole number")),
    Case("split-one", setting("training.validation_split", 1.0),
         ("training.validation_split", "< 1")),
    Case("split-negative", setting("training.validation_split", -0.1),
         ("training.validation_split", ">= 0")),
    Case("unknown-optimizer", setting("training.optimizer", "adagrad"),
         ("training.optimizer", "'adagrad'", "adam")),
    Case("zero-learning-rate", setting("training.learning_rate", 0),
         ("training.learning_rate", "> 0")),
    Case("negative-learning-rate", setting("training.learning_rate", -0.01, "train"),
         ("training.learning_rate", "> 0")),
    Case("huge-learning-rate", setting("training.learning_rate", 100),
         ("training.learning_rate", "<= 10")),
    Case("negative-seed", setting("training.seed", -5), ("training.seed", ">= 0")),
    Case("unknown-setting", setting("training.lr", 0.1), ("training.lr", "not a known field")),
    Case("not-a-boolean", setting("training.shuffle", "sometimes"),
         ("training.shuffle", "true or false")),
    Case("early-stopping-monitor", setting("training.early_stopping",
                                           {"enabled": True, "monitor": "val_acc"}),
         ("training.early_stopping.monitor", "'val_acc'", "choose one of")),
    Case("checkpoint-monitor", setting("training.checkpointing",
                                       {"enabled": True, "monitor": "kind_accuracy"}, "train"),
         ("training.checkpointing.monitor", "'kind_accuracy'")),
    Case("val-monitor-without-split", edited(lambda p: p["training"].update(
        validation_split=0, early_stopping={"enabled": True, "monitor": "val_loss"})),
        ("training.early_stopping.monitor", "'val_loss'")),
    Case("zero-patience", setting("training.early_stopping", {"enabled": True, "patience": 0}),
         ("training.early_stopping.patience", ">= 1")),
    Case("epochs-flag-zero", lambda folder: ["train", str(write_project(folder)), "--epochs", "0"],
         ("--epochs", ">= 1")),
    Case("epochs-flag-negative", lambda folder: ["export", str(write_project(folder)),
                                                 "--out", "exp", "--epochs", "-3"],
         ("--epochs", ">= 1")),
    Case("unknown-export-format", lambda folder: ["export", str(write_project(folder)),
                                                  "--out", "exp", "--formats", "keras,tflite"],
         ("'tflite'", "keras")),
]

# -- the file system ---------------------------------------------------------------------------


def _project_is(make: Callable[[Path], None], command: str = "validate") -> Builder:
    def build(folder: Path) -> list[str]:
        make(folder / "project.json")
        return [command, str(folder / "project.json")]
    return build


def _unreadable(path: Path) -> None:
    path.write_text(json.dumps(base()))
    path.chmod(0)


def _train_out(out: str, prepare: Callable[[Path], Any] = lambda folder: None) -> Builder:
    def build(folder: Path) -> list[str]:
        prepare(folder)
        return ["train", str(write_project(folder)), "--out", str(folder / out)]
    return build


def _train_on(text: str, out: str) -> Builder:
    """``train`` into ``out`` on a ``table.csv`` holding ``text``."""
    def build(folder: Path) -> list[str]:
        path = write_project(folder)
        (folder / "table.csv").write_text(text)
        return ["train", str(path), "--out", str(folder / out)]
    return build


def _export_out(out: str, prepare: Callable[[Path], Any] = lambda folder: None,
                *extra: str) -> Builder:
    def build(folder: Path) -> list[str]:
        prepare(folder)
        return ["export", str(write_project(folder)), "--out", str(folder / out), *extra]
    return build


def _locked(folder: Path) -> None:
    (folder / "locked").mkdir()
    (folder / "locked").chmod(stat.S_IRUSR | stat.S_IXUSR)


def _run_folder(model: bytes | None) -> Callable[[Path], Any]:
    def prepare(folder: Path) -> None:
        (folder / "run").mkdir()
        (folder / "run" / "history.csv").write_text("epoch,loss\n0,1.0\n")
        if model is not None:
            (folder / "run" / "model.keras").write_bytes(model)
    return prepare


def _zip(**members: str) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name.replace("__", "."), text)
    return buffer.getvalue()


def _from_run(model: bytes | None) -> Builder:
    return _export_out("exp", _run_folder(model), "--from-run", "run")


def _trust_file(content: bytes | None, name: str = "model.keras") -> Builder:
    def build(folder: Path) -> list[str]:
        if content is not None:
            (folder / name).write_bytes(content)
        return ["trust", str(folder / name), "--yes"]
    return build


FILE_SYSTEM = [
    Case("project-missing", lambda folder: ["validate", str(folder / "nope.json")],
         ("nope.json", "does not exist")),
    Case("project-is-a-folder", _project_is(Path.mkdir), ("project.json", "folder")),
    Case("project-is-a-folder-train", _project_is(Path.mkdir, "train"),
         ("project.json", "folder")),
    Case("project-unreadable", _project_is(_unreadable), ("project.json", "permission"),
         needs_user=True),
    Case("project-symlink-loop", _project_is(lambda path: path.symlink_to(path)),
         ("project.json", "symlink loop")),
    Case("out-is-a-file", _train_out("notes.txt", lambda folder: (folder / "notes.txt")
                                     .write_text("mine")), ("notes.txt", "is a file")),
    Case("out-under-a-file", _train_out("notes.txt/run", lambda folder: (folder / "notes.txt")
                                        .write_text("mine")), ("notes.txt", "is a file")),
    Case("out-holds-the-users-files", _train_out("mine", lambda folder: (
        (folder / "mine").mkdir(), (folder / "mine" / "run.txt").write_text("notes"))),
        ("mine", "not a mogui run", "run.txt")),
    Case("out-in-locked-folder", _train_out("locked/run", _locked), ("locked", "not writable"),
         needs_user=True),
    Case("train-bad-data-leaves-no-folder", _train_on(HEADER, "runs/one"),
         ("table.csv", "no data rows")),
    Case("train-bad-data-child", _train_on(rows("1,2,3"), "runs/two"), ("Line 10", "3 cells"),
         child=True),
    Case("train-checkpoint-then-failure", edited(lambda p: (
        p["training"].update(checkpointing={"enabled": True, "monitor": "val_loss"}),
        p["heads"][0].update(loss={"kind": "custom",
                                   "source": "def loss(y_true, y_pred):\n    return 1 / None\n"})),
        "train", "--out", "deep/er/run"), ("size loss", "line 2", "TypeError")),
    Case("export-out-is-a-file", _export_out("notes.txt", lambda folder: (
        folder / "notes.txt").write_text("mine")), ("notes.txt", "is a file")),
    Case("export-into-user-files", _export_out("mine", lambda folder: (
        (folder / "mine").mkdir(), (folder / "mine" / "thesis.tex").write_text("years"))),
        ("mine", "other files")),
    Case("export-over-export-with-user-files", _export_out("old", lambda folder: (
        (folder / "old").mkdir(), (folder / "old" / ".mogui-export").write_text("mogui\n"),
        (folder / "old" / "history.csv").write_text("epoch\n"),
        (folder / "old" / "notes.md").write_text("mine"))), ("notes.md", "did not write")),
    Case("export-out-in-locked-folder", _export_out("locked/exp", _locked), ("locked",),
         needs_user=True),
    Case("export-no-format", _export_out("exp", lambda folder: None, "--formats", " , "),
         ("--formats", "names no format")),
    Case("data-folder-missing", data({"kind": "npz", "path": "arrays/data.npz"},
                                     lambda folder: None), ("data.npz", "nor does its folder")),
    Case("inspect-unbuildable", edited(_layer(kind="Conv2D"), "inspect"),
         ("cannot be built", "Conv2D 'extra'")),
    Case("inspect-syntax-error", head_loss("def loss(y_true, y_pred)\n    return 0\n", 0,
                                           "inspect"), ("size loss", "line 1", "syntax error")),
    Case("runs-of-a-missing-project", lambda folder: ["runs", str(folder / "gone.json")],
         ("gone.json", "does not exist")),
    Case("export-run-without-project", lambda folder: (_run_folder(None)(folder), [
        "export", "--from-run", str(folder / "run"), "--out", str(folder / "exp")])[1],
        ("project", "run")),
    Case("from-run-missing", _export_out("exp", lambda folder: None, "--from-run", "nowhere"),
         ("nowhere", "does not exist")),
    Case("from-run-without-model", _from_run(None), ("run", "no trained model")),
    Case("from-run-garbage-model", _from_run(b"\x00garbage"),
         ("model.keras", "not a valid Keras model file")),
    Case("from-run-empty-model", _from_run(b""), ("model.keras", "not a valid Keras model file")),
    Case("from-run-zip-without-config", _from_run(_zip(notes__txt="hello")),
         ("model.keras", "not a valid Keras model file")),
    Case("from-run-config-not-json", _from_run(_zip(config__json="{oops")),
         ("model.keras", "not a valid Keras model file")),
    Case("from-run-config-without-weights", _from_run(_zip(
        config__json=json.dumps({"class_name": "Functional", "config": {}}),
        metadata__json=json.dumps({"keras_version": "3.0.0"}))),
        ("model.keras", "cannot be loaded", "not a valid Keras model file"), child=True),
    Case("trust-garbage-keras", _trust_file(b"garbage", "x.keras"),
         ("x.keras", "not a valid Keras model file")),
    Case("trust-missing-keras", _trust_file(None, "gone.keras"), ("gone.keras", "does not exist")),
    Case("trust-run-folder-broken-model", lambda folder: (
        _run_folder(b"PK\x03\x04broken")(folder), ["trust", str(folder / "run"), "--yes"])[1],
        ("model.keras", "not a valid Keras model file")),
]

CASES = [
    *(c.param() for c in PROJECT_FILES), *(c.param() for c in DATA_FILES),
    *(c.param() for c in CUSTOM_CODE), *(c.param() for c in TRAINING_SETTINGS),
    *(c.param() for c in FILE_SYSTEM),
]


# -- running a case ----------------------------------------------------------------------------

class _Handle(JobHandle):
    def __init__(self, on_event: Callable[[object], None] | None) -> None:
        super().__init__()
        self._on_event = on_event

    def report(self, event: object) -> None:
        if self._on_event is not None:
            self._on_event(event)


def run_here(job: str, args: tuple, allowed: Any = (),
             on_event: Callable[[object], None] | None = None,
             timeout_s: float | None = None) -> Any:
    """``cli._run_child`` without the child: the job runs in this process, and its error comes
    back through :class:`ErrorInfo` exactly as it crosses the pipe."""
    from mogui.runner.jobs import JOBS

    try:
        return JOBS[job](_Handle(on_event), *args)
    except Exception as exc:  # noqa: BLE001 - rebuilt as the parent rebuilds it
        info = ErrorInfo.of(exc)
        error = info.exception()
        error.child_traceback = info.traceback  # type: ignore[attr-defined]
        raise error from None


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: its kind, mode and bytes (or link target)."""
    found: dict[str, tuple] = {}
    for root, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(root) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path.relative_to(folder))] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[str(path.relative_to(folder))] = ("dir", info.st_mode)
            else:
                try:
                    content: bytes | None = path.read_bytes()
                except OSError:
                    content = None
                found[str(path.relative_to(folder))] = ("file", info.st_mode, content)
    return found


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(case: Case, tmp_path, monkeypatch,
                                                            capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = case.build(work)
    if not case.child:
        monkeypatch.setattr(cli, "_run_child", run_here)
    before = snapshot(work)
    capsys.readouterr()

    code = cli.main(argv)

    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert len(lines) == 1, err
    message = lines[0]
    assert message.startswith("mogui: ") and "Traceback" not in err + out
    assert "unexpected error" not in message
    missing = [w for w in case.words if w.lower() not in message.lower()]
    assert not missing, f"{missing} not in: {message}"
    after = snapshot(work)
    if argv[0] == "train" and after != before:
        check_failed_run_record(work, before, after, message)
    else:
        assert after == before


def check_failed_run_record(work: Path, before: dict[str, tuple], after: dict[str, tuple],
                            message: str) -> None:
    """A train that fails once its run has begun leaves that run's record and nothing else: a
    new run folder holding ``project.json`` and ``run.json`` (status failed, the same message,
    no epoch), never a half-written model or history; every other file is as it was."""
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(set(after) - set(before))
    (record,) = [Path(name) for name in new if Path(name).name == RUN_FILE]
    folder = record.parent
    assert {str(folder / PROJECT_FILE), str(record)} <= set(new)
    assert all(Path(name) in (folder, *folder.parents) for name in new
               if name not in (str(folder / PROJECT_FILE), str(record))), new
    run = json.loads((work / record).read_text())
    assert run["status"] == "failed" and run["epochs_completed"] == 0
    assert " ".join(run["message"].split()) == message.removeprefix("mogui: ")


# -- the controls: each kind of input the cases spoil, unspoilt, passes ------------------------

GOOD = [
    pytest.param(lambda folder: ["validate", str(write_project(folder))], id="csv"),
    pytest.param(npz(**good_arrays()), id="npz"),
    pytest.param(onehot(np.eye(3, dtype=np.float32)[np.arange(16) % 3]), id="onehot"),
    pytest.param(images(lambda project, folder: None), id="image-folder"),
    pytest.param(head_loss("def loss(y_true, y_pred):\n" + MSE), id="custom-head-loss"),
    pytest.param(joint_loss("def loss(y_true, y_pred):\n"
                            "    return ops.mean(ops.square(y_true['size'] - y_pred['size']))\n"),
                 id="joint-loss"),
    pytest.param(lambda folder: ["train", str(write_project(folder)), "--out",
                                 str(folder / "run")], id="train"),
]


@pytest.mark.parametrize("build", GOOD)
def test_the_unspoilt_inputs_pass(build: Builder, tmp_path, monkeypatch, capsys):
    """Each case fails for what it spoils: the same input without the fault succeeds."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    argv = build(tmp_path)
    code = cli.main(argv)
    _out, err = capsys.readouterr()
    assert code == 0, err
    assert "mogui:" not in err
