"""The trust store and the code a project carries: hashing, the store file, what runs when."""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import zipfile
from pathlib import Path

import pytest

from mogui.core import io as core_io
from mogui.core import trust
from mogui.core.errors import CustomCodeError, MoguiError, UntrustedCodeError
from mogui.core.io import example_names, load_example
from mogui.core.project import HeadLoss, HeadSpec
from mogui.core.project_code import check_code_statically
from mogui.core.trust import (
    CodeItem,
    TrustStore,
    TrustStoreError,
    allow_in_process,
    check_syntax,
    code_hash,
    config_dir,
    is_trusted,
    keras_file_code,
    project_code,
    untrusted_code,
    untrusted_error,
)

pytestmark = pytest.mark.untrusted

SOURCE = "def loss(y_true, y_pred):\n    return ops.mean(y_pred)\n"
OTHER = "def loss(y_true, y_pred):\n    return 0.0\n"


def test_hash_ignores_line_endings_but_nothing_else():
    crlf = SOURCE.replace("\n", "\r\n")
    old_mac = SOURCE.replace("\n", "\r")
    assert code_hash(SOURCE) == code_hash(crlf) == code_hash(old_mac)
    assert len(code_hash(SOURCE)) == 64
    assert code_hash(SOURCE) != code_hash(SOURCE + " ")
    assert code_hash(SOURCE) != code_hash(OTHER)


def test_config_dir_per_platform(monkeypatch, tmp_path):
    monkeypatch.setenv("MOGUI_CONFIG_DIR", str(tmp_path / "mine"))
    assert config_dir() == tmp_path / "mine"
    monkeypatch.delenv("MOGUI_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "mogui"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config_dir() == tmp_path / ".config" / "mogui"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert config_dir() == tmp_path / "Library" / "Application Support" / "mogui"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    assert config_dir() == tmp_path / "Roaming" / "mogui"


def test_store_round_trip(tmp_path):
    store = TrustStore.load()
    assert store.path == config_dir() / "trust.json" and not store.entries
    assert not store.is_trusted(SOURCE)
    new = store.trust([CodeItem("bbox loss", "bbox", SOURCE)], project_path=tmp_path / "p.json")
    assert [e.sha256 for e in new] == [code_hash(SOURCE)]
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["schema_version"] == trust.TRUST_SCHEMA_VERSION
    (entry,) = data["entries"]
    assert entry["sha256"] == code_hash(SOURCE) and entry["label"] == "bbox loss"
    assert entry["first_line"] == "def loss(y_true, y_pred):"
    assert entry["project"] == str((tmp_path / "p.json").absolute())
    assert entry["trusted_at"].endswith("+00:00")
    again = TrustStore.load()
    assert again.is_trusted(SOURCE) and again.is_trusted(SOURCE.replace("\n", "\r\n"))
    assert is_trusted(SOURCE) and not is_trusted(OTHER)
    assert again.trust([SOURCE]) == []  # already trusted: nothing new
    TrustStore.load().trust([OTHER])  # as another process would: seen at once
    assert is_trusted(OTHER)
    TrustStore.load().revoke([OTHER])
    assert not is_trusted(OTHER) and is_trusted(SOURCE)


def test_trusting_known_code_writes_nothing(monkeypatch):
    store = TrustStore.load()
    store.trust([SOURCE])
    writes = []
    monkeypatch.setattr(trust, "atomic_write_text", lambda *a: writes.append(a))
    assert store.trust([SOURCE, SOURCE.replace("\n", "\r\n"), "  \n"]) == []
    assert writes == []


def test_write_is_atomic(monkeypatch):
    store = TrustStore.load()
    store.trust([SOURCE])
    before = store.path.read_text(encoding="utf-8")

    def broken_fsync(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(core_io.os, "fsync", broken_fsync)
    with pytest.raises(TrustStoreError, match="Cannot write the trust store"):
        store.trust([OTHER])
    assert store.path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["trust.json"]


def test_trust_keeps_entries_other_processes_wrote():
    mine, theirs = TrustStore.load(), TrustStore.load()
    theirs.trust([OTHER])
    mine.trust([SOURCE])
    assert set(TrustStore.load().entries) == {code_hash(SOURCE), code_hash(OTHER)}
    assert TrustStore.load().revoke([OTHER, "never trusted"]) == 1
    assert set(TrustStore.load().entries) == {code_hash(SOURCE)}


def test_corrupt_store_is_backed_up_and_treated_as_empty(caplog):
    path = config_dir() / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="mogui"):
        store = TrustStore.load()
    assert not store.entries and "not valid" in (store.problem or "")
    assert "trust.json.bad" in caplog.text
    assert (path.parent / "trust.json.bad").read_text(encoding="utf-8") == "{not json"
    assert not is_trusted(SOURCE)  # never a crash
    store.trust([SOURCE])
    assert TrustStore.load().is_trusted(SOURCE)
    path.write_text(json.dumps({"schema_version": 1, "entries": [{"sha256": "short"}]}))
    assert not TrustStore.load().entries
    assert (path.parent / "trust.json.bad").read_text(encoding="utf-8") == "{not json"
    assert (path.parent / "trust.json.bad.1").exists()  # an older backup is never replaced


def test_store_from_a_newer_mogui_is_read_but_not_changed():
    path = config_dir() / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": 99, "entries": [{"sha256": code_hash(SOURCE), "extra": 1}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    store = TrustStore.load()
    assert store.is_trusted(SOURCE)
    with pytest.raises(TrustStoreError, match="newer mogui"):
        store.trust([OTHER])
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_process_allowance_and_shipped_examples_need_no_store():
    joint = load_example("bbox_classification_joint").joint_loss.source
    assert is_trusted(joint) and is_trusted(joint.replace("\n", "\r\n"))
    assert not is_trusted(SOURCE)
    allow_in_process([CodeItem("bbox loss", "bbox", SOURCE)])
    assert is_trusted(SOURCE) and not is_trusted(OTHER)
    trust.allow_hashes_in_process([code_hash(OTHER).upper(), "not a hash"])
    assert is_trusted(OTHER)
    assert not (config_dir() / "trust.json").exists()


def test_shipped_examples_need_no_trust():
    for name in example_names():
        project = load_example(name)
        assert untrusted_code(project) == []
        assert all(is_trusted(item.source) for item in project_code(project, every_mode=True))


def _custom(name: str, source: str, enabled: bool = True) -> HeadSpec:
    return HeadSpec(name=name, task="regression", units=1,
                    loss=HeadLoss(kind="custom", source=source, enabled=enabled))


def test_project_code_lists_only_the_code_that_runs_in_the_loss_mode():
    project = load_example("bbox_classification")
    project.heads = [_custom("a", SOURCE), _custom("b", OTHER, enabled=False),
                     HeadSpec(name="c", task="regression", units=1)]
    project.joint_loss.source = "import os\n"
    assert project_code(project) == [CodeItem("a loss", "a", SOURCE)]
    project.loss_mode = "joint"
    assert project_code(project) == [CodeItem("joint loss", None, "import os\n")]
    every = project_code(project, every_mode=True)
    assert [i.label for i in every] == ["a loss", "b loss", "joint loss"]
    project.joint_loss.source = "  \n"
    assert project_code(project) == []


def test_untrusted_code_and_its_error():
    project = load_example("bbox_classification")
    project.heads = [_custom("a", SOURCE), _custom("b", OTHER)]
    TrustStore.load().trust([OTHER])
    (item,) = untrusted_code(project)
    assert item.head == "a" and item.describe() == "custom loss of head 'a'"
    error = untrusted_error([item])
    assert isinstance(error, UntrustedCodeError) and isinstance(error, CustomCodeError)
    assert error.label == "a loss" and error.hashes == [code_hash(SOURCE)]
    assert str(error).startswith("a loss: this code is not trusted")
    assert "mogui trust PROJECT" in str(error) and "--trust" in str(error)
    assert "Trust and enable" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # crosses a process pipe intact
    assert type(copy) is UntrustedCodeError and str(copy) == str(error)
    assert copy.hashes == error.hashes and copy.label == "a loss"
    syntax = pickle.loads(pickle.dumps(CustomCodeError("syntax error", "a loss", 3, "tb")))
    assert (str(syntax), syntax.lineno, syntax.details) == ("a loss (line 3): syntax error", 3,
                                                             "tb")


def test_listing_shows_hidden_characters():
    item = CodeItem("a loss", "a", "x = 1  # \x1b[2K\u202e hidden\r\ndef loss(a, b):\n    pass\n")
    listing = item.listing()
    assert "\x1b" not in listing and "\u202e" not in listing
    assert "\\x1b[2K" in listing and "\\u202e" in listing
    assert listing.splitlines()[1] == "2 | def loss(a, b):"


def test_syntax_check_executes_nothing(tmp_path):
    marker = tmp_path / "marker"
    source = f"open({str(marker)!r}, 'w').write('x')\ndef loss(a, b):\n    return a +\n"
    with pytest.raises(CustomCodeError, match="syntax error") as info:
        check_syntax(source, "a loss")
    assert info.value.lineno == 3
    check_syntax(source.replace("a +", "a"), "a loss")
    assert not marker.exists()


def test_keras_file_code_reads_the_config_without_loading(tmp_path):
    config = {"class_name": "JointLossModel", "registered_name": "mogui>JointLossModel",
              "config": {"loss_source": OTHER, "layers": []},
              "compile_config": {"loss": {"a": {
                  "class_name": "CustomLoss", "registered_name": "mogui>CustomLoss",
                  "config": {"source": SOURCE, "label": "a loss"}}}}}
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    items = keras_file_code(path)
    assert sorted((i.label, i.head, i.source) for i in items) == [
        ("a loss", "a", SOURCE), ("joint loss", None, OTHER)]
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(MoguiError, match="cannot be read"):
        keras_file_code(tmp_path / "bad.keras")


def test_no_test_touches_the_real_config_folder():
    assert os.environ["MOGUI_CONFIG_DIR"]
    assert Path.home() not in config_dir().parents


@pytest.mark.parametrize(("source", "allow_mask", "message"), [
    ("def loss(y_true, y_pred):\n    return 0\n", False, None),
    ("def loss(y_true, y_pred, mask):\n    return 0\n", True, None),
    ("def loss(y_true, y_pred, mask):\n    return 0\n", False, "must accept exactly"),
    ("def loss(a):\n    return 0\n", False, "must accept exactly"),
    ("def lost(y_true, y_pred):\n    return 0\n", False, "no function named 'loss'"),
    ("def loss(y_true, y_pred)\n    return 0\n", False, "syntax error"),
    ("loss = make()\n", False, None),
])
def test_static_code_check_runs_nothing(tmp_path, source, allow_mask, message):
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').close()\n" + source
    if message is None:
        check_code_statically(source, "bbox loss", allow_mask=allow_mask)
    else:
        with pytest.raises(CustomCodeError, match=message):
            check_code_statically(source, "bbox loss", allow_mask=allow_mask)
    assert not marker.exists()
