"""A child process's temporary files live in its scratch folder, which goes when the child
ends, however it ends; folders left by a parent that was killed go with the next child."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mogui.core.events import EpochEnded
from mogui.runner import ChildProcess
from mogui.runner.requests import TrainRequest
from mogui.runner.scratch import PREFIX, remove_abandoned
from tests.engine.data_builders import image_project, write_image_folder


def _ended_pid() -> int:
    """The id of a process that has ended (and been waited for)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(os.name != "posix", reason="asks the system whether a process runs")
def test_only_the_folders_of_ended_processes_are_removed(tmp_path):
    ended = tmp_path / f"{PREFIX}{_ended_pid()}-abc"
    running = tmp_path / f"{PREFIX}{os.getpid()}-def"
    not_ours = tmp_path / f"{PREFIX}cache"
    other = tmp_path / "mogui-image-cache-123"
    for folder in (ended, running, not_ours, other):
        (folder / "inside").mkdir(parents=True)
    assert remove_abandoned(tmp_path) == [ended]
    assert not ended.exists()
    assert all(folder.exists() for folder in (running, not_ours, other))


@pytest.mark.slow
def test_a_killed_childs_image_cache_is_removed_with_its_scratch(tmp_path):
    write_image_folder(tmp_path, 48, pixels=16)
    project = image_project(16)
    project.data.streaming = "always"
    project.data.cache = "disk"
    project.training.epochs = 200
    child = ChildProcess()
    assert child.scratch.is_dir() and child.scratch.name.startswith(f"{PREFIX}{os.getpid()}-")
    child.start_job("train", (TrainRequest(project, tmp_path, tmp_path / "run"),))
    messages = child.messages()
    for kind, event in messages:
        if kind == "event" and isinstance(event, EpochEnded):
            break
    assert any(child.scratch.glob("mogui-image-cache-*/pipeline-*/records*"))
    child.process.kill()  # no clean-up of its own
    outcome = [value for kind, value in messages if kind == "outcome"]
    assert [o.kind for o in outcome] == ["error"]
    child.close()
    assert not child.scratch.exists()
