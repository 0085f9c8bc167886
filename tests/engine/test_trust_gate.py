"""The engine's trust gate: untrusted code never runs, from a project or from a model file."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from mogui.core.errors import UntrustedCodeError
from mogui.core.trust import PROCESS_ALLOWED, TrustStore, allow_in_process, keras_file_code
from mogui.engine.export import export_project
from mogui.engine.losses import compile_loss_source, loss_contract, make_training_model
from tests.engine.loss_models import head, tiny_project

pytestmark = pytest.mark.untrusted


def marker_source(folder: Path, name: str = "marker", joint: bool = False) -> str:
    """A loss that writes ``folder/name_module`` when loaded and ``name_body`` when called."""
    body = ("sum(ops.mean(ops.square(y_true[k] - y_pred[k])) for k in y_pred)" if joint
            else "ops.mean(ops.square(y_true - y_pred), axis=-1)")
    return ("import pathlib\n"
            f"pathlib.Path({str(folder / (name + '_module'))!r}).write_text('x')\n"
            "def loss(y_true, y_pred):\n"
            f"    pathlib.Path({str(folder / (name + '_body'))!r}).write_text('x')\n"
            f"    return {body}\n")


def markers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*_module")) + sorted(
        p.name for p in folder.glob("*_body"))


def test_untrusted_code_is_refused_before_any_of_it_runs(tmp_path):
    source = marker_source(tmp_path)
    for text in (source, source + "def broken(:\n"):  # refused before it is even parsed
        with pytest.raises(UntrustedCodeError) as info:
            compile_loss_source(text, "bbox loss")
        message = str(info.value)
        assert message.startswith("bbox loss: this code is not trusted")
        assert "mogui trust" in message and "--trust" in message
    assert markers(tmp_path) == []


def test_trusted_code_runs_by_hash(tmp_path):
    source = marker_source(tmp_path)
    TrustStore.load().trust([source])
    compile_loss_source(source.replace("\n", "\r\n"), "bbox loss")  # same code, CRLF
    assert markers(tmp_path) == ["marker_module"]


def test_inspection_needs_no_trust(tmp_path):
    project = tiny_project([head("a", kind="custom", source=marker_source(tmp_path))])
    (contract,) = loss_contract(project)
    assert contract.label == "a loss" and "custom" in contract.description
    assert markers(tmp_path) == []


@pytest.mark.parametrize("mode", ["per_output", "joint"])
def test_model_file_with_untrusted_code_does_not_load(mode, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    if mode == "joint":
        source = marker_source(code, joint=True)
        project = tiny_project([head("a"), head("b")], "joint", joint_source=source)
        label = "joint loss"
    else:
        source = marker_source(code)
        project = tiny_project([head("a", kind="custom", source=source), head("b")])
        label = "a loss"
    allow_in_process([source])
    model = make_training_model(project)
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    for marker in code.iterdir():
        marker.unlink()
    PROCESS_ALLOWED.hashes.clear()

    assert [(i.label, i.source) for i in keras_file_code(run / "model.keras")] == [
        (label, source)]
    with pytest.raises(UntrustedCodeError, match=f"^{label}: this code is not trusted"):
        keras.saving.load_model(run / "model.keras", safe_mode=True)
    with pytest.raises(UntrustedCodeError, match="in the model file") as info:
        export_project(project, tmp_path / "out", from_run=run, formats=[])
    assert f"mogui trust {run / 'model.keras'}" in str(info.value)
    assert markers(code) == [] and not (tmp_path / "out").exists()

    TrustStore.load().trust(keras_file_code(run / "model.keras"))
    keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert markers(code) == ["marker_module"]
