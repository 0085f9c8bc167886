"""``history.csv``: one row per epoch, the total and per-head losses first."""

import csv
import io


def history_columns(history, heads):
    """``loss``, ``<head>_loss``…, ``val_loss``, ``val_<head>_loss``…, then the other keys."""
    train = ["loss", *(f"{head}_loss" for head in heads)]
    ordered = [key for key in [*train, *(f"val_{key}" for key in train)] if key in history]
    rest = [key for key in history if key not in ordered]
    rest.sort(key=lambda key: key.startswith("val_"))
    return ordered + rest


def history_csv(history, heads):
    """The history as CSV text; a column shorter than the others leaves its last cells empty."""
    columns = history_columns(history, heads)
    rows = max((len(history[column]) for column in columns), default=0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *columns])
    for i in range(rows):
        cells = [repr(float(history[c][i])) if i < len(history[c]) else "" for c in columns]
        writer.writerow([i + 1, *cells])
    return buffer.getvalue()
