"""The model: a project's layer graph built as functional Keras, and its shape table.

The public face: :func:`build_model`, :func:`inspect_project` (every layer's output shape and
parameter count, cheap enough for every edit), :func:`outputs_by_head` and
:func:`format_shape`.
"""

from mogui.engine.model.build import (
    GraphStep,
    build_graph,
    build_model,
    keras_layer,
    model_name,
    outputs_by_head,
    plan_graph,
)
from mogui.engine.model.shape_errors import format_shape
from mogui.engine.model.shapes import Inspection, ShapeRow, inspect_project

__all__ = [
    "GraphStep",
    "Inspection",
    "ShapeRow",
    "build_graph",
    "build_model",
    "format_shape",
    "inspect_project",
    "keras_layer",
    "model_name",
    "outputs_by_head",
    "plan_graph",
]
