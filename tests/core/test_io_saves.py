"""Saves on disk: through symbolic links, keeping permission bits, cleaning up killed saves."""

from __future__ import annotations

import os
import stat
import sys
import time

import pytest

from mogui.core import io
from mogui.core.io import SaveError, atomic_write_text, load_project, save_project

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and modes")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@posix_only
def test_saving_over_a_link_replaces_its_target_and_keeps_the_link(tmp_path, demo_project):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "project.json"
    target.write_text("old")
    hop = tmp_path / "hop.json"
    hop.symlink_to(target)
    link = tmp_path / "link.json"
    link.symlink_to(hop)  # a chain of two links

    demo_project.name = "through the link"
    save_project(demo_project, link)

    assert link.is_symlink() and hop.is_symlink()
    assert os.readlink(link) == str(hop)
    assert load_project(target).name == "through the link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hop.json", "link.json", "real"]
    assert [p.name for p in real_dir.iterdir()] == ["project.json"]  # no temporary left


@posix_only
def test_a_dangling_link_or_a_loop_is_refused_with_a_clear_message(tmp_path):
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "moved-away.json")
    with pytest.raises(SaveError, match="which does not exist; fix or remove the link") as info:
        atomic_write_text(dangling, "text")
    assert isinstance(info.value, OSError) and str(dangling) in str(info.value)
    assert not (tmp_path / "moved-away.json").exists()

    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    with pytest.raises(SaveError, match="leads back to itself"):
        atomic_write_text(tmp_path / "a.json", "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "dangling.json"]


def test_saving_over_a_folder_says_so(tmp_path):
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(SaveError, match="it is a folder; choose a file name"):
        atomic_write_text(tmp_path / "folder.json", "text")


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o600])
def test_an_existing_file_keeps_its_permission_bits(tmp_path, mode):
    target = tmp_path / "project.json"
    target.write_text("old")
    target.chmod(mode)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert _mode(target) == mode


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_users_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert io.current_umask() == umask
        atomic_write_text(tmp_path / "new.json", "text")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "new.json") == 0o666 & ~umask


@posix_only
def test_new_mode_is_for_new_files_only(tmp_path):
    atomic_write_text(tmp_path / "private.json", "text", new_mode=0o600)
    assert _mode(tmp_path / "private.json") == 0o600
    (tmp_path / "shared.json").write_text("old")
    (tmp_path / "shared.json").chmod(0o644)
    atomic_write_text(tmp_path / "shared.json", "text", new_mode=0o600)
    assert _mode(tmp_path / "shared.json") == 0o644


def test_orphaned_temporaries_of_the_same_file_are_removed_others_stay(tmp_path):
    target = tmp_path / "notes"
    old_orphan = tmp_path / ".notes.mogui-ab12_x9z.tmp"
    fresh_orphan = tmp_path / ".notes.mogui-k3j9q0aa.tmp"
    unrelated = [tmp_path / ".notes.tmp", tmp_path / ".other.mogui-ab12_x9z.tmp",
                 tmp_path / ".notes.ab12_x9z.tmp", tmp_path / ".notes.mogui-ab12_x9z.tmp.bak"]
    for path in [old_orphan, fresh_orphan, *unrelated]:
        path.write_text("half a save")
    an_hour_ago = time.time() - 3600
    for path in [old_orphan, *unrelated]:
        os.utime(path, (an_hour_ago, an_hour_ago))

    atomic_write_text(target, "text")

    assert not old_orphan.exists()
    assert fresh_orphan.exists()  # may be another save in progress
    assert all(path.exists() for path in unrelated)
    assert target.read_text() == "text"


def test_a_killed_save_leaves_a_temporary_with_the_distinctive_name(tmp_path, monkeypatch):
    """What the clean-up looks for is what a save really leaves while it writes."""
    seen = []
    real_replace = os.replace

    def look(src, dst):
        seen.extend(p.name for p in tmp_path.iterdir() if p.name != "p.json")
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", look)
    atomic_write_text(tmp_path / "p.json", "text")
    assert len(seen) == 1
    assert io._orphan_pattern("p.json").fullmatch(seen[0]), seen


def test_a_save_that_fails_midway_keeps_the_original_and_leaves_no_temporary(tmp_path,
                                                                             monkeypatch):
    target = tmp_path / "project.json"
    target.write_text("the original")

    def fail(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "the new text")
    assert target.read_text() == "the original"
    assert [p.name for p in tmp_path.iterdir()] == ["project.json"]


def test_a_text_that_cannot_be_encoded_keeps_the_original(tmp_path):
    target = tmp_path / "project.json"
    target.write_text("the original")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "lone surrogate \udc80")
    assert target.read_text() == "the original"
    assert [p.name for p in tmp_path.iterdir()] == ["project.json"]
