"""Render a project as one standalone training script that needs only keras, tensorflow, numpy.

The script reproduces mogui's run: same data, seeds, split, layers (created in the same
order), losses, weights, optimizer and fit arguments, so its ``history.csv`` matches mogui's.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from mogui.core.project import Project
from mogui.engine.data import project_labels
from mogui.engine.export.codegen.balancing import (
    balancer_expression,
    balancing_section,
    balancing_settings,
    uses_schedule,
)
from mogui.engine.export.codegen.data import (
    data_section,
    masking_section,
    split_section,
    targets_section,
)
from mogui.engine.export.codegen.literals import banner, lit
from mogui.engine.export.codegen.losses import (
    compile_section,
    losses_section,
    shared_section,
)
from mogui.engine.export.codegen.model import model_section
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.export.codegen.stopping import (
    stopping_callbacks,
    stopping_report,
    stopping_section,
    stopping_settings,
)
from mogui.engine.plain_keras import batches, history, scaling

#: The definitions of :mod:`mogui.engine.plain_keras.scaling` a script with Normalization
#: layers (or standardized heads) copies.
SCALING_DEFINITIONS = ("moments", "set_moments", "normalization_layers", "layer_values",
                       "labelled", "adapt_scaling")


def uses_scaling(project: Project) -> bool:
    """Whether the model has Normalization layers to measure on the training rows."""
    layers = [*project.trunk, *(layer for head in project.heads for layer in head.layers)]
    return any(layer.kind == "Normalization" for layer in layers) or \
        any(head.standardize for head in project.heads)

#: Line length the script is formatted for (mogui's own).
LINE_LENGTH = 100

RUN_SECTION = '''
class HeadLossLogger(keras.callbacks.Callback):
    """Prints the total loss and each head's own (unweighted) loss after every epoch."""

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        cells = [f"{key} {logs[key]:.4f}" for key in LOG_KEYS if key in logs]
        print(f"epoch {epoch + 1}/{EPOCHS}: " + "  ".join(cells), flush=True)
'''.strip("\n") + "\n"


def script_name(project: Project) -> str:
    """File name of the exported script, e.g. ``train_shapes_bounding_box_class.py``."""
    return f"train_{project.slug or 'model'}.py"


def generate_script(project: Project, project_dir: Path | None = None, *,
                    format_code: bool = True, data_snapshot: bool = False) -> str:
    """The project as a standalone training script (formatted with ruff when available).

    ``project_dir`` is the folder of the project file, for a relative data path. The script of
    a CSV project reads the table itself; with ``data_snapshot`` it loads the ``data.npz``
    snapshot an export writes beside it instead.
    """
    preamble = "\n".join([_header(project), _imports(project), _settings(project)])
    sections = [
        preamble,
        data_section(project, project_dir, data_snapshot=data_snapshot),
        masking_section(project),
        targets_section(project),
        split_section(),
        definitions(batches, "needed_weights", "packed_weights", "epoch_batches"),
        definitions(scaling, *SCALING_DEFINITIONS) if uses_scaling(project) else "",
        shared_section(),
        losses_section(project),
        model_section(project),
        compile_section(project),
        balancing_section(project),
        stopping_section(project),
        definitions(history, "history_columns", "history_csv"),
        RUN_SECTION,
        _main(project),
        'if __name__ == "__main__":\n'
        "    # The run's files go to the folder given, else to rerun/ beside this script (never\n"
        "    # over the files exported with it).\n"
        '    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "rerun")\n',
    ]
    text = "\n\n".join(s.strip("\n") + "\n" for s in sections if s.strip())
    return format_python(text) if format_code else text


def _header(project: Project) -> str:
    title = project.name.replace('"""', "'''").replace("\\", "/")
    mode = ("one joint loss over all heads" if project.loss_mode == "joint"
            else "one loss per head")
    return (
        f'"""Train "{title}" with plain Keras ({mode}).\n\n'
        "Exported from mogui. It needs only keras, tensorflow and numpy, and repeats mogui's\n"
        "run: same data, seeds, split, layers, losses and optimizer, so history.csv matches.\n\n"
        "Run it with:  python <this file> [OUTPUT_FOLDER]\n"
        "It writes history.csv and model.keras to OUTPUT_FOLDER (default: rerun/ beside this\n"
        "file, so the exported ones are kept).\n"
        '"""\n'
    )


def _imports(project: Project) -> str:
    joint = project.loss_mode == "joint"
    lines = ["import csv", *(["import inspect"] if joint else []), "import io", "import math",
             "import sys", "from pathlib import Path", "",
             "import keras", "import numpy as np", "import tensorflow as tf",
             "from keras import ops"]
    return "\n".join(lines) + "\n"


def _settings(project: Project) -> str:
    settings = project.training
    loss_heads = [h.name for h in project.loss_heads()]
    log_keys = ["loss", *(f"{h}_loss" for h in loss_heads)] if len(loss_heads) > 1 else ["loss"]
    if settings.validation_split > 0:
        log_keys += [f"val_{k}" for k in log_keys]
    lines = [
        banner("settings (from the project)"),
        f"SEED = {settings.seed}",
        f"EPOCHS = {settings.epochs}",
        f"BATCH_SIZE = {settings.batch_size}",
        f"LEARNING_RATE = {settings.learning_rate!r}",
        f"VALIDATION_SPLIT = {settings.validation_split!r}",
        f"SHUFFLE = {settings.shuffle}",
        f"LOSS_HEADS = {lit(loss_heads)}",
        f"LOG_KEYS = {lit(log_keys)}",
    ]
    names = {name: list(labels.classes) for name, labels in project_labels(project).items()
             if labels.is_classification and labels.classes}
    if names:
        lines.append("# Class names of the classification heads: a class id is its position.")
        lines.append(f"CLASS_NAMES = {lit(names)}")
    if project.loss_mode == "joint":
        lines.append("# Weight of each term the joint loss returns (missing terms weigh 1).")
        lines.append(f"TERM_WEIGHTS = {lit(dict(project.joint_loss.term_weights))}")
    lines += balancing_settings(project)
    lines += stopping_settings(project)
    return "\n".join(lines) + "\n"


def _callbacks(project: Project) -> list[str]:
    lines = ["    callbacks = [HeadLossLogger()]"]
    if uses_schedule(project):
        lines += [
            "    # Each epoch's loss weights, from the base weights and the schedules.",
            "    callbacks.append(LossWeightSchedule(BASE_WEIGHTS, HEAD_SCHEDULES, EPOCHS))",
        ]
    lines += stopping_callbacks(project)
    return lines


def _main(project: Project) -> str:
    lines = [
        "def main(out_dir):",
        '    """Load the data, build and compile the model, train it, write the results."""',
        "    out_dir.mkdir(parents=True, exist_ok=True)",
        "    x, y = load_data()",
    ]
    if project.training.mixed_precision:
        lines += [
            "    # Mixed precision: layers compute in float16, outputs stay float32.",
            '    keras.config.set_dtype_policy("mixed_float16")',
        ]
    lines += [
        "    # Seeds Python, NumPy and TensorFlow: initial weights and shuffling repeat.",
        "    keras.utils.set_random_seed(SEED)",
        "    y, weights = mask_missing(y, CLASSIFICATION_HEADS, ONE_HOT_HEADS)",
        "    y = prepare_targets(y)",
        "    # Heads that got a placeholder target weigh 1, like labelled rows.",
        "    weights = {name: weights.get(name, np.ones(len(y[name]), \"float32\")) for name in y}",
        "    x_train, x_val = split_arrays(x, VALIDATION_SPLIT, SEED)",
        "    y_train, y_val = split_arrays(y, VALIDATION_SPLIT, SEED)",
        "    w_train, w_val = split_arrays(weights, VALIDATION_SPLIT, SEED)",
        "    if needed_weights(weights) is None:  # no label missing: nothing to mask",
        "        w_train = w_val = None",
        "    validation = None if x_val is None else (x_val, y_val)",
        "    if validation is not None and w_val is not None:",
        "        validation = (x_val, y_val, w_val)",
        *_model_lines(project),
        *_callbacks(project),
        "    # y and the sample weights are dicts keyed by head name, like the outputs.",
        "    batches = epoch_batches(x_train, y_train, w_train, BATCH_SIZE, SEED, shuffle=SHUFFLE)",
        "    history = model.fit(",
        "        batches,  # a new order every epoch (fit(shuffle=True) repeats one when seeded)",
        "        validation_data=validation,",
        "        validation_batch_size=BATCH_SIZE,",
        "        epochs=EPOCHS,",
        "        callbacks=callbacks,",
        "        verbose=0,",
        "    )",
        *stopping_report(project),
        '    history_text = history_csv(history.history, LOSS_HEADS)',
        '    (out_dir / "history.csv").write_text(history_text, encoding="utf-8")',
        '    model.save(out_dir / "model.keras")',
        '    print(f"Wrote {out_dir / \'history.csv\'} and {out_dir / \'model.keras\'}")',
    ]
    return "\n".join(lines) + "\n"


def _model_lines(project: Project) -> list[str]:
    """Build, measure, compile and balance the model (on every device when there are more)."""
    lines = [
        "model = build_model()",
        *([
            "# Normalization layers: mean and variance of the training rows only.",
            "adapt_scaling(model, lambda: [(x_train, y_train, w_train)])",
        ] if uses_scaling(project) else []),
        "compile_model(model)",
    ]
    if (balancer := balancer_expression(project)) is not None:
        lines += ["# The balancer combines the heads' losses instead of a fixed weighted sum.",
                  f"model.balance_with({balancer})"]
    if project.training.devices <= 1:
        return [f"    {line}" for line in lines]
    return ["    # The model's variables live on every device; each batch is split between them.",
            "    with training_strategy(DEVICES).scope():",
            *(f"        {line}" for line in lines)]


# -- formatting ---------------------------------------------------------------------------------

def _ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def format_python(text: str) -> str:
    """``text`` formatted by ``ruff format`` when ruff is installed; unchanged otherwise."""
    command = _ruff_command()
    if command is None:
        return text
    try:
        done = subprocess.run(
            [*command, "format", "--isolated", f"--line-length={LINE_LENGTH}",
             "--stdin-filename=script.py", "-"],
            input=text, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return text
    return done.stdout if done.returncode == 0 and done.stdout else text
