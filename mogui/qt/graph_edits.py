"""Edits made on the graph canvas: insert on an arrow, insert after, branch, connect, remove.

They work on the data flow (which box feeds which), not on list positions. Each one notes
what feeds every box, changes the lists, then writes the feeds back (:func:`write_feeds`), so
that only the connections the edit is about change: a layer that took the one listed before it
by default gets an explicit input when a layer is put between them, and a head that took the
trunk's last layer names it as its source when the trunk grows a branch at its end. An edit
that cannot keep that promise, or makes no sense, raises :class:`EditRefused` with a sentence
for the user; inside :meth:`ProjectDocument.edit` the project then stays as it was.
This module imports no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mogui.core.layers import LAYER_KINDS, default_params
from mogui.core.project import LayerSpec, Project
from mogui.qt.model_edits import (
    ItemRef,
    graph_nodes,
    item_paths,
    parse_path,
    remove_item,
    unique_name,
)

Feeds = dict[str, tuple[str, ...]]
Shape = tuple[int | None, ...]


class EditRefused(ValueError):
    """An edit the canvas does not make; ``str()`` says why, in the user's terms."""


def feeds_of(project: Project) -> Feeds:
    """Every box's name -> the names of the boxes feeding it, in order (inputs: none)."""
    return {node.name: node.inputs for node in graph_nodes(project)}


def consumers(feeds: Mapping[str, tuple[str, ...]], name: str) -> list[str]:
    """The boxes ``name`` feeds."""
    return [other for other, sources in feeds.items() if name in sources]


def ancestors(feeds: Mapping[str, tuple[str, ...]], name: str) -> set[str]:
    """Every box ``name`` depends on, directly or not."""
    seen: set[str] = set()
    stack = list(feeds.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(feeds.get(current, ()))
    return seen


def trunk_output(project: Project) -> str | None:
    """What a head without a source takes: the trunk's last layer, or the only input."""
    if project.trunk:
        return project.trunk[-1].name
    return project.inputs[0].name if len(project.inputs) == 1 else None


def _ref(project: Project, name: str) -> ItemRef:
    path = item_paths(project).get(name)
    ref = parse_path(path or "")
    if ref is None:
        raise EditRefused(f"There is no box named {name!r} in the model.")
    return ref


def path_of(project: Project, name: str) -> str:
    return _ref(project, name).path


def _layers_of(project: Project, ref: ItemRef) -> list[LayerSpec]:
    if ref.section == "trunk":
        return project.trunk
    assert ref.head is not None or ref.section == "head"
    return project.heads[ref.head if ref.head is not None else ref.index].layers


def _check_unique(project: Project) -> None:
    names = [node.name for node in graph_nodes(project)]
    if len(names) != len(set(names)):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise EditRefused(f"Names must be unique before editing the graph: {', '.join(twice)} "
                          "is used more than once (rename it in the tree).")


def _new_layer(project: Project, kind: str, name: str) -> LayerSpec:
    if kind not in LAYER_KINDS:
        raise EditRefused(f"{kind!r} is not a layer kind.")
    if name in item_paths(project):
        raise EditRefused(f"The name {name!r} is already used.")
    return LayerSpec(name=name, kind=kind, params=default_params(kind))


def _fit(layer: LayerSpec, want: tuple[str, ...] | None, previous: str | None) -> None:
    """Give ``layer`` the inputs ``want``: by default when that is the one before it."""
    if want is None:
        return
    current = tuple(layer.inputs) or ((previous,) if previous else ())
    if current != want:
        layer.inputs = [] if previous is not None and want == (previous,) else list(want)


def write_feeds(project: Project, want: Mapping[str, tuple[str, ...]]) -> None:
    """Set inputs and head sources so that each box in ``want`` is fed as it says.

    Raises :class:`EditRefused` when the lists' order cannot give those feeds (a head's
    output always takes the head's last layer).
    """
    previous = project.inputs[0].name if len(project.inputs) == 1 else None
    for layer in project.trunk:
        _fit(layer, want.get(layer.name), previous)
        previous = layer.name
    trunk_out = previous
    visible = set(project.input_names) | {layer.name for layer in project.trunk}
    for head in project.heads:
        if head.source is not None and head.source not in visible:
            head.source = None
        default = head.source or trunk_out
        first = want.get(head.layers[0].name) if head.layers else want.get(head.name)
        if first is not None and len(first) == 1 and first[0] in visible \
                and first[0] != default and not (head.layers and head.layers[0].inputs):
            head.source = None if first[0] == trunk_out else first[0]
            default = head.source or trunk_out
        for layer in head.layers:
            _fit(layer, want.get(layer.name), default)
            default = layer.name
    after = feeds_of(project)
    wrong = [name for name, feeds in want.items() if name in after and after[name] != feeds]
    if wrong:
        raise EditRefused(f"That edit would also change what feeds {wrong[0]}, so it was not "
                          "made; use the tree and the form's Inputs field for this one.")


def _replaced(feeds: Feeds, old: str, new: str) -> Feeds:
    return {name: tuple(new if s == old else s for s in sources)
            for name, sources in feeds.items()}


# -- insertions ------------------------------------------------------------------------------
def insert_on_edge(project: Project, kind: str, name: str, source: str, target: str) -> str:
    """Put a new layer on the arrow ``source`` -> ``target``; returns the new layer's path."""
    _check_unique(project)
    before = feeds_of(project)
    if source not in before.get(target, ()):
        raise EditRefused(f"{source} does not feed {target}.")
    layer = _new_layer(project, kind, name)
    ref = _ref(project, target)
    if ref.section == "head":
        head = project.heads[ref.index]
        only_this = consumers(before, source) == [target]
        if not head.layers and only_this and source == trunk_output(project):
            project.trunk.append(layer)  # the same model, and the layer stays shared
        else:
            head.layers.append(layer)
    else:
        _layers_of(project, ref).insert(ref.index, layer)
    want = dict(before)
    want[name] = (source,)
    want[target] = tuple(name if s == source else s for s in before[target])
    write_feeds(project, want)
    return path_of(project, name)


def insert_after(project: Project, kind: str, name: str, node: str) -> str:
    """Put a new layer right after ``node``: it takes ``node`` and feeds what ``node`` fed."""
    _check_unique(project)
    before = feeds_of(project)
    ref = _ref(project, node)
    if ref.section == "head":
        raise EditRefused(f"{node} is a head's output, the end of the model: drop the layer "
                          "on the arrow into it to insert it before.")
    layer = _new_layer(project, kind, name)
    if ref.section == "input":
        project.trunk.insert(0, layer)
    else:
        _layers_of(project, ref).insert(ref.index + 1, layer)
    want = _replaced(before, node, name)
    want[name] = (node,)
    write_feeds(project, want)
    return path_of(project, name)


def add_branch(project: Project, kind: str, name: str, node: str) -> str:
    """A new layer fed by ``node`` that feeds nothing yet (connect its output next)."""
    _check_unique(project)
    before = feeds_of(project)
    ref = _ref(project, node)
    if ref.section == "head":
        raise EditRefused(f"{node} is a head's output and feeds nothing: start a branch from "
                          "an input or a layer.")
    if ref.section == "head_layer":
        head = project.heads[ref.head or 0]
        if ref.index == len(head.layers) - 1:
            raise EditRefused(f"{node} is the last layer of head {head.name}, so a layer after "
                              f"it would become the head's input: drop it on the arrow into "
                              f"{head.name} to insert it there.")
    layer = _new_layer(project, kind, name)
    if ref.section == "input":
        project.trunk.insert(0, layer)
    else:
        _layers_of(project, ref).insert(ref.index + 1, layer)
    want = dict(before)
    want[name] = (node,)
    write_feeds(project, want)
    return path_of(project, name)


# -- connections -----------------------------------------------------------------------------
def _kind_of(project: Project, name: str) -> str | None:
    """The layer kind of box ``name`` (``None`` for inputs and head outputs)."""
    ref = _ref(project, name)
    if ref.section in ("input", "head"):
        return None
    return _layers_of(project, ref)[ref.index].kind


def _takes_more(kind_name: str, count: int) -> bool:
    kind = LAYER_KINDS.get(kind_name)
    return kind is not None and kind.max_inputs != 1 and (kind.max_inputs is None
                                                          or count < kind.max_inputs)


def _bring_before(project: Project, feeds: Feeds, source: str, target: str) -> None:
    """Move ``source`` (and what it depends on) up its list to stand before ``target``."""
    s_ref, t_ref = _ref(project, source), _ref(project, target)
    if s_ref.section not in ("trunk", "head_layer") or t_ref.section != s_ref.section \
            or s_ref.head != t_ref.head or s_ref.index < t_ref.index:
        return
    layers = _layers_of(project, s_ref)
    needed = ancestors(feeds, source) | {source}
    window = layers[t_ref.index:s_ref.index + 1]
    movers = [layer for layer in window if layer.name in needed]
    for layer in movers:
        layers.remove(layer)
    layers[t_ref.index:t_ref.index] = movers


def connect(project: Project, source: str, target: str,
            shapes: Mapping[str, Shape | None] | None = None) -> str:
    """Make ``source`` feed ``target``; returns the path to select afterwards.

    A layer that takes several inputs (Concatenate, Add, MultiHeadAttention…) gets one more.
    A box that takes one input and has one gets a new merge in front of it: Add when
    ``shapes`` (output shapes by name) says both have the same shape, else Concatenate.
    """
    _check_unique(project)
    feeds = feeds_of(project)
    s_ref, t_ref = _ref(project, source), _ref(project, target)
    if source == target:
        raise EditRefused(f"{source} cannot feed itself.")
    if t_ref.section == "input":
        raise EditRefused(f"{target} is an input: its values come from the data, so nothing "
                          "connects into it.")
    if s_ref.section == "head":
        raise EditRefused(f"{source} is a head's output, the end of the model: it feeds no "
                          "layer.")
    if source in feeds[target]:
        raise EditRefused(f"{source} already feeds {target}.")
    if target in ancestors(feeds, source):
        raise EditRefused(f"{source} depends on {target}, so {source} feeding {target} would "
                          "make a loop.")
    t_head = t_ref.index if t_ref.section == "head" else t_ref.head
    if s_ref.section == "head_layer" and s_ref.head != t_head:
        owner = project.heads[s_ref.head or 0].name
        raise EditRefused(f"{source} is a layer of head {owner}: a head's own layers feed "
                          "only that head. Use a trunk layer to feed several heads.")
    _bring_before(project, feeds, source, target)
    current = feeds[target]
    want = dict(feeds)
    kind = _kind_of(project, target)
    if kind is not None and _takes_more(kind, len(current)):
        want[target] = (*current, source)
        write_feeds(project, want)
        return path_of(project, target)
    known = shapes or {}
    same = (len(current) == 1 and known.get(current[0]) is not None
            and known.get(current[0]) == known.get(source))
    merge_kind = "Add" if same else "Concatenate"
    merge_name = unique_name(project, merge_kind)
    merge = _new_layer(project, merge_kind, merge_name)
    t_ref = _ref(project, target)
    if t_ref.section == "head":
        head = project.heads[t_ref.index]
        shared = (not head.layers and current == (trunk_output(project),)
                  and consumers(feeds, current[0]) == [target] and s_ref.section != "head_layer")
        (project.trunk if shared else head.layers).append(merge)
    else:
        _layers_of(project, t_ref).insert(t_ref.index, merge)
    want[merge_name] = (*current, source)
    want[target] = (merge_name,)
    write_feeds(project, want)
    return path_of(project, merge_name)


# -- removal ---------------------------------------------------------------------------------
def remove_boxes(project: Project, names: Iterable[str]) -> None:
    """Remove layers and heads; what a removed layer fed takes that layer's input instead.

    Inputs, and the last head, are refused. A merge's other inputs then feed nothing.
    """
    _check_unique(project)
    names = list(dict.fromkeys(names))
    refs = {name: _ref(project, name) for name in names}
    inputs = [name for name, ref in refs.items() if ref.section == "input"]
    if inputs:
        raise EditRefused(f"{inputs[0]} is an input: inputs come from the data and are not "
                          "removed on the graph (select it in the tree and press Remove).")
    heads = [name for name, ref in refs.items() if ref.section == "head"]
    if heads and len(heads) >= len(project.heads):
        raise EditRefused(f"{heads[-1]} is the last head and a model needs at least one: add "
                          "another head before removing it.")
    feeds = feeds_of(project)
    doomed = set(names)
    for head in heads:
        doomed |= {layer.name for layer in project.head(head).layers}
    want = dict(feeds)
    for name in names:
        if refs[name].section not in ("trunk", "head_layer"):
            continue
        sources = want[name]
        for other, inputs_of in list(want.items()):
            if name not in inputs_of:
                continue
            kind = _kind_of(project, other)
            spliced = sources if kind is not None and _takes_more(kind, 1) else sources[:1]
            new: list[str] = []
            for s in inputs_of:
                for part in (spliced if s == name else (s,)):
                    if part not in new:
                        new.append(part)
            want[other] = tuple(new)
    for head in heads:
        remove_item(project, path_of(project, head))
    project.trunk[:] = [layer for layer in project.trunk if layer.name not in doomed]
    for head in project.heads:
        head.layers[:] = [layer for layer in head.layers if layer.name not in doomed]
    write_feeds(project, {name: f for name, f in want.items() if name not in doomed})
