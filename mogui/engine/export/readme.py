"""README.txt of an export folder: what each file is and how to load it."""

from __future__ import annotations

from mogui.core.project import Project
from mogui.engine.data import project_labels
from mogui.engine.export.codegen import EXPORTED_DATA
from mogui.engine.export.formats import (
    INFERENCE_MODEL,
    ONNX_MODEL,
    SAVED_MODEL,
    TRAINING_MODEL,
)

HISTORY = "history.csv"
PROJECT_COPY = "project.json"
README = "README.txt"
_DESCRIPTIONS = {
    HISTORY: "loss, each head's loss (unweighted), its weight (weight_<head>) and metrics "
             "per epoch; val_ = validation",
    "loss.png": "the loss curves (total and per head; dashed = validation)",
    "loss.svg": "the same plot as a vector image",
    PROJECT_COPY: "the mogui project that was trained (open it in mogui)",
    EXPORTED_DATA: "the training arrays mogui read (CSV or image folder), for the script",
    TRAINING_MODEL: "the trained model with its optimizer and losses, to resume training",
    INFERENCE_MODEL: "a plain Keras model for predictions; loads without mogui",
    "predict.py": "predictions with names: python predict.py DATA PREDICTIONS.csv writes one "
                  "column per head (class names, values in the targets' units)",
    "classes.json": "what each input and output means: class names (a name's position is its "
                    "class id), label and column names, the input columns",
    SAVED_MODEL: "TensorFlow SavedModel (TF Serving, TFLite converter)",
    ONNX_MODEL: "ONNX model (onnxruntime and other ONNX tools)",
}

_HOW_TO_LOAD = {
    TRAINING_MODEL: ("import keras, mogui.engine.losses  # registers mogui's loss classes\n"
                     "  model = keras.saving.load_model('model.keras')  # needs mogui; custom\n"
                     "  # loss code in it runs only once trusted: mogui trust model.keras\n"
                     "  model.fit(x, y, epochs=...)  # x and y dicts keyed by input/head name"),
    INFERENCE_MODEL: ("import keras\n"
                      "  model = keras.saving.load_model('model_inference.keras')\n"
                      "  predictions = model.predict(x)  # dict keyed by head name"),
    SAVED_MODEL: ("import tensorflow as tf\n"
                  "  served = tf.saved_model.load('saved_model')\n"
                  "  predictions = served.serve(x)"),
    ONNX_MODEL: ("import onnxruntime\n"
                 "  session = onnxruntime.InferenceSession('model.onnx')\n"
                 "  outputs = session.run(None, {input_name: array, ...})  # one per head"),
}


def readme_text(project: Project, files: list[str], script: str) -> str:
    """README.txt: what each head outputs (class names), what each exported file is and how to
    load it."""
    heads = ", ".join(project.head_names)
    lines = [
        f"mogui export of \"{project.name}\"",
        "",
        f"Inputs: {', '.join(project.input_names)}. Heads (outputs): {heads}.",
        f"Loss mode: {project.loss_mode.replace('_', '-')}. Inputs, targets and predictions are "
        "dicts keyed by input or head name.",
        "",
        "What each head outputs (class id and name; regression values in the target's units)",
        *(f"  {labels.describe()}" for labels in project_labels(project).values()),
        "",
        "Files",
        f"  {script}:",
        "    standalone training script (keras, tensorflow, numpy only). It builds the same",
        "    model, losses, data and seeds and trains it again:",
        f"    python {script} [OUTPUT_FOLDER]   (default: rerun/ beside it)",
    ]
    for name in files:
        if name in _DESCRIPTIONS:
            lines.append(f"  {name}: {_DESCRIPTIONS[name]}")
    loaders = [name for name in files if name in _HOW_TO_LOAD]
    if loaders:
        lines += ["", "Loading the models"]
        for name in loaders:
            lines += [f"  {name}:", f"  {_HOW_TO_LOAD[name]}", ""]
    return "\n".join(lines).rstrip() + "\n"
