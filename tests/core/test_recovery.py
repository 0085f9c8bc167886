"""Recovery files: where they live, what they hold, which ones are offered (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mogui.core import recovery
from mogui.core.recovery import (
    RecoveryError,
    data_dir,
    orphaned_recoveries,
    pid_alive,
    read_recovery,
    recovery_dir,
    write_recovery,
)

IDENTITY = "ab" * 16


def _as_process(file: Path, pid: int, **changes) -> Path:
    """``file`` rewritten as process ``pid`` would have left it."""
    data = json.loads(file.read_text())
    data.update(pid=pid, **changes)
    moved = file.with_name(f"{pid}-{IDENTITY}.json")
    moved.write_text(json.dumps(data))
    if moved != file:
        file.unlink()
    return moved


def test_data_dir_honours_the_environment_then_xdg(monkeypatch, tmp_path):
    assert data_dir() == Path(os.environ["MOGUI_DATA_DIR"])  # tests are isolated
    assert recovery_dir() == data_dir() / "recovery"
    if sys.platform in ("win32", "darwin"):
        return
    monkeypatch.delenv("MOGUI_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "mogui"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "mogui"


def test_a_recovery_file_holds_the_project_its_path_and_when(demo_project, tmp_path):
    demo_project.name = "Unsaved"
    file = write_recovery(demo_project, tmp_path / "p.json", IDENTITY)
    assert file == recovery_dir() / f"{os.getpid()}-{IDENTITY}.json"
    read = read_recovery(file)
    assert read.project() == demo_project
    assert read.path == tmp_path / "p.json" and read.name() == "p.json"
    assert read.pid == os.getpid() and read.saved_at.tzinfo is not None
    assert not read.orphaned()  # this process is running


def test_only_files_of_processes_no_longer_running_are_offered(demo_project):
    file = write_recovery(demo_project, None, IDENTITY)
    assert orphaned_recoveries() == []  # this process's own
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        file = _as_process(file, other.pid)
        assert pid_alive(other.pid)
        assert orphaned_recoveries() == []  # another instance, still running
    finally:
        other.stdin.close()
        other.wait(timeout=60)
    assert not pid_alive(other.pid)
    assert [r.file for r in orphaned_recoveries()] == [file]


def test_another_machine_or_an_earlier_boot(demo_project, monkeypatch):
    file = write_recovery(demo_project, None, IDENTITY)
    file = _as_process(file, os.getpid(), host="another-machine")
    assert orphaned_recoveries() == []  # a shared home folder: not ours to judge
    file = _as_process(file, os.getpid(), host=recovery.socket.gethostname(),
                       boot="an-earlier-boot")
    monkeypatch.setattr(recovery, "_boot_id", lambda: "this-boot")
    assert [r.file for r in orphaned_recoveries()] == [file]  # the pid may be reused since


def test_damaged_files_are_skipped_and_kept_stale_temporaries_removed(demo_project):
    folder = recovery_dir()
    folder.mkdir(parents=True)
    damaged = {
        f"1-{'1' * 32}.json": "{ not json",
        f"2-{'2' * 32}.json": json.dumps({"format": "something else"}),
        f"3-{'3' * 32}.json": json.dumps({"format": "mogui-recovery", "version": 99}),
        f"4-{'4' * 32}.json": json.dumps({"format": "mogui-recovery", "version": 1}),
        "notes.txt": "the user's",
    }
    for name, text in damaged.items():
        (folder / name).write_text(text)
    stale = folder / f".5-{'5' * 32}.json.mogui-abcd1234.tmp"
    fresh = folder / f".6-{'6' * 32}.json.mogui-abcd1234.tmp"
    for path in (stale, fresh):
        path.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))

    assert orphaned_recoveries() == []
    assert sorted(p.name for p in folder.iterdir()) == sorted([*damaged, fresh.name])
    with pytest.raises(RecoveryError, match="has format version 99; this mogui reads 1"):
        read_recovery(folder / f"3-{'3' * 32}.json")
    with pytest.raises(RecoveryError, match="incomplete or damaged"):
        read_recovery(folder / f"4-{'4' * 32}.json")
    with pytest.raises(RecoveryError, match="cannot be read"):
        read_recovery(folder / f"1-{'1' * 32}.json")


def test_newest_first(demo_project):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    first = _as_process(write_recovery(demo_project, None, IDENTITY), pid,
                        saved_at="2024-01-01T10:00:00+00:00")
    second = first.with_name(f"{pid}-{'cd' * 16}.json")
    data = json.loads(first.read_text())
    data["saved_at"] = "2024-01-02T10:00:00+00:00"
    second.write_text(json.dumps(data))
    assert [r.file for r in orphaned_recoveries()] == [second, first]
