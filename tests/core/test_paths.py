"""Why a path cannot be used, in words: each way a file or folder can be unusable."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from mogui.core.paths import path_problem, read_problem


def _permissions_apply() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_text("x")
        probe.chmod(0)
        try:
            probe.read_text()
        except PermissionError:
            return True
        return False


def test_a_usable_file_and_folder_have_no_problem(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    assert path_problem(tmp_path / "a.csv") is None
    assert path_problem(tmp_path, "folder") is None


def test_missing_paths_say_which_part_is_missing(tmp_path):
    assert path_problem(tmp_path / "a.csv") == "does not exist"
    assert path_problem(tmp_path / "data" / "a.csv") == \
        f"does not exist: nor does its folder '{tmp_path / 'data'}'"
    (tmp_path / "notes.txt").write_text("mine")
    assert path_problem(tmp_path / "notes.txt" / "a.csv") == \
        f"cannot exist: '{tmp_path / 'notes.txt'}' is a file, not a folder"


def test_a_folder_where_a_file_belongs_and_the_reverse(tmp_path):
    (tmp_path / "a.csv").mkdir()
    (tmp_path / "images").write_text("")
    assert path_problem(tmp_path / "a.csv").startswith("is a folder, not a file")
    assert path_problem(tmp_path / "images", "folder").startswith("is a file, not a folder")


def test_symlink_loops_and_broken_links_are_named(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "self").symlink_to("self")
    (tmp_path / "broken").symlink_to(tmp_path / "gone.csv")
    for name in ("a", "self"):
        assert path_problem(tmp_path / name).startswith("is a symlink loop: it links back to "
                                                        "itself")
    assert path_problem(tmp_path / "broken") == (f"is a symbolic link to '{tmp_path}/gone.csv', "
                                                 "which does not exist; fix or remove the link")


def test_text_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{"a": "caf\xe9"}')
    with pytest.raises(UnicodeDecodeError) as info:
        path.read_text(encoding="utf-8")
    assert read_problem(path, info.value) == ("is not UTF-8 text (byte 0xe9 at position 10); "
                                              "save it as UTF-8")


@pytest.mark.skipif(not _permissions_apply(), reason="this user reads every file (root)")
def test_a_file_without_read_permission(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x\n")
    path.chmod(0)
    assert path_problem(path).startswith("cannot be read: permission denied (mode 000)")
    with pytest.raises(PermissionError) as info:
        path.read_text()
    assert read_problem(path, info.value).startswith("cannot be read: permission denied")
    os.chmod(path, 0o600)
