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


#: Lines TensorFlow 2.x wrote while loading on this kind of machine, as printed.
TENSORFLOW_LINES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796155769.917436   15151 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796155769.924405   15151 cudart_stub.cc:31] Could not find cuda drivers\n"
    "I0000 00:00:1796156010.1   19352 cpu_feature_guard.cc:210] This TensorFlow binary is\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild.\n"
    "E0000 00:00:1796155776.491314   15151 cuda_platform.cc:52] failed call to cuInit\n"
    "W0000 00:00:1796155776.5   15151 gpu_device.cc:2344] Cannot dlopen some GPU libraries.\n")


def test_the_app_keeps_other_lines_written_while_tensorflow_loads(capfd, monkeypatch):
    monkeypatch.delenv(SHOW_VARIABLE, raising=False)
    lines = TENSORFLOW_LINES.splitlines(keepends=True)
    with held_native_stderr(pass_others=True):
        os.write(2, "".join(lines[:3]).encode())
        os.write(2, b"qt.qpa.xcb: a warning of the window system\n")
        os.write(2, "".join(lines[3:]).encode())
        os.write(2, b"Traceback (most recent call last): from another thread\n")
    assert capfd.readouterr().err == ("qt.qpa.xcb: a warning of the window system\n"
                                      "Traceback (most recent call last): from another thread\n")


@pytest.mark.slow
def test_the_app_loads_tensorflow_without_its_start_up_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (SHOW_VARIABLE, "TF_CPP_MIN_LOG_LEVEL",
                                                            "TF_ENABLE_ONEDNN_OPTS")}
    code = ("import os; from mogui.qt.engine_loader import load_engine; load_engine(); "
            "os.write(2, b'loaded\\n')")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == "loaded\n"


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
