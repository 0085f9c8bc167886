"""Structural edits of a project's model, addressed by validation paths.

Every item of the model editor is identified by the path validation messages use:
``inputs[0]``, ``trunk[3]``, ``heads[1]`` and ``heads[1].layers[0]``. The functions here mutate
a project in place; the views call them inside :meth:`ProjectDocument.edit` so they are undoable.
This module imports no Qt, so it is tested without widgets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mogui.core.demo_targets import DEMO_QUANTITIES
from mogui.core.layers import default_params
from mogui.core.project import DemoShapesData, HeadLoss, HeadSpec, InputSpec, LayerSpec, Project
from mogui.core.tasks import Task

_PATH = re.compile(r"^(inputs|trunk|heads)\[(\d+)\](?:\.layers\[(\d+)\])?$")


@dataclass(frozen=True)
class ItemRef:
    """A parsed item path: ``section`` is ``input``, ``trunk``, ``head`` or ``head_layer``."""

    section: str
    index: int
    head: int | None = None

    @property
    def path(self) -> str:
        if self.section == "input":
            return f"inputs[{self.index}]"
        if self.section == "trunk":
            return f"trunk[{self.index}]"
        if self.section == "head":
            return f"heads[{self.index}]"
        return f"heads[{self.head}].layers[{self.index}]"


def parse_path(path: str) -> ItemRef | None:
    """``heads[1].layers[0]`` -> ``ItemRef("head_layer", 0, head=1)``; ``None`` if not an item."""
    match = _PATH.match(path or "")
    if match is None:
        return None
    section, index, layer = match.group(1), int(match.group(2)), match.group(3)
    if layer is not None:
        return ItemRef("head_layer", int(layer), head=index)
    return ItemRef({"inputs": "input", "trunk": "trunk", "heads": "head"}[section], index)


_ITEM_PREFIX = re.compile(r"^(inputs\[\d+\]|trunk\[\d+\]|heads\[\d+\](?:\.layers\[\d+\])?)")


def owning_item(problem_path: str) -> str | None:
    """The item a problem is about: ``trunk[2].params.units`` -> ``trunk[2]``."""
    match = _ITEM_PREFIX.match(problem_path)
    return match.group(1) if match else None


def _siblings(project: Project, ref: ItemRef) -> list:
    if ref.section == "input":
        return project.inputs
    if ref.section == "trunk":
        return project.trunk
    if ref.section == "head":
        return project.heads
    assert ref.head is not None
    return project.heads[ref.head].layers


def item_at(project: Project, path: str) -> InputSpec | LayerSpec | HeadSpec | None:
    """The input, layer or head at ``path``, or ``None`` when there is none."""
    ref = parse_path(path)
    if ref is None:
        return None
    if ref.head is not None and ref.head >= len(project.heads):
        return None
    items = _siblings(project, ref)
    return items[ref.index] if ref.index < len(items) else None


def item_paths(project: Project) -> dict[str, str]:
    """Map every item name (inputs, layers, head outputs) to its path."""
    paths: dict[str, str] = {}
    for i, inp in enumerate(project.inputs):
        paths.setdefault(inp.name, f"inputs[{i}]")
    for i, layer in enumerate(project.trunk):
        paths.setdefault(layer.name, f"trunk[{i}]")
    for h, head in enumerate(project.heads):
        paths.setdefault(head.name, f"heads[{h}]")
        for i, layer in enumerate(head.layers):
            paths.setdefault(layer.name, f"heads[{h}].layers[{i}]")
    return paths


def all_names(project: Project) -> set[str]:
    return set(item_paths(project))


def unique_name(project: Project, base: str) -> str:
    """``base`` made a valid identifier not used by any item (``dense``, ``dense_2`` …)."""
    base = re.sub(r"\W", "_", base.strip().lower()) or "layer"
    if base[0].isdigit():
        base = f"_{base}"
    names = all_names(project)
    if base not in names:
        return base
    n = 2
    while f"{base}_{n}" in names:
        n += 1
    return f"{base}_{n}"


def add_input(project: Project, name: str, shape: list[int]) -> str:
    """Append an input. The first trunk layer, which took the only input without naming it,
    names it now, so that it keeps its input when there are two."""
    if len(project.inputs) == 1 and project.trunk and not project.trunk[0].inputs:
        project.trunk[0].inputs = [project.inputs[0].name]
    project.inputs.append(InputSpec(name=name, shape=shape))
    return f"inputs[{len(project.inputs) - 1}]"


def add_trunk_layer(project: Project, kind: str, name: str, after: int | None = None) -> str:
    """Insert a layer of ``kind`` after trunk index ``after`` (at the end when ``None``)."""
    index = len(project.trunk) if after is None else after + 1
    project.trunk.insert(index, LayerSpec(name=name, kind=kind, params=default_params(kind)))
    return f"trunk[{index}]"


def add_head(project: Project, name: str, task: Task | str, units: int,
             demo_target: str | None = None) -> str:
    """Append a head; on demo data, ``demo_target`` names the quantity it trains on."""
    project.heads.append(HeadSpec(name=name, task=Task(task), units=units, loss=HeadLoss()))
    if demo_target is not None and isinstance(project.data, DemoShapesData):
        set_demo_target(project, name, demo_target)
    return f"heads[{len(project.heads) - 1}]"


def set_demo_target(project: Project, head_name: str, quantity: str | None) -> None:
    """Make head ``head_name`` train on demo ``quantity`` (``None``: on the one of its name)."""
    targets = project.data.targets
    if quantity is None or quantity == head_name:
        targets.pop(head_name, None)
    else:
        targets[head_name] = quantity


def add_head_layer(project: Project, head: int, kind: str, name: str,
                   after: int | None = None) -> str:
    layers = project.heads[head].layers
    index = len(layers) if after is None else after + 1
    layers.insert(index, LayerSpec(name=name, kind=kind, params=default_params(kind)))
    return f"heads[{head}].layers[{index}]"


def remove_item(project: Project, path: str) -> None:
    ref = parse_path(path)
    if ref is None or item_at(project, path) is None:
        raise KeyError(f"nothing at {path!r}")
    removed = _siblings(project, ref).pop(ref.index)
    if ref.section == "head":
        project.joint_loss.term_weights.pop(removed.name, None)
        if isinstance(project.data, DemoShapesData):
            project.data.targets.pop(removed.name, None)


def move_item(project: Project, path: str, offset: int) -> str:
    """Move the item ``offset`` places within its list; return its new path."""
    ref = parse_path(path)
    if ref is None or item_at(project, path) is None:
        raise KeyError(f"nothing at {path!r}")
    items = _siblings(project, ref)
    target = max(0, min(len(items) - 1, ref.index + offset))
    items.insert(target, items.pop(ref.index))
    return ItemRef(ref.section, target, ref.head).path


def rename_item(project: Project, path: str, new_name: str) -> None:
    """Rename an item and every reference to it (layer inputs, head sources, joint weights)."""
    item = item_at(project, path)
    if item is None:
        raise KeyError(f"nothing at {path!r}")
    old = item.name
    item.name = new_name
    layers = [*project.trunk, *(layer for head in project.heads for layer in head.layers)]
    for layer in layers:
        layer.inputs = [new_name if ref == old else ref for ref in layer.inputs]
    for head in project.heads:
        if head.source == old:
            head.source = new_name
    weights = project.joint_loss.term_weights
    if isinstance(item, HeadSpec) and old in weights:
        weights[new_name] = weights.pop(old)
    if isinstance(item, HeadSpec) and isinstance(project.data, DemoShapesData):
        quantity = project.data.targets.pop(old, old)
        set_demo_target(project, new_name, quantity if quantity in DEMO_QUANTITIES else None)


@dataclass(frozen=True)
class GraphNode:
    """One box of the model graph and the names of the boxes feeding it."""

    path: str
    name: str
    kind: str
    section: str  # input | trunk | head_layer | head
    head: int | None
    inputs: tuple[str, ...]


def graph_nodes(project: Project) -> list[GraphNode]:
    """The model's data flow as boxes: inputs, trunk layers, head layers and head outputs."""
    nodes = [GraphNode(f"inputs[{i}]", inp.name, "Input", "input", None, ())
             for i, inp in enumerate(project.inputs)]
    previous = project.inputs[0].name if len(project.inputs) == 1 else None
    for i, layer in enumerate(project.trunk):
        feeds = tuple(layer.inputs) or ((previous,) if previous else ())
        nodes.append(GraphNode(f"trunk[{i}]", layer.name, layer.kind, "trunk", None, feeds))
        previous = layer.name
    trunk_out = previous
    for h, head in enumerate(project.heads):
        previous = head.source or trunk_out
        for i, layer in enumerate(head.layers):
            feeds = tuple(layer.inputs) or ((previous,) if previous else ())
            nodes.append(GraphNode(f"heads[{h}].layers[{i}]", layer.name, layer.kind,
                                   "head_layer", h, feeds))
            previous = layer.name
        nodes.append(GraphNode(f"heads[{h}]", head.name, f"Dense · {head.task.value}", "head",
                               h, (previous,) if previous else ()))
    return nodes
