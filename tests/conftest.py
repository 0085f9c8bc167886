"""Shared test set-up: offscreen Qt, quiet TensorFlow, isolated settings and trust store,
example projects.

Every test gets an empty trust store of its own (``MOGUI_CONFIG_DIR``), and all code counts as
trusted in the test process, except in tests marked ``@pytest.mark.untrusted``. Subprocesses
inherit the store's folder, not the in-process allowance: they need ``--trust`` or a trust.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

from mogui.core import trust  # noqa: E402
from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import Project  # noqa: E402
from mogui.qt.engine_loader import load_engine  # noqa: E402
from mogui.qt.engine_thread import collect_garbage  # noqa: E402


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


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_between_tests():
    """Collect cyclic garbage as the app does: never while the engine thread builds a model
    (see mogui.qt.engine_thread). TensorFlow is imported first and frozen out of collections,
    so collecting after every test costs little."""
    gc.disable()
    load_engine()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    collect_garbage()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Keep QSettings (UI preferences) and data (recovery files) of tests out of the user's."""
    monkeypatch.setenv("MOGUI_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("MOGUI_DATA_DIR", str(tmp_path / "data"))
    yield


@pytest.fixture(scope="session", autouse=True)
def _session_trust(tmp_path_factory):
    """For the whole session (module fixtures too): a throwaway config folder, code trusted."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOGUI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
        patch.setattr(trust.PROCESS_ALLOWED, "everything", True)
        yield


@pytest.fixture(autouse=True)
def _isolated_trust(request, tmp_path_factory, monkeypatch):
    """A fresh, empty trust store per test; ``@pytest.mark.untrusted`` turns trust checks on."""
    monkeypatch.setenv("MOGUI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setattr(trust.PROCESS_ALLOWED, "hashes", set())
    if request.node.get_closest_marker("untrusted") is not None:
        monkeypatch.setattr(trust.PROCESS_ALLOWED, "everything", False)
    yield
