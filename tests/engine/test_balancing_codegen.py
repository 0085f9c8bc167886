"""The generated script reproduces a balanced run: every method, schedules, joint and custom
losses, masked labels. Each script runs as ``__main__`` in one subprocess while mogui trains
the same project here; both histories must agree to 1e-6 (relative)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.project import Project, WeightSchedule
from mogui.engine.data import load_data
from mogui.engine.export.codegen import generate_script
from mogui.engine.training import load_trained_model, run_training
from tests.engine.data_builders import JOINT_PER_SAMPLE
from tests.engine.test_balanced_training import masked_project
from tests.engine.test_codegen import read_history

DRIVER = textwrap.dedent('''
    import runpy, sys
    import keras

    for script, out in zip(sys.argv[1::2], sys.argv[2::2]):
        sys.argv = [script, out]
        runpy.run_path(script, run_name="__main__")
        keras.saving.load_model(f"{out}/model.keras", compile=False)
''')

CUSTOM = ("from keras import ops\n\n\ndef loss(y_true, y_pred):\n"
          "    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n")


def cases(folder: Path) -> dict[str, Project]:
    """One project per method, plus schedules, a custom head loss and a joint loss."""
    found = {}
    for method in BALANCING_METHODS:
        found[method] = masked_project(folder / method, method, epochs=3)
    schedules = masked_project(folder / "schedules", epochs=3)
    schedules.heads[0].loss.schedule = WeightSchedule(kind="linear_warmup",
                                                      params={"start": 0.2, "warmup": 2})
    schedules.heads[1].loss.schedule = WeightSchedule(kind="step", params={"every": 1})
    found["schedules"] = schedules
    custom = masked_project(folder / "custom", "uw", epochs=2)
    custom.heads[0].loss.kind = "custom"
    custom.heads[0].loss.source = CUSTOM
    found["custom_uw"] = custom
    joint = masked_project(folder / "joint", "pcgrad", epochs=2)
    joint.loss_mode = "joint"
    joint.joint_loss.source = JOINT_PER_SAMPLE
    joint.joint_loss.term_weights = {"size": 0.5}
    found["joint_pcgrad"] = joint
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("balancing_codegen")
    projects = cases(tmp)
    args = []
    for name, project in projects.items():
        (tmp / name).mkdir(exist_ok=True)
        script = tmp / name / "train.py"
        script.write_text(generate_script(project), encoding="utf-8")
        args += [str(script), str(tmp / name / "out")]
    (tmp / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, str(tmp / "driver.py"), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    mogui = {}
    try:
        for name, project in projects.items():
            out = tmp / name / "mogui"
            result = run_training(project, load_data(project), lambda event: None,
                                  out_dir=out)
            mogui[name] = result.history
        output, _ = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 0, output[-5000:]
    return projects, mogui, tmp


@pytest.mark.slow
@pytest.mark.parametrize("name", [*BALANCING_METHODS, "schedules", "custom_uw",
                                  "joint_pcgrad"])
def test_the_script_reproduces_the_balanced_run(runs, name):
    projects, mogui, tmp = runs
    history = mogui[name]
    exported = read_history(tmp / name / "out" / "history.csv")
    assert set(exported) == set(history)
    assert {k for k in history if k.startswith("weight_")} == {"weight_size", "weight_kind"}
    for key, values in history.items():
        np.testing.assert_allclose(exported[key], values, rtol=1e-6, err_msg=f"{name} {key}")
    load_trained_model(tmp / name / "mogui" / "model.keras")  # a balanced run's model loads


def test_a_script_copies_only_what_its_method_uses(tmp_path):
    def defined(project: Project) -> set[str]:
        tree = ast.parse(generate_script(project))
        return {node.name for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.ClassDef)}

    plain = defined(masked_project(tmp_path / "equal"))
    assert "LossWeightSchedule" not in plain and "GradientBalancing" not in plain
    uw = defined(masked_project(tmp_path / "uw", "uw"))
    assert {"UncertaintyWeighting", "uncertainty_total"} <= uw
    assert "famo_update" not in uw and "GradientBalancing" not in uw
    mgda = defined(masked_project(tmp_path / "mgda", "mgda"))
    assert {"GradientBalancing", "mgda", "min_norm_simplex"} <= mgda
    assert "pcgrad" not in mgda and "nash_mtl" not in mgda
    two = masked_project(tmp_path / "two", "dwa")
    two.training.devices = 2
    script = generate_script(two)
    assert "with training_strategy(DEVICES).scope():" in script and "DEVICES = 2" in script
    assert "LossWeightSchedule(BASE_WEIGHTS, HEAD_SCHEDULES, EPOCHS)" in script
