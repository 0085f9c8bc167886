"""A run's ``history.csv`` read back: one list of values per logged key; no Qt, no keras.

The file has an ``epoch`` column, then one per key (:mod:`mogui.engine.plain_keras.history`
writes it); a column shorter than the others leaves its last cells empty. Which key holds each
head's loss follows Keras: ``<head>_loss`` when more than one loss trains, else ``loss``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from mogui.core.runs import HISTORY_FILE


def read_history(folder: Path) -> dict[str, list[float]]:
    """The history of the run in ``folder`` by key; ``{}`` when it has none or it cannot be
    read. A key's values end at its first empty or unreadable cell."""
    try:
        with open(Path(folder) / HISTORY_FILE, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    if not rows or not rows[0] or rows[0][0] != "epoch":
        return {}
    history: dict[str, list[float]] = {key: [] for key in rows[0][1:]}
    ended: set[str] = set()
    for row in rows[1:]:
        for key, cell in zip(rows[0][1:], row[1:], strict=False):
            if key in ended:
                continue
            try:
                history[key].append(float(cell))
            except ValueError:
                ended.add(key)
    return history


def head_loss_keys(heads: list[str], history: dict[str, list[float]],
                   validation: bool = True) -> dict[str, str]:
    """Head -> the key of its loss in ``history`` (validation or training); heads whose loss
    was not logged are left out. One head trained alone has its loss as ``loss``."""
    prefix = "val_" if validation else ""
    keys = {head: f"{prefix}{head}_loss" for head in heads if f"{prefix}{head}_loss" in history}
    if not keys and len(heads) == 1 and f"{prefix}loss" in history:
        keys = {heads[0]: f"{prefix}loss"}
    return keys

