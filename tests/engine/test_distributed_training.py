"""Several devices: a run on two devices takes the steps of a run on one.

TensorFlow's logical devices must be set before it starts, so the runs happen in a
subprocess that splits the CPU into two logical devices and trains each case on one device
and on two (``training.devices``, ``tf.distribute.MirroredStrategy``), then compares the
weights. Without shuffling, both runs see the same batches (Keras starts one extra pass over
a distributed dataset to build the model, which gives a seeded shuffle other orders).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mogui.core.errors import DeviceError
from mogui.engine.training.devices import distribution_strategy

#: Built-in, custom (per-sample and scalar), joint and masked losses and the loss-based
#: methods: the same weights to 1e-5 of each variable's largest magnitude. Both runs compute
#: the same sums, only in another order (each device adds up its half of the batch).
EXACT = ["equal", "custom", "custom_scalar", "joint", "joint_masked", "uw", "dwa", "rlw",
         "gls", "famo"]
#: The gradient-based methods add the two halves' per-head gradients before aggregating, so
#: they aggregate the whole batch's gradients; float32 rounding of that sum differs from the
#: one-device gradients in the last bits, and the aggregators are not linear: their solvers
#: (iterations that stop at a threshold, a pseudo-inverse cut-off, GradNorm's sign, PCGrad's
#: conflict test) can turn a last-bit difference into a larger one. Measured here: at most
#: 2.3e-7; on the demo's convolutions with Adam, 1.1e-5 after 6 steps. Tolerance 1e-4.
GRADIENT = ["pcgrad", "gradnorm", "mgda", "cagrad", "imtl_g", "aligned_mtl", "nash_mtl",
            "upgrad"]
GRADIENT_TOLERANCE = 1e-4

SCRIPT = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    sys.path.insert(0, os.getcwd())
    import numpy as np
    from mogui.core.trust import allow_in_process
    from mogui.engine.data import load_data
    from mogui.engine.training import run_training
    from tests.engine.data_builders import JOINT_PER_SAMPLE, write_npz
    from tests.engine.test_balanced_training import masked_project

    PER_SAMPLE = ("from keras import ops\\n\\n\\ndef loss(y_true, y_pred):\\n"
                  "    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\\n")
    SCALAR = ("from keras import ops\\n\\n\\ndef loss(y_true, y_pred):\\n"
              "    return ops.mean(ops.abs(y_true - y_pred))\\n")
    allow_in_process([PER_SAMPLE, SCALAR, JOINT_PER_SAMPLE])  # the test's own code

    def project(case, folder):
        method = case if case in {BALANCED} else "equal"
        p = masked_project(folder, method, epochs=3 if case == "dwa" else 2)
        # Plain SGD: Adam divides each gradient by its running size, which turns the last-bit
        # rounding of a gradient that is almost 0 into a whole step of either sign.
        p.training.optimizer = "sgd"
        p.training.learning_rate = 0.05
        if case.startswith("custom"):
            p.heads[0].loss.kind = "custom"
            p.heads[0].loss.source = SCALAR if case == "custom_scalar" else PER_SAMPLE
        if case.startswith("joint"):
            p.loss_mode = "joint"
            p.joint_loss.source = JOINT_PER_SAMPLE
            p.joint_loss.term_weights = {{"size": 0.5}}
        if case == "joint":  # every label there: no mask
            write_npz(folder, 48)
        return p

    results = {{}}
    for case in sys.argv[2:]:
        folder = os.path.join(sys.argv[1], case)
        os.makedirs(folder)
        runs = []
        for devices in (1, 2):
            p = project(case, Path(folder))
            p.training.devices = devices
            result = run_training(p, load_data(p), lambda event: None)
            runs.append((result.model.get_weights(), result.history, result.device))
        (one, h1, _), (two, h2, device) = runs
        worst = max(float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-12))
                    for a, b in zip(one, two))
        losses = [h1["loss"][-1], h2["loss"][-1]]
        weights = {{k: [h1[k][-1], h2[k][-1]] for k in h1 if k.startswith("weight_")}}
        results[case] = {{"worst": worst, "loss": losses, "weights": weights,
                         "device": device}}
    print("RESULTS " + json.dumps(results))
''')


def _run_cases(tmp_path: Path, cases: list[str]) -> dict:
    script = tmp_path / "distributed.py"
    balanced = repr({name for name in EXACT + GRADIENT if name not in
                     ("equal", "custom", "custom_scalar", "joint", "joint_masked")})
    script.write_text(SCRIPT.format(BALANCED=balanced), encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, str(script), str(tmp_path), *cases],
                          capture_output=True, text=True, timeout=600, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULTS ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[0].removeprefix("RESULTS "))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _run_cases(tmp_path_factory.mktemp("distributed"), EXACT + GRADIENT)


@pytest.mark.slow
@pytest.mark.parametrize("case", EXACT)
def test_two_devices_take_the_one_device_steps(results, case):
    found = results[case]
    assert found["device"] == "2 CPU devices"
    assert found["worst"] < 1e-5, found
    assert found["loss"][1] == pytest.approx(found["loss"][0], rel=1e-5)
    for head, (one, two) in found["weights"].items():
        assert two == pytest.approx(one, rel=1e-5), head


@pytest.mark.slow
@pytest.mark.parametrize("case", GRADIENT)
def test_gradient_methods_aggregate_the_whole_batch_on_two_devices(results, case):
    found = results[case]
    assert found["worst"] < GRADIENT_TOLERANCE, found
    for head, (one, two) in found["weights"].items():
        assert two == pytest.approx(one, rel=GRADIENT_TOLERANCE), head


def test_more_devices_than_the_machine_has_is_a_plain_error():
    with pytest.raises(DeviceError, match=r"trains on 64 devices at once .*--devices"):
        distribution_strategy(64)
    assert distribution_strategy(1) is None
