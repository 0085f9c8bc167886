"""A trained model file loaded back, for predictions and evaluation.

Loading a mogui training model (``model.keras`` of a run) rebuilds its model class, and a
joint-loss model recompiles its loss code: :func:`load_trained_model` checks that code for
trust before Keras reads the file, and raises plain errors for missing or broken files.
:func:`inference_copy` gives the plain functional model whose ``predict`` returns a dict keyed
by head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from mogui.core.errors import ModelFileError
from mogui.core.project_code import keras_file_code
from mogui.core.trust import TrustStore, is_trusted, untrusted_error
from mogui.engine.losses import CustomLoss, HeadLossModel, JointLossModel
from mogui.engine.model import outputs_by_head

#: The classes a training ``.keras`` of mogui's may hold.
MOGUI_CLASSES: dict[str, Any] = {"mogui>CustomLoss": CustomLoss,
                                 "mogui>JointLossModel": JointLossModel,
                                 "mogui>HeadLossModel": HeadLossModel}


def load_trained_model(path: str | Path) -> keras.Model:
    """The model in ``path`` (without its optimizer and losses). Raises
    :class:`~mogui.core.errors.UntrustedCodeError` when the file holds loss code the user has
    not trusted (nothing is loaded then) and :class:`ModelFileError` for a file that is not a
    loadable model."""
    path = Path(path)
    items = keras_file_code(path)  # ModelFileError when missing or not a .keras archive
    store = TrustStore.load()
    untrusted = [item for item in items if not is_trusted(item.source, store)]
    if untrusted:
        raise untrusted_error(untrusted, where=f"the model file '{path}'", target=str(path))
    try:
        return keras.saving.load_model(path, custom_objects=MOGUI_CLASSES, compile=False)
    except Exception as exc:  # noqa: BLE001 - any load failure is a plain message
        reason = " ".join(str(exc).split())
        reason = reason[:200] + "…" if len(reason) > 200 else reason
        raise ModelFileError(f"The model file '{path}' cannot be loaded ({reason}). Train "
                             "again and use the new run.") from None


def inference_copy(model: keras.Model) -> keras.Model:
    """A plain functional model with the same layers and weights: ``predict`` returns a dict
    keyed by head name, in the targets' units."""
    return keras.Model(inputs=model.input, outputs=outputs_by_head(model), name=model.name)
