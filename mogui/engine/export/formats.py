"""Model files of an export: training and inference ``.keras``, SavedModel, ONNX."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mogui.core.errors import ExportError, MoguiError
from mogui.engine.export.onnx_file import write_onnx
from mogui.engine.model import outputs_by_head

#: Formats offered: ``keras`` (training and inference ``.keras``), ``savedmodel``, ``onnx``.
EXPORT_FORMATS: tuple[str, ...] = ("keras", "savedmodel", "onnx")
TRAINING_MODEL = "model.keras"
INFERENCE_MODEL = "model_inference.keras"
SAVED_MODEL = "saved_model"
ONNX_MODEL = "model.onnx"


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The requested formats, lower-cased and de-duplicated; ``ExportError`` for unknown ones."""
    chosen: list[str] = []
    for item in formats:
        name = item.strip().lower()
        if not name:
            continue
        if name not in EXPORT_FORMATS:
            raise ExportError(f"Unknown export format '{item}'. Choose from: "
                              f"{', '.join(EXPORT_FORMATS)}.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def onnx_missing() -> str | None:
    """Why ONNX export is unavailable (a missing package), or ``None`` when it works."""
    missing = [m for m in ("tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
    if missing and getattr(sys, "frozen", False):  # a bundle: nothing can be installed into it
        return (f"ONNX export is not part of this mogui bundle: it was built without "
                f"{' and '.join(missing)}. Export the keras or savedmodel format instead, or "
                "use a bundle built with ONNX export (mogui's packaging/build.sh includes it)")
    if missing:
        return (f"ONNX export needs the package(s) {', '.join(missing)}; install them with "
                "pip install -e '.[onnx]' in mogui's folder")
    return None


def inference_model(model: Any) -> Any:
    """A plain functional copy of ``model``: same layers and weights, no custom class or loss."""
    return keras.Model(inputs=model.input, outputs=outputs_by_head(model), name=model.name)


def _sample_batch(model: Any) -> dict[str, np.ndarray]:
    """One sample of zeros per input; an axis of any length (None) gets length 1."""
    return {t.name.split(":")[0]: np.zeros((1, *(d or 1 for d in t.shape[1:])), dtype=t.dtype)
            for t in model.inputs}


def write_models(model: Any, formats: tuple[str, ...], folder: Path) -> list[str]:
    files: list[str] = []
    plain = inference_model(model)
    plain.predict(_sample_batch(plain), verbose=0)  # ONNX export needs a model called once
    steps = {
        "keras": lambda: _save_keras(model, plain, folder, files),
        "savedmodel": lambda: _export(plain, folder / SAVED_MODEL, "tf_saved_model", files),
        "onnx": lambda: (write_onnx(plain, folder / ONNX_MODEL), files.append(ONNX_MODEL)),
    }
    for name in formats:
        try:
            steps[name]()
        except MoguiError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing converter becomes a plain message
            raise ExportError(f"Writing the {name} model failed: "
                              f"{' '.join(str(exc).split())[:300]}") from exc
    return files


def _save_keras(model: Any, plain: Any, folder: Path, files: list[str]) -> None:
    model.save(folder / TRAINING_MODEL)
    plain.save(folder / INFERENCE_MODEL)
    files += [TRAINING_MODEL, INFERENCE_MODEL]


def _export(plain: Any, path: Path, fmt: str, files: list[str]) -> None:
    plain.export(str(path), format=fmt, verbose=False)
    files.append(path.name)
