"""Shape inspector: every input and layer with its output shape and parameter count.

Built from the same incremental graph as :func:`mogui.engine.model.build_model` (no compile, no
data), so it is cheap enough to run on every edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mogui.core.errors import BuildError
from mogui.core.project import Project
from mogui.core.sizes import size_problems
from mogui.engine.model.build import GraphStep, StepCache, build_graph
from mogui.engine.model.shape_errors import format_shape

__all__ = ["Inspection", "ShapeRow", "format_shape", "inspect_project"]


@dataclass
class ShapeRow:
    """One line of the shape table; ``output_shape`` is ``None`` once the build has failed."""

    name: str
    kind: str
    section: str  # "input" | "trunk" | "head"
    head: str | None
    output_shape: tuple[int | None, ...] | None
    param_count: int
    inputs: tuple[str, ...]
    error: str | None = None


@dataclass
class Inspection:
    """Rows in build order (inputs, trunk, then each head's layers and output layer)."""

    rows: list[ShapeRow]
    error: BuildError | None
    total_params: int

    @property
    def ok(self) -> bool:
        return self.error is None

    def row(self, name: str) -> ShapeRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row named {name!r}")


def _row(step: GraphStep) -> ShapeRow:
    return ShapeRow(
        name=step.name, kind=step.kind, section=step.section, head=step.head,
        output_shape=step.output_shape, param_count=step.param_count, inputs=step.inputs,
        error=str(step.error) if step.error is not None else None,
    )


#: Steps inspected before: an edit rebuilds only the layers whose inputs or settings changed.
SHAPE_CACHE = StepCache()


def inspect_project(project: Project, cache: StepCache | None = SHAPE_CACHE) -> Inspection:
    """Shapes and parameter counts of every step; graph problems land in ``Inspection.error``.

    Steps already inspected with the same settings and input shapes come from ``cache``
    (``None``: build every step).

    A model over the size limits (:mod:`mogui.core.sizes`) is not built at all: allocating its
    weights would exhaust the memory of the process that inspects it.
    """
    too_big = size_problems(project)
    if too_big:
        path, message = too_big[0]
        return Inspection([], BuildError(f"Not built: {path} {message}.", _layer_at(project, path)),
                          0)
    graph = build_graph(project, cache)
    rows = [_row(step) for step in graph.steps]
    return Inspection(rows, graph.error, sum(r.param_count for r in rows))


def _layer_at(project: Project, path: str) -> str | None:
    """The name of the layer or head a field path such as ``heads[1].layers[0].params.units``
    points at."""
    match = re.match(r"(trunk|heads)\[(\d+)\](?:\.layers\[(\d+)\])?", path)
    if match is None:
        return None
    section, index, layer = match.group(1), int(match.group(2)), match.group(3)
    if section == "trunk":
        return project.trunk[index].name
    head = project.heads[index]
    return head.layers[int(layer)].name if layer is not None else head.name
