"""Opening projects from the desktop: ``mogui PROJECT.json``, the launcher entry, the project
file type and its installer, the bundle's source files and its ONNX message."""

from __future__ import annotations

import ast
import configparser
import importlib
import importlib.util
import os
import pkgutil
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mogui import cli
from mogui.core.io import save_project
from mogui.engine.export import codegen, formats

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
MIME_TYPE = "application/x-mogui-project"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
#: The main categories of the freedesktop menu specification.
MAIN_CATEGORIES = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game",
                   "Graphics", "Network", "Office", "Science", "Settings", "System", "Utility"}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mogui", *args], cwd=cwd,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          capture_output=True, text=True, timeout=120)


def desktop_entry(path: Path = PACKAGING / "mogui.desktop") -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


# -- mogui PROJECT.json ---------------------------------------------------------------------------

@pytest.mark.gui
def test_a_project_file_as_the_only_argument_opens_the_app_on_it(qtbot, monkeypatch, tmp_path,
                                                                demo_project):
    from mogui.qt import app

    path = tmp_path / "shapes.mogui.json"
    save_project(demo_project, path)
    windows = []

    def run_gui(argv: list[str], project_path: str | None) -> int:  # the app without its loop
        window = app.create_window(project_path)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return 0

    monkeypatch.setattr(app, "run_gui", run_gui)
    assert cli.main([str(path)]) == 0
    [window] = windows
    qtbot.waitExposed(window)
    assert window.document.path == path
    assert window.windowTitle() == "shapes.mogui.json — mogui"
    assert window.document.project.head_names == demo_project.head_names
    window.editor.inspection.wait()


@pytest.mark.parametrize("argv", [["missing.mogui.json"], ["gui", "missing.mogui.json"],
                                  ["sub/missing.json"]])
def test_a_missing_project_file_exits_2_and_says_so(tmp_path, argv):
    done = run_cli(*argv, cwd=tmp_path)
    assert done.returncode == 2
    assert f"cannot open the project '{argv[-1]}': it does not exist" in done.stderr
    assert "bbox_classification" in done.stderr  # what could be opened instead
    assert "Traceback" not in done.stderr


def test_a_folder_is_not_a_project(tmp_path):
    (tmp_path / "folder.json").mkdir()
    done = run_cli("folder.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "'folder.json': it is a folder, not a file" in done.stderr


def test_a_file_named_like_a_command_does_not_hide_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("not a project", encoding="utf-8")
    assert cli.main(["runs", "bbox_classification"]) == 0
    assert "bbox_classification" in capsys.readouterr().out


def test_a_word_that_is_neither_command_nor_file_gets_the_list_of_commands(tmp_path):
    done = run_cli("trian", cwd=tmp_path)
    assert done.returncode == 2
    assert "invalid choice: 'trian'" in done.stderr and "'train'" in done.stderr


# -- launcher entry and file type ------------------------------------------------------------------

def test_the_launcher_entry_opens_project_files_of_its_own_type():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "mogui %f"
    assert entry["Icon"] == "mogui"
    assert entry["MimeType"] == f"{MIME_TYPE};"
    categories = [c for c in entry["Categories"].split(";") if c]
    assert len(set(categories) & MAIN_CATEGORIES) == 1


def test_the_mime_type_claims_mogui_projects_only():
    root = ET.parse(PACKAGING / "mogui-mime.xml").getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    [mime] = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == MIME_TYPE
    assert [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")] == ["*.mogui.json"]
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"
    assert mime.find(f"{MIME_NS}icon").get("name") == desktop_entry()["Icon"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate is not installed (apt: desktop-file-utils)")
def test_the_launcher_entry_passes_desktop_file_validate_without_hints():
    done = subprocess.run(["desktop-file-validate", str(PACKAGING / "mogui.desktop")],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("update-mime-database") is None,
                    reason="update-mime-database is not installed (apt: shared-mime-info)")
def test_the_installer_puts_entry_type_and_icon_where_desktops_look(tmp_path):
    program = tmp_path / "my apps" / "mogui"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    share = tmp_path / "share"
    done = subprocess.run(["bash", str(PACKAGING / "install-desktop.sh"), str(program)],
                          env={**os.environ, "XDG_DATA_HOME": str(share)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    entry = share / "applications" / "mogui.desktop"
    assert desktop_entry(entry)["Exec"] == f'"{program}" %f'  # the desktop's PATH may lack it
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "mogui.svg").read_bytes() == \
        (ROOT / "resources" / "icons" / "mogui.svg").read_bytes()
    globs = (share / "mime" / "globs2").read_text(encoding="utf-8").splitlines()
    assert any(line.endswith(f":{MIME_TYPE}:*.mogui.json") for line in globs)
    if shutil.which("desktop-file-validate"):
        validated = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                                   text=True, timeout=30)
        assert (validated.returncode, validated.stdout) == (0, "")

    removed = subprocess.run(["bash", str(PACKAGING / "install-desktop.sh"), "--uninstall"],
                             env={**os.environ, "XDG_DATA_HOME": str(share)},
                             capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists()
    assert MIME_TYPE not in (share / "mime" / "globs2").read_text(encoding="utf-8")


def test_the_installer_refuses_a_program_that_cannot_run(tmp_path):
    done = subprocess.run(["bash", str(PACKAGING / "install-desktop.sh"),
                           str(tmp_path / "nothing")],
                          env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "is not a program that can be run" in done.stderr
    assert not (tmp_path / "share").exists()


# -- the bundle ------------------------------------------------------------------------------------

def test_the_bundle_ships_the_source_of_every_module_the_training_script_copies():
    """The spec keeps as ``.py`` files every module whose definitions the script copies."""
    spec = (PACKAGING / "mogui.spec").read_text(encoding="utf-8")
    [assignment] = [node for node in ast.parse(spec).body if isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", None) == "source_packages"]
    shipped = ast.literal_eval(assignment.value)
    assert set(shipped.values()) == {"pyz+py"}
    copied = set()
    for info in pkgutil.iter_modules(codegen.__path__):
        module = importlib.import_module(f"{codegen.__name__}.{info.name}")
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "definitions":
                copied.add(getattr(module, call.args[0].id).__name__)
    assert "mogui.engine.plain_keras.demo_shapes" in copied
    assert {name for name in copied
            if not any(name == p or name.startswith(f"{p}.") for p in shipped)} == set()


def _without_onnx(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tf2onnx" else real(name, *a))


def test_onnx_missing_in_a_bundle_says_what_to_do_there_instead_of_pip(monkeypatch):
    _without_onnx(monkeypatch)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    reason = formats.onnx_missing()
    assert reason is not None
    assert "not part of this mogui bundle" in reason and "tf2onnx" in reason
    assert "keras or savedmodel" in reason
    assert "pip" not in reason


def test_onnx_missing_in_an_install_says_how_to_install_it(monkeypatch):
    _without_onnx(monkeypatch)
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert "pip install -e '.[onnx]' in mogui's folder" in formats.onnx_missing()


def test_save_as_suggests_the_mogui_project_file_type(qtbot):
    """A project saved from the app gets the ending desktops know as a mogui project."""
    from mogui.core.io import load_example
    from mogui.qt.document import ProjectDocument
    from mogui.qt.file_actions import _suggested_file_name

    document = ProjectDocument(load_example("multi_input"))
    assert _suggested_file_name(document).endswith(".mogui.json")
    assert _suggested_file_name(document).startswith(document.project.slug)
