"""The generated script, run in a subprocess, reproduces mogui's own training run."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mogui.core.io import example_names, example_path, load_example
from mogui.core.project import HeadLoss, HeadSpec, LayerSpec, Project
from mogui.engine.data import load_data
from mogui.engine.export.codegen import generate_script, script_name
from mogui.engine.export.codegen.literals import lit
from mogui.engine.export.codegen.model import variable_name
from mogui.engine.training import run_training

CUSTOM_BBOX_LOSS = textwrap.dedent('''
    from keras import ops


    def scale():
        return 2.0


    def loss(y_true, y_pred):
        """Scaled absolute error, one value per sample."""
        return scale() * ops.mean(ops.abs(y_true - y_pred), axis=-1)
''').lstrip()

# Runs each generated script as __main__ in this one process (TensorFlow starts once), then
# writes the layer configs of the model each script saved.
DRIVER = textwrap.dedent('''
    import json, runpy, sys
    import keras

    for script, out in zip(sys.argv[1::2], sys.argv[2::2]):
        sys.argv = [script, out]
        runpy.run_path(script, run_name="__main__")
        model = keras.saving.load_model(f"{out}/model.keras")
        layers = [layer.get_config() for layer in model.layers]
        with open(f"{out}/layers.json", "w") as f:
            json.dump(layers, f, default=str)
''')


def shrink(project: Project, tmp: Path) -> Project:
    """Few samples and small images: each run takes a few seconds."""
    if project.data.kind == "demo_shapes":
        project.data.samples = 40  # 32 train + 8 validation: no partial batch
        project.data.image_size = 16
        project.inputs[0].shape = [16, 16, 1]
    elif project.data.kind == "csv":  # the first 40 rows; the script reads the table itself
        lines = (example_path("houses").parent / project.data.path).read_text().splitlines()
        (tmp / "small.csv").write_text("\n".join(lines[:41]) + "\n")
        project.data.path = str(tmp / "small.csv")
        project.training.early_stopping.patience = 1
    else:
        with np.load(example_path("multi_input").parent / project.data.path) as npz:
            arrays = {k: npz[k][:40] for k in npz.files}
        arrays["temperature"][[3, 17]] = np.nan  # unlabelled rows: sample weight 0
        arrays["tags"][5, 2] = np.nan
        np.savez(tmp / "small.npz", **arrays)
        project.data.path = str(tmp / "small.npz")
    project.training.batch_size = 16
    project.training.epochs = 2
    return project


def projects(tmp: Path) -> dict[str, Project]:
    result = {}
    for file_name in example_names():
        name = file_name.removesuffix(".json")
        result[name] = shrink(load_example(name), tmp)
    variant = shrink(load_example("bbox_classification"), tmp)
    variant.name = "Custom loss, dropout and early stopping"
    variant.heads[0].loss.kind = "custom"
    variant.heads[0].loss.source = CUSTOM_BBOX_LOSS
    variant.trunk.insert(-1, LayerSpec(name="drop", kind="Dropout", params={"rate": 0.3}))
    variant.training.early_stopping.enabled = True
    variant.training.early_stopping.patience = 1
    result["custom_dropout"] = variant
    third = shrink(load_example("bbox_classification"), tmp)
    third.name = "Third head on a demo quantity"
    third.heads.append(HeadSpec(name="roundness", task="binary", units=1,
                                loss=HeadLoss(weight=0.5, metrics=["binary_accuracy"])))
    third.data.targets = {"roundness": "is_round"}
    result["third_demo_head"] = third
    return result


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each project trained by mogui (here) and by its generated script (in a subprocess)."""
    tmp = tmp_path_factory.mktemp("codegen")
    cases = projects(tmp)
    args = []
    for name, project in cases.items():
        script = tmp / script_name(project)
        script.write_text(generate_script(project), encoding="utf-8")
        args += [str(script), str(tmp / f"out_{name}")]
    (tmp / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, str(tmp / "driver.py"), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    mogui = {}
    try:
        for name, project in cases.items():
            result = run_training(project, load_data(project), lambda _event: None)
            layers = [layer.get_config() for layer in result.model.layers]
            mogui[name] = (result.history, _jsonable(layers))
        output, _ = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, output
    return cases, mogui, tmp, output


def read_history(path: Path) -> dict[str, list[float]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    columns = lines[0].split(",")[1:]
    rows = [[float(v) for v in line.split(",")[1:]] for line in lines[1:]]
    return {c: [row[i] for row in rows] for i, c in enumerate(columns)}


@pytest.mark.slow
def test_script_reproduces_architecture_and_history_of_every_project(runs):
    cases, mogui, tmp, output = runs
    for name in cases:
        history, layers = mogui[name]
        exported = read_history(tmp / f"out_{name}" / "history.csv")
        assert set(exported) == set(history), name
        for key, values in history.items():
            np.testing.assert_allclose(exported[key], values, rtol=1e-6, err_msg=f"{name} {key}")
        script_layers = json.loads((tmp / f"out_{name}" / "layers.json").read_text())
        assert script_layers == layers, name
    assert {"roundness_loss", "val_roundness_loss"} <= set(mogui["third_demo_head"][0])
    joint = mogui["bbox_classification_joint"][0]
    assert {"bbox_loss", "classification_loss", "val_bbox_loss"} <= set(joint)
    assert "epoch 2/2: loss" in output  # the per-head log line


@pytest.mark.slow
def test_script_logs_each_head_loss(runs):
    _, _, _, output = runs
    line = next(ln for ln in output.splitlines() if ln.startswith("epoch 1/2") and "alarm" in ln)
    for key in ("temperature_loss", "alarm_loss", "tags_loss", "val_loss"):
        assert key in line


@pytest.mark.slow
def test_script_uses_only_keras_tensorflow_numpy(runs):
    cases, _, _, _ = runs
    allowed = {"csv", "math", "inspect", "io", "sys", "pathlib", "keras", "numpy", "tensorflow"}
    for project in cases.values():
        tree = ast.parse(generate_script(project))
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add((node.module or "").split(".")[0])
        assert modules <= allowed, modules
        assert "import mogui" not in generate_script(project)


@pytest.mark.slow
def test_script_is_ruff_clean_and_formatted(runs, tmp_path):
    cases, _, _, _ = runs
    ruff = [sys.executable, "-m", "ruff"]
    for name, project in cases.items():
        path = tmp_path / f"{name}.py"
        path.write_text(generate_script(project), encoding="utf-8")
        options = ["--isolated", "--line-length=100"]
        check = subprocess.run([*ruff, "check", *options, "--select=E,F,W,I,B,UP", str(path)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
        fmt = subprocess.run([*ruff, "format", *options, "--check", "--diff", str(path)],
                             capture_output=True, text=True)
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_script_explains_the_multi_output_parts(demo_project, joint_project):
    per_output = generate_script(demo_project)
    assert "Dicts keyed by head name" in per_output
    assert 'loss_weights={"bbox": 1.0, "classification": 1.5}' in per_output
    joint = generate_script(joint_project)
    assert "def compute_loss(" in joint and "class JointLossModel(MultiHeadModel)" in joint
    assert "class MultiHeadModel(keras.Model)" in joint
    assert 'TERM_WEIGHTS = {"bbox": 1.0, "classification": 1.5}' in joint
    # the user's joint loss is copied as written
    for line in joint_project.joint_loss.source.splitlines():
        if line.strip().startswith("#"):
            assert line.strip() in joint


def test_npz_data_path_is_absolute(tmp_path):
    project = load_example("multi_input")
    text = generate_script(project, example_path("multi_input").parent)
    expected = (example_path("multi_input").parent / "multi_input_data.npz").resolve()
    assert f"DATA_FILE = Path({lit(str(expected))})" in text


def test_layer_names_that_shadow_python_get_a_suffix(demo_project):
    assert variable_name("conv1") == "conv1"
    assert variable_name("lambda") == "lambda_"
    assert variable_name("input") == "input_"
    assert variable_name("model") == "model_"
    demo_project.trunk[0].name = "input"
    demo_project.trunk[1].inputs = []
    text = generate_script(demo_project)
    assert 'input_ = keras.layers.Conv2D(' in text.replace("\n    ", "")
    compile(text, "script.py", "exec")


def test_literals_are_python():
    value = {"a": [1, 2.5, None, True], "b": (3,), "c": 'say "hi"'}
    assert eval(lit(value)) == value  # noqa: S307 - our own literal
