"""Exports: model files that reload (with and without mogui), ONNX, and no partial folders."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from mogui.cli import main
from mogui.core.io import load_example, load_project, save_project
from mogui.core.project import LayerSpec, Project
from mogui.engine.data import load_data
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.targets import prepare_targets
from mogui.engine.export import ExportError, export_project
from mogui.engine.export.formats import INFERENCE_MODEL
from mogui.engine.training import read_history_csv


def tiny_joint() -> Project:
    """The joint-loss demo with a very small trunk: trains in about a second."""
    project = load_example("bbox_classification_joint")
    project.data.samples = 40
    project.data.image_size = 16
    project.inputs[0].shape = [16, 16, 1]
    project.trunk = [
        LayerSpec(name="conv", kind="Conv2D", params={"filters": 4, "kernel_size": 3}),
        LayerSpec(name="pool", kind="MaxPooling2D", params={"pool_size": 4}),
        LayerSpec(name="flatten", kind="Flatten"),
    ]
    for head in project.heads:
        head.layers = []
    project.training.batch_size = 16
    project.training.epochs = 1
    return project


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "out"
    project = tiny_joint()
    result = export_project(project, folder, formats=["keras", "savedmodel", "onnx"]
                            if _has_onnx() else ["keras", "savedmodel"], epochs=2)
    return project, result


def _has_onnx() -> bool:
    from mogui.engine.export import onnx_missing

    return onnx_missing() is None


def sample_inputs(project: Project) -> dict[str, np.ndarray]:
    return load_data(project).take(5).x


def test_export_writes_every_file(exported):
    project, result = exported
    folder = result.folder
    names = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert set(result.files) == names
    for name in ("history.csv", "loss.png", "loss.svg", "project.json", "README.txt",
                 "model.keras", INFERENCE_MODEL, "saved_model"):
        assert name in names
    assert any(n.startswith("train_") and n.endswith(".py") for n in names)
    assert (folder / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (folder / "loss.svg").read_text()
    assert read_history_csv(folder / "history.csv") == result.history
    assert len(result.history["loss"]) == 2  # --epochs reached training
    copy = load_project(folder / "project.json")
    assert copy.training.epochs == 2 and copy.joint_loss == project.joint_loss
    readme = (folder / "README.txt").read_text()
    for name in result.files:
        assert name in readme or name == "README.txt"
    assert not [p for p in folder.parent.iterdir() if p.name.endswith((".partial", ".old"))]


def test_inference_model_loads_without_mogui(exported, tmp_path):
    project, result = exported
    x = sample_inputs(project)
    np.savez(tmp_path / "x.npz", **x)
    expected = keras.saving.load_model(result.folder / INFERENCE_MODEL).predict(x, verbose=0)
    code = textwrap.dedent(f"""
        import sys
        sys.modules["mogui"] = None  # mogui cannot be imported from here on
        try:
            import mogui  # noqa: F401
        except ImportError:
            pass
        else:
            raise SystemExit("mogui is importable")
        import keras, numpy as np
        model = keras.saving.load_model({str(result.folder / INFERENCE_MODEL)!r},
                                        safe_mode=True)
        x = dict(np.load({str(tmp_path / 'x.npz')!r}))
        np.savez({str(tmp_path / 'y.npz')!r}, **model.predict(x, verbose=0))
    """)
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(tmp_path / "y.npz") as predicted:
        assert set(predicted.files) == set(project.head_names)
        for head in project.head_names:
            np.testing.assert_allclose(predicted[head], expected[head], rtol=1e-6, atol=1e-7)


def test_inference_model_holds_no_code(exported):
    project, result = exported
    with zipfile.ZipFile(result.folder / INFERENCE_MODEL) as archive:
        config = archive.read("config.json").decode("utf-8")
    with zipfile.ZipFile(result.folder / "model.keras") as archive:
        training_config = archive.read("config.json").decode("utf-8")
    source = project.joint_loss.source
    assert json.dumps(source) in training_config  # the training model does carry it
    for text in (json.dumps(source), "def loss", "loss_source", "mogui>"):
        assert text not in config


def test_training_model_predicts_like_inference_model_and_resumes(exported):
    project, result = exported
    model = keras.saving.load_model(result.folder / "model.keras")
    plain = keras.saving.load_model(result.folder / INFERENCE_MODEL)
    x = sample_inputs(project)
    for head, values in plain.predict(x, verbose=0).items():
        np.testing.assert_allclose(model.predict(x, verbose=0)[head], values, rtol=1e-6)
    data = load_data(project)
    train, val = Dataset(data.x, prepare_targets(project, data.y)).split(0.2, 0)
    history = model.fit(train.x, train.y, validation_data=(val.x, val.y), epochs=1,
                        batch_size=16, verbose=0)
    assert set(history.history) == set(result.history)


def test_onnx_matches_keras(exported):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    if not _has_onnx():
        pytest.skip("the 'onnx' extra (tf2onnx, onnx) is not installed")
    project, result = exported
    x = sample_inputs(project)
    expected = keras.saving.load_model(result.folder / INFERENCE_MODEL).predict(x, verbose=0)
    session = ort.InferenceSession(str(result.folder / "model.onnx"))
    feed = {i.name: x[i.name] for i in session.get_inputs()}
    outputs = session.run(None, feed)
    names = [o.name for o in session.get_outputs()]
    assert sorted(names) == sorted(project.head_names)
    for name, value in zip(names, outputs, strict=True):
        np.testing.assert_allclose(value, expected[name], atol=1e-5)


def test_onnx_of_a_table_project_holds_its_scaling(tmp_path):
    """Normalization's mean and variance and a standardized head's scale are constants of the
    model, not inputs of the ONNX graph: onnxruntime needs the features alone."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    if not _has_onnx():
        pytest.skip("the 'onnx' extra (tf2onnx, onnx) is not installed")
    from mogui.core.io import example_path, load_example

    project = load_example("houses")
    folder = example_path("houses").parent
    result = export_project(project, tmp_path / "out", formats=["keras", "onnx"], epochs=1,
                            project_dir=folder)
    x = load_data(project, folder).take(6).x
    expected = keras.saving.load_model(result.folder / INFERENCE_MODEL).predict(x, verbose=0)
    session = ort.InferenceSession(str(result.folder / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == ["features"]
    outputs = session.run(None, {"features": x["features"].astype(np.float32)})
    names = [o.name for o in session.get_outputs()]
    assert sorted(names) == sorted(project.head_names)
    for name, value in zip(names, outputs, strict=True):
        np.testing.assert_allclose(value, expected[name], rtol=1e-5, atol=1e-4)


def test_export_from_run_replaces_a_previous_export(exported, tmp_path):
    project, result = exported
    target = tmp_path / "again"
    first = export_project(project, target, from_run=result.folder, formats=[])
    assert not first.trained
    assert first.history == result.history
    assert "model.keras" not in first.files
    assert "EPOCHS = 2" in first.script  # the run's epoch count
    second = export_project(project, target, from_run=result.folder, formats=["keras"])
    assert "model.keras" in second.files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_an_export_never_replaces_files_it_did_not_write(exported, tmp_path):
    project, result = exported
    target = tmp_path / "out"
    export_project(project, target, from_run=result.folder, formats=[])
    (target / "my_notes.txt").write_text("mine")
    before = _listing(target)
    with pytest.raises(ExportError, match=r"did not write \(my_notes.txt\)"):
        export_project(project, target, from_run=result.folder, formats=["keras"])
    assert _listing(target) == before and (target / "my_notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporaries left


def test_a_file_added_inside_or_edited_since_is_never_replaced(exported, tmp_path):
    project, result = exported
    target = tmp_path / "out"
    export_project(project, target, from_run=result.folder, formats=["keras", "savedmodel"])
    notes = target / "saved_model" / "my_signature_notes.txt"
    notes.write_text("important")
    before = _listing(target)
    with pytest.raises(ExportError, match=r"did not write \(saved_model/my_signature_notes"):
        export_project(project, target, from_run=result.folder, formats=["keras"])
    assert _listing(target) == before and notes.read_text() == "important"
    notes.unlink()
    script = next(target.glob("train_*.py"))
    script.write_text(script.read_text() + "# my change\n")
    with pytest.raises(ExportError, match=rf"were changed since \({script.name}\)"):
        export_project(project, target, from_run=result.folder, formats=["keras"])
    assert script.read_text().endswith("# my change\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporaries left


def test_a_link_or_a_read_only_folder_is_refused_and_a_new_one_is_readable(exported, tmp_path):
    import os
    import stat

    project, result = exported
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ExportError, match="is a link"):
        export_project(project, tmp_path / "link", from_run=result.folder, formats=[])
    assert (tmp_path / "link").is_symlink() and not any(real.iterdir())
    made = export_project(project, tmp_path / "new", from_run=result.folder, formats=[])
    mode = stat.S_IMODE(made.folder.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o777 & ~umask  # as any new folder, not private
    if os.geteuid() != 0:  # root writes anywhere
        real.chmod(0o555)
        try:
            with pytest.raises(ExportError, match="is read-only"):
                export_project(project, real, from_run=result.folder, formats=[])
        finally:
            real.chmod(0o755)


def test_a_folder_that_cannot_be_renamed_takes_the_files_when_empty(exported, tmp_path,
                                                                     monkeypatch):
    """A mount point (a Docker volume, a USB drive) cannot be renamed: EBUSY."""
    import errno
    import os

    from mogui.engine.export import out_folder

    project, result = exported
    mount = tmp_path / "mount"
    mount.mkdir()
    real_replace = os.replace

    def replace(source, target):
        if Path(source) == mount:
            raise OSError(errno.EBUSY, "Device or resource busy", str(source))
        return real_replace(source, target)

    monkeypatch.setattr(out_folder.os, "replace", replace)
    export_project(project, mount, from_run=result.folder, formats=[])
    assert (mount / "history.csv").is_file() and (mount / ".mogui-export").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mount"]
    before = _listing(mount)  # holding an export now: it cannot be emptied in place
    with pytest.raises(ExportError, match="cannot be replaced .*a mount point"):
        export_project(project, mount, from_run=result.folder, formats=[])
    assert _listing(mount) == before and sorted(p.name for p in tmp_path.iterdir()) == ["mount"]


def test_a_run_still_training_is_refused_and_a_failed_one_is_said_to_be(exported, tmp_path):
    import shutil

    from mogui.core import run_store
    from mogui.core.runs import RunStatus

    project, result = exported
    run_folder = tmp_path / "run"
    shutil.copytree(result.folder, run_folder)
    run = run_store.create_run(project, None, folder=run_folder)  # this process: running
    with pytest.raises(ExportError, match="is still training"):
        export_project(project, tmp_path / "out", from_run=run_folder, formats=[])
    assert not (tmp_path / "out").exists()
    run_store.finish_run(run, RunStatus.FAILED, message="killed")
    done = export_project(project, tmp_path / "out", from_run=run_folder, formats=[])
    assert done.warnings == [f"the run in '{run_folder}' failed; its model is the last one it "
                             "saved, which can be from an earlier epoch than its history's last"]


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("case", ["format", "under_a_file", "foreign_folder", "no_model",
                                  "missing_run", "epochs", "bad_data"])
def test_bad_requests_leave_no_files(case, tmp_path, exported):
    project = tiny_joint()
    out = tmp_path / "out"
    kwargs: dict = {}
    if case == "format":
        kwargs["formats"] = ["keras", "pdf"]
    elif case == "under_a_file":
        (tmp_path / "file.txt").write_text("x")
        out = tmp_path / "file.txt" / "deeper" / "out"
    elif case == "foreign_folder":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "no_model":
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "history.csv").write_text("epoch,loss\n1,0.5\n")
        kwargs["from_run"] = tmp_path / "run"
    elif case == "missing_run":
        kwargs["from_run"] = tmp_path / "nowhere"
    elif case == "epochs":
        kwargs["epochs"] = 0
    elif case == "bad_data":  # fails after the temporary folder exists
        project.inputs[0].shape = [8, 8, 1]
        out = tmp_path / "new" / "out"
    before = _listing(tmp_path)
    error = ExportError if case != "bad_data" else Exception
    with pytest.raises(error) as info:
        export_project(project, out, **kwargs)
    assert "\n" not in str(info.value).strip()
    assert _listing(tmp_path) == before


def test_cli_export(exported, tmp_path, capsys):
    project, result = exported
    path = tmp_path / "project.json"
    save_project(project, path)
    assert main(["export", str(path), "--out", str(tmp_path / "x"), "--formats", "keras,zip"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mogui: Unknown export format 'zip'") and "\n" not in err
    assert not (tmp_path / "x").exists()
    code = main(["export", str(path), "--out", str(tmp_path / "y"), "--formats", "keras",
                 "--from-run", str(result.folder)])
    assert code == 0
    assert (tmp_path / "y" / INFERENCE_MODEL).is_file()
    assert json.loads((tmp_path / "y" / "project.json").read_text())["loss_mode"] == "joint"
