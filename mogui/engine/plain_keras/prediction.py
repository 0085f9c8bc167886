"""A model's outputs as answers: class names for classification heads, values in the target's
units for regression heads, the names of the labels that apply for multi-label heads.

``heads`` describes each head as ``classes.json`` does: ``task``, ``units``, ``activation``
(a ``linear`` classification head outputs logits), ``classes`` (names; empty: class ids) and
``outputs`` (a name per output unit).
"""

import csv
import io

import numpy as np

#: A binary or multi-label output at or above this probability says "yes".
THRESHOLD = 0.5


def sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))


def softmax(values):
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def probabilities(output, info):
    """A classification head's outputs as probabilities (logits are squashed first)."""
    output = np.asarray(output, dtype=np.float64).reshape(len(output), -1)
    if info["activation"] != "linear":
        return output
    if info["task"] in ("multiclass", "multiclass_onehot"):
        return softmax(output)
    return sigmoid(output)


def predicted_class_ids(output, info):
    """The predicted class id of each row (binary: 1 at or above the threshold)."""
    probs = probabilities(output, info)
    if info["task"] == "binary":
        return (probs[:, 0] >= THRESHOLD).astype(np.int64)
    return probs.argmax(axis=-1)


def class_name(info, class_id):
    """A class id as its name (or as the id itself when the head has no names)."""
    names = info["classes"]
    return names[class_id] if 0 <= class_id < len(names) else str(class_id)


def output_columns(heads):
    """The column names of a predictions table: one per head (one per unit for regression
    heads of several units)."""
    columns = []
    for name, info in heads.items():
        columns += info["outputs"] if info["task"] == "regression" else [name]
    return columns


def decode_outputs(outputs, heads):
    """Rows of a predictions table for ``outputs`` (a dict of arrays keyed by head name):
    class names, values, or the labels that apply joined by ``;``."""
    columns = []
    for name, info in heads.items():
        output = np.asarray(outputs[name])
        output = output.reshape(len(output), -1)
        if info["task"] == "regression":
            columns += [[float(v) for v in output[:, i]] for i in range(output.shape[1])]
        elif info["task"] == "multilabel":
            yes = probabilities(output, info) >= THRESHOLD
            names = info["outputs"]
            columns.append(
                [";".join(n for n, on in zip(names, row, strict=True) if on) for row in yes]
            )
        else:
            columns.append([class_name(info, int(i)) for i in predicted_class_ids(output, info)])
    return [list(row) for row in zip(*columns, strict=True)]


def number_text(value):
    """A number as written to the table: the shortest text that reads back as the same
    value (``146.72449``, not ``146.7244873046875``, for a model's float32 output)."""
    single = np.float32(value)
    return str(single) if float(single) == value else repr(value)


def predictions_csv(columns, rows):
    """The predictions table as CSV text (numbers written exactly, see ``number_text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([number_text(cell) if isinstance(cell, float) else cell for cell in row])
    return buffer.getvalue()
