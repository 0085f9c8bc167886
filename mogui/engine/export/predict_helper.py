"""``predict.py`` and ``classes.json`` of an export: predictions with names, without mogui.

``classes.json`` says what the inference model's inputs and outputs mean (see
:func:`mogui.core.labels.labels_info`); ``predict.py`` reads a data file the way mogui does,
runs ``model_inference.keras`` and writes one CSV column per head: class names for
classification heads, values in the target's units for regression heads. Its table reading,
image decoding and output decoding are mogui's own (:mod:`mogui.engine.plain_keras`), copied
as written, so ``mogui predict`` and the helper give the same table.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from mogui.core.io import atomic_write_text
from mogui.core.labels import labels_info
from mogui.core.project import Project
from mogui.engine.data import project_labels
from mogui.engine.export.codegen import format_python
from mogui.engine.export.codegen.data import TABLE_DEFINITIONS
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.plain_keras import images, prediction, table_columns

PREDICT_SCRIPT = "predict.py"
LABELS_FILE = "classes.json"

#: The output decoding definitions the helper copies.
PREDICTION_DEFINITIONS = ("THRESHOLD", "sigmoid", "softmax", "probabilities",
                          "predicted_class_ids", "class_name", "output_columns",
                          "decode_outputs", "number_text", "predictions_csv")

_HEADER = '''"""Predict with model_inference.keras: one CSV column per head.

Exported from mogui ({project}). Needs keras, tensorflow and numpy; classes.json beside this
file says what each input and output means. Classification heads give class names,
regression heads values in the target's units, multi-label heads the labels that apply
(joined by ";").

    python predict.py DATA PREDICTIONS.csv

DATA: {data}
"""

import csv
import io
import json
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

HERE = Path(__file__).parent
'''

_MAIN = '''
def load_images(folder, info):
    """Every image of ``folder`` (sorted by name), decoded as mogui decodes them."""
    data = info["data"]
    spec = info["inputs"][data["input"]]
    suffixes = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
    files = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in suffixes)
    decoded = [
        decode_image(tf.io.read_file(str(folder / name)), spec["shape"], data["resize"],
                     data["scale"]).numpy()
        for name in files
    ]
    return {data["input"]: np.stack(decoded)}, files


def load_inputs(path, info):
    """The model's inputs from a folder of images, an .npz file or a CSV table, and the
    image file names (None for tables and arrays)."""
    if path.is_dir():
        return load_images(path, info)
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name].astype(spec["dtype"])
                    for name, spec in info["inputs"].items()}, None
    header, rows = read_table(path, info["data"].get("delimiter", ","))
    columns = {name: (spec["columns"], spec["classes"], spec["shape"])
               for name, spec in info["inputs"].items()}
    x, _ = table_arrays(header, rows, columns, {})
    return {name: x[name].astype(info["inputs"][name]["dtype"]) for name in x}, None


def main(data_path, out_path):
    info = json.loads((HERE / "classes.json").read_text(encoding="utf-8"))
    model = keras.saving.load_model(HERE / "model_inference.keras")
    x, files = load_inputs(Path(data_path), info)
    outputs = model.predict(x, verbose=0)
    columns = output_columns(info["heads"])
    rows = decode_outputs(outputs, info["heads"])
    if files is not None:
        columns = ["file", *columns]
        rows = [[name, *row] for name, row in zip(files, rows, strict=True)]
    Path(out_path).write_text(predictions_csv(columns, rows), encoding="utf-8")
    print(f"Wrote {len(rows)} predictions ({', '.join(columns)}) to {out_path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python predict.py DATA PREDICTIONS.csv")
    main(sys.argv[1], sys.argv[2])
'''


def _data_text(project: Project) -> str:
    kind = project.data.kind
    if kind == "csv":
        columns = [c for m in getattr(project.data, "inputs", []) for c in m.columns]
        shown = ", ".join(columns[:12]) + (", …" if len(columns) > 12 else "")
        return f"a CSV table with the columns {shown} (other columns are ignored)."
    if kind == "image_folder":
        return "a folder of images (PNG, JPEG, GIF or BMP)."
    names = ", ".join(project.input_names)
    return f"an .npz file with an array per input: {names}."


def predict_script(project: Project) -> str:
    """The text of ``predict.py`` for ``project``'s export."""
    data = textwrap.fill(_data_text(project), width=92, subsequent_indent="    ")
    parts = [
        _HEADER.format(project=project.name.replace('"""', "'''"), data=data),
        definitions(table_columns, *TABLE_DEFINITIONS),
        definitions(images, "decode_pixels", "scale_pixels", "decode_image"),
        definitions(prediction, *PREDICTION_DEFINITIONS),
        _MAIN,
    ]
    text = "\n\n".join(part.strip("\n") + "\n" for part in parts)
    return format_python(text)


def write_predict_helper(project: Project, folder: Path) -> list[str]:
    """Write ``classes.json`` and ``predict.py`` into ``folder``; returns their names."""
    info = labels_info(project, project_labels(project))
    atomic_write_text(folder / LABELS_FILE, json.dumps(info, indent=2) + "\n")
    atomic_write_text(folder / PREDICT_SCRIPT, predict_script(project))
    return [LABELS_FILE, PREDICT_SCRIPT]
