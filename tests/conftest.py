"""Shared test set-up: offscreen Qt, quiet TensorFlow, isolated settings, example projects."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import Project  # noqa: E402


def _shrunk_example(name: str) -> Project:
    """A shipped demo example shrunk so it trains in a second or two."""
    project = load_example(name)
    project.data.samples = 64
    project.data.image_size = 32
    project.inputs[0].shape = [32, 32, 1]
    project.training.batch_size = 16
    project.training.epochs = 1
    return project


@pytest.fixture
def demo_project() -> Project:
    """The bbox + classification demo, shrunk."""
    return _shrunk_example("bbox_classification")


@pytest.fixture
def joint_project() -> Project:
    """The joint-loss demo, shrunk like ``demo_project``."""
    return _shrunk_example("bbox_classification_joint")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Keep QSettings (UI preferences) of tests out of the user's real settings."""
    monkeypatch.setenv("MOGUI_SETTINGS_DIR", str(tmp_path / "settings"))
    yield
