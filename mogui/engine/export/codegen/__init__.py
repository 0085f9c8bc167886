"""The project rendered as one standalone training script (keras, tensorflow, numpy only).

Code the script shares with the engine is copied from :mod:`mogui.engine.plain_keras` as
written there (:mod:`.shared`); the rest is rendered from the project.
"""

from mogui.engine.export.codegen.data import EXPORTED_DATA, resolve_npz_path
from mogui.engine.export.codegen.script import format_python, generate_script, script_name

__all__ = ["EXPORTED_DATA", "format_python", "generate_script", "resolve_npz_path",
           "script_name"]
