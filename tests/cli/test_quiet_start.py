"""TensorFlow's start-up lines do not reach the terminal (unless MOGUI_TF_LOG asks for them),
so a command's output and its one-line errors stand alone; and a command leaves no temporary
file behind."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mogui.core.io import example_path
from mogui.runner.native_log import SHOW_VARIABLE, held_native_stderr

START_UP = ("All log messages before absl", "I0000", "W0000", "E0000", "cuInit", "oneDNN")


def test_native_lines_are_held_back(capfd, monkeypatch):
    monkeypatch.delenv(SHOW_VARIABLE, raising=False)
    with held_native_stderr():
        os.write(2, b"E0000 native noise\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_held_lines_come_out_when_loading_fails_or_when_asked(capfd, monkeypatch):
    monkeypatch.delenv(SHOW_VARIABLE, raising=False)
    with pytest.raises(ImportError), held_native_stderr():
        os.write(2, b"why it failed\n")
        raise ImportError("no such library")
    assert capfd.readouterr().err == "why it failed\n"
    monkeypatch.setenv(SHOW_VARIABLE, "1")
    with held_native_stderr():
        os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"


@pytest.mark.slow
def test_commands_print_no_tensorflow_start_up_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (SHOW_VARIABLE, "TF_CPP_MIN_LOG_LEVEL",
                                                            "TF_ENABLE_ONEDNN_OPTS")}
    example = str(example_path("bbox_classification_joint"))
    for command in (["inspect", example], ["validate", example]):
        process = subprocess.Popen([sys.executable, "-m", "mogui", *command], cwd=tmp_path,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert not [line for line in err.splitlines()
                    if any(word in line for word in START_UP)], err
        # The child's temporary files (TensorFlow's generated code) went with its scratch
        # folder (other test processes may have folders of their own meanwhile).
        assert not list(Path(tempfile.gettempdir()).glob(f"mogui-worker-{process.pid}-*"))
