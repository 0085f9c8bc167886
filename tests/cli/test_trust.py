"""Trust on the command line, run as users run it: real processes, real files, real markers.

The project's loss writes a marker file when its module loads and when it is called; its
``joint_loss.source`` (never run in per-output mode) writes another.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mogui.cli import main
from mogui.core.io import load_example, save_project
from mogui.core.project import LayerSpec
from mogui.core.trust import TrustStore, code_hash, config_dir
from tests.cli.test_cli import run_cli

pytestmark = pytest.mark.untrusted


def _loss(marker: Path, name: str, body: str) -> str:
    return ("import pathlib\n"
            f"pathlib.Path({str(marker / (name + '_module'))!r}).write_text('x')\n"
            "def loss(y_true, y_pred):\n"
            f"    pathlib.Path({str(marker / (name + '_body'))!r}).write_text('x')\n"
            f"    return {body}\n")


@pytest.fixture
def marked(tmp_path) -> tuple[Path, Path, str]:
    """(project file, marker folder, the bbox head's source) of a tiny custom-loss project."""
    markers = tmp_path / "markers"
    markers.mkdir()
    project = load_example("bbox_classification")
    project.data.samples = 40
    project.data.image_size = 16
    project.inputs[0].shape = [16, 16, 1]
    project.trunk = [LayerSpec(name="pool", kind="MaxPooling2D", params={"pool_size": 4}),
                     LayerSpec(name="flatten", kind="Flatten")]
    for head in project.heads:
        head.layers = []
    project.training.batch_size = 16
    project.training.epochs = 1
    source = _loss(markers, "bbox", "ops.mean(ops.square(y_true - y_pred), axis=-1)")
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = source
    project.joint_loss.source = _loss(markers, "joint", "0.0")
    path = tmp_path / "proj.json"
    save_project(project, path)
    return path, markers, source


def written(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def clear(markers: Path) -> None:
    for marker in markers.iterdir():
        marker.unlink()


def store_file() -> Path:
    return config_dir() / "trust.json"


def test_untrusted_code_is_refused_until_trusted(tmp_path, marked):
    path, markers, source = marked
    for args in (["validate"], ["train", "--out", "run"], ["export", "--out", "out"]):
        done = run_cli(args[0], str(path), *args[1:], cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert f"mogui: {path} holds code you have not trusted, so nothing was run:" in done.stderr
        assert f"custom loss of head 'bbox' (sha256 {code_hash(source)[:12]})" in done.stderr
        assert f"trust it with 'mogui trust {path}', or pass --trust" in done.stderr
        assert "joint" not in done.stderr  # per-output mode: the joint source needs no trust
    assert written(markers) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["markers", "proj.json"]

    done = run_cli("trust", str(path), cwd=tmp_path)  # stdin is not a terminal: no --yes, no
    assert done.returncode == 2
    assert "cannot ask without a terminal" in done.stderr and "--yes" in done.stderr
    assert f"sha256 {code_hash(source)}" in done.stdout and "2 | pathlib.Path(" in done.stdout
    assert not store_file().exists()

    done = run_cli("trust", str(path), "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Trusted 1 piece(s) of code from {path}; recorded in {store_file()}" in done.stdout
    (entry,) = json.loads(store_file().read_text())["entries"]
    assert entry["sha256"] == code_hash(source) and entry["project"] == str(path)
    assert run_cli("trust", str(path), cwd=tmp_path).stdout.strip().endswith(
        "holds only trusted code; nothing to trust.")

    done = run_cli("trust", str(path), "--revoke", cwd=tmp_path)
    assert done.returncode == 0 and "Revoked trust in 1 piece(s)" in done.stdout
    assert json.loads(store_file().read_text())["entries"] == []
    assert written(markers) == []


def test_inspect_runs_no_code_and_reports_syntax_errors(tmp_path, marked):
    path, markers, source = marked
    done = run_cli("inspect", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bbox: custom(y_true float32 (batch, 4)" in done.stdout
    assert "Not trusted yet (validate, train and export refuse it): custom loss of head " \
           "'bbox'" in done.stdout
    assert written(markers) == []
    project = json.loads(path.read_text())
    project["heads"][0]["loss"]["source"] = source.replace("axis=-1)", "axis=-1")
    path.write_text(json.dumps(project))
    done = run_cli("inspect", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert "mogui: bbox loss (line 5): syntax error" in done.stderr
    assert written(markers) == []


@pytest.mark.slow
def test_trust_flag_trust_command_and_model_files(tmp_path, marked):
    path, markers, source = marked
    done = run_cli("train", str(path), "--out", "run", "--trust", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert written(markers) == ["bbox_body", "bbox_module"]  # never the joint source
    assert not store_file().exists()  # --trust records nothing
    model = tmp_path / "run" / "model.keras"
    clear(markers)

    empty = tmp_path / "empty-config"
    load = ("import keras, mogui.engine.losses\n"
            f"keras.saving.load_model({str(model)!r}, safe_mode=True)\n")
    done = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True,
                          env={**os.environ, "MOGUI_CONFIG_DIR": str(empty),
                               "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert done.returncode != 0
    assert "UntrustedCodeError: bbox loss: this code is not trusted" in done.stderr
    assert written(markers) == []

    done = run_cli("export", str(path), "--from-run", "run", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert f"mogui: the model file {Path('run') / 'model.keras'} holds code you have not " \
           "trusted, so it was not loaded:" in done.stderr
    assert written(markers) == [] and not (tmp_path / "out").exists()
    done = run_cli("export", str(path), "--from-run", "run", "--out", "out", "--trust",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert written(markers) == ["bbox_module"]  # loading the model compiled its loss
    clear(markers)

    assert run_cli("trust", str(path), "--yes", cwd=tmp_path).returncode == 0
    done = run_cli("validate", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert written(markers) == ["bbox_body", "bbox_module"]
    clear(markers)
    done = run_cli("export", str(path), "--from-run", "run", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # the model holds the same code: same hash
    assert written(markers) == ["bbox_module"]


def test_corrupt_store_is_backed_up(tmp_path, marked):
    path, _, source = marked
    store_file().parent.mkdir(parents=True, exist_ok=True)
    store_file().write_text('{"schema_version": 1, "entries": [')
    done = run_cli("trust", str(path), "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"mogui: warning: The trust store '{store_file()}' is not valid" in done.stderr
    assert (store_file().parent / "trust.json.bad").read_text() == \
        '{"schema_version": 1, "entries": ['
    assert TrustStore.load().is_trusted(source)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer", ["y", "n"])
def test_trust_asks_on_a_terminal(answer, marked, monkeypatch, capsys):
    path, markers, source = marked
    monkeypatch.setattr(sys, "stdin", FakeTerminal(answer + "\n"))
    code = main(["trust", str(path)])
    out, err = capsys.readouterr()
    assert "Trust this code? [y/N]" in out
    assert code == (0 if answer == "y" else 2)
    assert TrustStore.load().is_trusted(source) == (answer == "y")
    if answer == "n":
        assert "Not trusted; nothing was recorded." in err and not store_file().exists()
    assert written(markers) == []
