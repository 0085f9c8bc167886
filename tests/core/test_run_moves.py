"""Moving a run folder: renamed on one file system, copied then removed across two, and
never half-moved."""

from __future__ import annotations

import errno
import os

import pytest

from mogui.core.run_moves import free_folder, move_folder


def _folder(root):
    run = root / "20260304-090000"
    (run / "sub").mkdir(parents=True)
    (run / "run.json").write_text('{"status": "finished"}')
    (run / "sub" / "model.keras").write_bytes(b"\x00\x01model")
    return run


def _cross_device(monkeypatch):
    def rename(_source, _target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "rename", rename)


def test_a_taken_name_gets_a_number(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a-2").mkdir()
    assert free_folder(tmp_path, "a") == tmp_path / "a-3"
    assert free_folder(tmp_path, "b") == tmp_path / "b"


def test_across_file_systems_the_folder_is_copied_then_removed(tmp_path, monkeypatch):
    run = _folder(tmp_path / "old")
    _cross_device(monkeypatch)
    move_folder(run, tmp_path / "new")
    assert not run.exists()
    assert (tmp_path / "new" / "sub" / "model.keras").read_bytes() == b"\x00\x01model"
    assert (tmp_path / "new" / "run.json").read_text() == '{"status": "finished"}'


def test_a_copy_that_fails_leaves_the_original_and_no_half_copy(tmp_path, monkeypatch):
    run = _folder(tmp_path / "old")
    (run / "gone.csv").symlink_to(tmp_path / "nowhere.csv")  # cannot be copied
    _cross_device(monkeypatch)
    with pytest.raises(OSError, match="gone.csv"):
        move_folder(run, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert (run / "sub" / "model.keras").read_bytes() == b"\x00\x01model"
    assert (run / "run.json").is_file()
