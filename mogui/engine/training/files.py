"""A run's files: ``history.csv`` and ``.keras`` models, written atomically."""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import keras

from mogui.core.io import atomic_write_text, current_umask
from mogui.engine.plain_keras.history import history_columns, history_csv
from mogui.engine.training.complete_epochs import CompleteEpochs

__all__ = ["EpochFiles", "history_columns", "read_history_csv", "save_model_atomic",
           "write_history_csv"]


def write_history_csv(history: dict[str, list[float]], path: Path,
                      heads: Iterable[str]) -> None:
    """Write the history as CSV, one row per epoch (atomic: readers never see half a file)."""
    atomic_write_text(path, history_csv(history, list(heads)))


def read_history_csv(path: Path) -> dict[str, list[float]]:
    """The per-epoch history of a ``history.csv`` (column ``epoch`` dropped)."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return {}
    keys = [k for k in rows[0] if k != "epoch"]
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in keys}


def save_model_atomic(model: keras.Model, path: Path) -> None:
    """Save a ``.keras`` file via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # as any new file, not the temporary's 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: The model file is rewritten after an epoch only when the time since the last save is at
#: least this many times what that save took: saving costs training at most 1/20 (5 %).
SAVE_SPACING = 20.0


class EpochFiles(keras.callbacks.Callback):
    """Keeps a run folder current while training: ``history.csv`` after every epoch,
    ``model.keras`` after the first epoch and then as often as :data:`SAVE_SPACING` allows.

    A run that ends abruptly (its process killed) then keeps its completed epochs on disk.
    """

    def __init__(self, folder: Path, heads: Iterable[str], *,
                 complete: CompleteEpochs | None = None) -> None:
        super().__init__()
        self.complete = complete
        self.folder = Path(folder)
        self.heads = list(heads)
        self.history: dict[str, list[float]] = {}
        self.saves = 0
        self._saved_at = 0.0
        self._save_cost = 0.0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.complete is not None and self.complete.cut_short(epoch):
            return
        for key, value in (logs or {}).items():
            self.history.setdefault(str(key), []).append(float(value))
        self.folder.mkdir(parents=True, exist_ok=True)
        write_history_csv(self.history, self.folder / "history.csv", self.heads)
        now = time.perf_counter()
        if self.saves == 0 or now - self._saved_at >= SAVE_SPACING * self._save_cost:
            save_model_atomic(self.model, self.folder / "model.keras")
            self._saved_at = time.perf_counter()
            self._save_cost = self._saved_at - now
            self.saves += 1
