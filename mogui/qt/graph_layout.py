"""Where the model graph's boxes stand.

Inputs and trunk layers stand in levels (a box one level below the lowest box feeding it) and
in columns: a box keeps the column it had before the last edit, else takes the column of the
box feeding it, else the nearest free one, so an edit moves only the boxes it is about (and
those below an inserted layer, one level down). Heads stand in a grid below the trunk, as many
per row as let the whole model fit the view best (:func:`heads_per_row`), so every head is
reachable without scrolling sideways.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QPointF

from mogui.qt.model_edits import GraphNode

BOX_W, BOX_H = 180.0, 54.0
GAP_X, GAP_Y = 30.0, 26.0
PITCH_X, PITCH_Y = BOX_W + GAP_X, BOX_H + GAP_Y
MARGIN = 20.0
SINGLE_ROW_UP_TO = 6  # this many heads or fewer always stand in one row
MIN_FIT = 0.35  # fitting never shrinks text below this; what does not fit then scrolls down


@dataclass(frozen=True)
class HeadGrid:
    """How the heads stand: ``per_row`` head columns a row, ``depth`` boxes the deepest."""

    heads: int
    per_row: int
    depth: int
    top_levels: int  # levels of inputs and trunk above the heads

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.heads / max(1, self.per_row)))

    def size(self, trunk_width: int) -> tuple[float, float]:
        """Width and height of the drawing, margins included."""
        width = max(min(self.heads, self.per_row), trunk_width, 1) * PITCH_X - GAP_X
        height = self.top_levels * PITCH_Y + self.rows * (self.depth * PITCH_Y + GAP_Y)
        return width + 2 * MARGIN, height + 2 * MARGIN


def heads_per_row(heads: int, depth: int, top_levels: int, trunk_width: int,
                  viewport: tuple[float, float]) -> int:
    """How many heads a row holds so that the whole model fits ``viewport`` largest.

    Up to :data:`SINGLE_ROW_UP_TO` heads stand in one row. Otherwise the count that gives
    the largest zoom-to-fit scale wins (the wider row on a tie); when even that is below
    :data:`MIN_FIT`, rows as wide as fit the viewport's width at that scale (the rest of the
    model is then reached by scrolling down, never sideways).
    """
    if heads <= SINGLE_ROW_UP_TO:
        return max(heads, 1)
    width, height = viewport
    best, best_scale = heads, -1.0
    for per_row in range(heads, 0, -1):
        w, h = HeadGrid(heads, per_row, depth, top_levels).size(trunk_width)
        scale = min(width / w, height / h, 1.0)
        if scale > best_scale + 1e-9:
            best, best_scale = per_row, scale
    if best_scale >= MIN_FIT:
        return best
    for per_row in range(heads, 0, -1):
        w, _h = HeadGrid(heads, per_row, depth, top_levels).size(trunk_width)
        if width / w >= MIN_FIT:
            return per_row
    return 1


def levels_of(nodes: list[GraphNode]) -> dict[str, int]:
    """Each box's level: one below the lowest box feeding it (inputs: 0)."""
    level: dict[str, int] = {}
    for node in nodes:
        level[node.name] = 1 + max((level.get(n, 0) for n in node.inputs), default=-1)
    return level


def _free_column(used: set[int], wanted: int) -> int:
    """``wanted`` when free, else the nearest free column (to the right on a tie)."""
    for step in range(len(used) + 1):
        for column in (wanted + step, wanted - step):
            if column not in used:
                return column
    return wanted + len(used) + 1


def trunk_columns(nodes: list[GraphNode], level: Mapping[str, int],
                  before: Mapping[str, int]) -> dict[str, int]:
    """A column per input and trunk box: the one it had ``before``, else its feeder's."""
    upper = [node for node in nodes if node.head is None]
    by_level: dict[int, list[GraphNode]] = {}
    for node in upper:
        by_level.setdefault(level[node.name], []).append(node)
    columns: dict[str, int] = {}
    for lvl in sorted(by_level):
        used: set[int] = set()
        members = by_level[lvl]
        kept = sorted((n for n in members if n.name in before), key=lambda n: before[n.name])
        fresh = [n for n in members if n.name not in before]
        for node in kept:
            columns[node.name] = _free_column(used, before[node.name])
            used.add(columns[node.name])
        for index, node in enumerate(fresh):
            feeder = next((columns[n] for n in node.inputs if n in columns), None)
            wanted = feeder if feeder is not None else index
            columns[node.name] = _free_column(used, wanted)
            used.add(columns[node.name])
    return columns


@dataclass
class Layout:
    """Top-left corners of the boxes by path, the head grid and the trunk's columns."""

    positions: dict[str, QPointF]
    grid: HeadGrid
    columns: dict[str, int]


def layout_nodes(nodes: list[GraphNode], viewport: tuple[float, float],
                 before: Mapping[str, int] | None = None, per_row: int | None = None
                 ) -> Layout:
    """Lay the boxes out; ``before`` (name -> column) keeps boxes where they were, and
    ``per_row`` keeps the heads' rows as they were (else they are fitted to ``viewport``)."""
    level = levels_of(nodes)
    columns = trunk_columns(nodes, level, before or {})
    heads: dict[int, list[GraphNode]] = {}
    for node in nodes:
        if node.head is not None:
            heads.setdefault(node.head, []).append(node)
    positions: dict[str, QPointF] = {}
    upper = [node for node in nodes if node.head is None]
    for node in upper:
        positions[node.path] = QPointF(columns[node.name] * PITCH_X, level[node.name] * PITCH_Y)
    top_levels = 1 + max((level[node.name] for node in upper), default=-1)
    used = set(columns.values()) or {0}
    trunk_width = max(used) - min(used) + 1
    depth = max((len(column) for column in heads.values()), default=1)
    if per_row is None or per_row < 1:
        per_row = heads_per_row(len(heads), depth, top_levels, trunk_width, viewport)
    grid = HeadGrid(len(heads), per_row, depth, top_levels)
    in_row = min(len(heads), per_row)
    # Under the box feeding the first head: it stays put when the trunk grows sideways.
    first = heads[min(heads)][0] if heads else None
    feeder = next((n for n in (first.inputs if first else ()) if n in columns), None)
    centre = columns[feeder] * PITCH_X if feeder is not None else 0.0
    for order, head in enumerate(sorted(heads)):
        row, column = divmod(order, per_row)
        x = centre + (column - (in_row - 1) / 2) * PITCH_X
        top = top_levels * PITCH_Y + row * (depth * PITCH_Y + GAP_Y)
        for i, node in enumerate(heads[head]):
            positions[node.path] = QPointF(x, top + i * PITCH_Y)
    return Layout(positions, grid, columns)
