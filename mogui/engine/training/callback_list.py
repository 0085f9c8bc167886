"""Keras' list of callbacks, without its per-batch conversion cost when logs are numbers.

Before each batch's callbacks, Keras converts every log value with a tensor check that costs
about 7 µs per value: 0.6 ms a batch at 40 heads (81 values), 1.5 ms at 100. The model's
step functions already hand over Python floats (see ``MultiHeadModel.unpack_logs``), so here
those pass as they are and only the other values take Keras' conversion.
"""

from __future__ import annotations

from typing import Any

import keras

from mogui.engine.plain_keras.head_trackers import as_number


def plain_logs(logs: dict[str, Any] | None) -> dict[str, Any]:
    """``logs`` as Keras' callbacks receive them: sorted by key, nested dicts flattened, each
    value a Python float where it converts to one (left as it is otherwise)."""
    plain: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            plain.update(plain_logs(value))
        else:
            plain[key] = value if type(value) is float else as_number(value)
    return plain


class FloatLogsCallbackList(keras.callbacks.CallbackList):
    """A :class:`keras.callbacks.CallbackList` whose batch hooks convert logs only when they
    are not floats already. Batch hooks run on the training thread, in order."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = plain_logs(logs)
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs=logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = plain_logs(logs)
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs=logs)
