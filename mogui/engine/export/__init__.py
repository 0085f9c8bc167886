"""Export: model files, the standalone training script, history, plots and a README.

The public face: :func:`export_project` writes an export folder atomically;
:func:`generate_script` renders the script alone; :func:`tracked_training` logs a run to
MLflow and TensorBoard with those files as its artifacts.
"""

from mogui.engine.export.bundle import ExportResult, export_project
from mogui.engine.export.codegen import generate_script, script_name
from mogui.engine.export.formats import (
    EXPORT_FORMATS,
    ExportError,
    check_formats,
    inference_model,
    onnx_missing,
)
from mogui.engine.export.out_folder import MARKER
from mogui.engine.export.readme import readme_text
from mogui.engine.export.tracking import tracked_training

__all__ = [
    "EXPORT_FORMATS",
    "MARKER",
    "ExportError",
    "ExportResult",
    "check_formats",
    "export_project",
    "generate_script",
    "inference_model",
    "onnx_missing",
    "readme_text",
    "script_name",
    "tracked_training",
]
