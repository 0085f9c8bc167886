"""Project validation with field-level, plain-language messages.

Every problem names the field it is about, e.g. ``heads[2].units must be >= 1, got 0``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mogui.core.criteria import criterion_problems
from mogui.core.demo_targets import DEMO_QUANTITIES, demo_quantity_name, describe_fit
from mogui.core.layers import ACTIVATIONS, LAYER_KINDS, validate_params
from mogui.core.project import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    DemoShapesData,
    LayerSpec,
    Project,
)
from mogui.core.sizes import MAX_UNITS, WIDTH_PARAMS, size_problems
from mogui.core.tasks import CUSTOM_LOSS, TASKS, losses_for, metrics_for
from mogui.core.weight_checks import weight_problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a project, located by a dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        """``heads[0].units must be >= 1``; a message that is a sentence of its own
        (``Balancing 'dwa': …``) follows a colon."""
        if not self.path:
            return self.message
        return f"{self.path}: {self.message}" if self.message[:1].isupper() \
            else f"{self.path} {self.message}"


_PATH_HEAD = re.compile(r"^(inputs|trunk|heads)\[(\d+)\](?:\.layers\[(\d+)\])?")


def describe_problem(problem: Problem, project: Project | None) -> str:
    """``problem`` with its leading index path replaced by names, for people.

    ``trunk[0].inputs[0] names 'nope'…`` becomes ``trunk layer 'conv1': inputs[0] names 'nope'…``.
    Falls back to ``str(problem)`` when the path does not resolve.
    """
    match = _PATH_HEAD.match(problem.path)
    if project is None or match is None:
        return str(problem)
    who = _who(project, match)
    if who is None:
        return str(problem)
    rest = problem.path[match.end():].lstrip(".")
    return f"{who}: {rest + ' ' if rest else ''}{problem.message}"


def _who(project: Project, match: re.Match[str]) -> str | None:
    """``trunk layer 'conv1'`` for a match of :data:`_PATH_HEAD`; ``None`` if there is none."""
    section, index, layer = match.group(1), int(match.group(2)), match.group(3)
    try:
        if section == "inputs":
            return f"input '{project.inputs[index].name}'"
        if section == "trunk":
            return f"trunk layer '{project.trunk[index].name}'"
        if layer is None:
            return f"head '{project.heads[index].name}'"
        head = project.heads[index]
        return f"layer '{head.layers[int(layer)].name}' of head '{head.name}'"
    except IndexError:
        return None


class ProjectError(ValueError):
    """A project that cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        first = str(self.problems[0]) if self.problems else "invalid project"
        more = len(self.problems) - 1
        prefix = f"{source}: " if source else ""
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(prefix + first + suffix)


def format_loc(loc: Iterable[Any]) -> str:
    """``('heads', 2, 'units')`` -> ``heads[2].units``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = error.get("input")
    got_text = f", got {got!r}" if not isinstance(got, dict | list) else ""
    bounds = {
        "greater_than_equal": ("must be >=", "ge"),
        "greater_than": ("must be >", "gt"),
        "less_than_equal": ("must be <=", "le"),
        "less_than": ("must be <", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{words} {ctx.get(key)}{got_text}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (remove it or check its spelling)"
    if kind == "string_pattern_mismatch":
        return (f"must use letters, digits and underscores and not start with a digit{got_text}")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got_text}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected')}{got_text}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "string_too_short":
        least = ctx.get("min_length")
        return "must not be empty" if least == 1 else f"needs at least {least} characters"
    if kind == "string_too_long":
        most = ctx.get("max_length")
        return (f"must be {'one character' if most == 1 else f'at most {most} characters'}"
                f"{got_text}")
    if kind == "union_tag_invalid":
        return f"kind must be one of {ctx.get('expected_tags')}{got_text}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number{got_text}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number{got_text}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{got_text}"
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "is invalid")))
    msg = error.get("msg", "is invalid")
    return f"is invalid: {msg[0].lower() + msg[1:]}" if msg else "is invalid"


def problems_from_validation_error(
    exc: ValidationError, prefix: Sequence[Any] = ()
) -> list[Problem]:
    """Turn pydantic errors into :class:`Problem` objects with dotted paths."""
    return [Problem(format_loc([*prefix, *e["loc"]]), _describe(e)) for e in exc.errors()]


def parse_project(data: Any, source: str | None = None, *, strict: bool = True) -> Project:
    """Validate raw JSON data into a :class:`Project`; raise :class:`ProjectError`.

    With ``strict=False`` only the structure must be valid: a project whose cross-field checks
    fail (a head without a target, a loss that does not fit its task…) still loads, so an
    editor can open it and show those problems where they are.
    """
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        raise ProjectError(problems_from_validation_error(exc), source) from None
    problems = check_project(project)
    if problems and strict:
        raise ProjectError(problems, source)
    return project


def _check_layers(layers: list[LayerSpec], path: str, known: set[str],
                  first_default: str | None, problems: list[Problem]) -> None:
    previous = first_default
    for i, layer in enumerate(layers):
        where = f"{path}[{i}]"
        kind = LAYER_KINDS.get(layer.kind)
        if kind is None:
            choices = ", ".join(sorted(LAYER_KINDS))
            problems.append(Problem(f"{where}.kind", f"{layer.kind!r} is not a layer kind; "
                                    f"choose one of: {choices}"))
        else:
            try:
                layer.params = validate_params(layer.kind, layer.params)
            except ValidationError as exc:
                problems.extend(problems_from_validation_error(exc, (path, i, "params")))
            n_in = len(layer.inputs) if layer.inputs else (1 if previous else 0)
            if n_in < kind.min_inputs:
                least = kind.min_inputs
                problems.append(Problem(f"{where}.inputs", f"{layer.kind} needs at least "
                                        f"{least} input{'s' if least > 1 else ''}, got {n_in}"))
            too_many = kind.too_many_inputs(n_in)
            if too_many:
                problems.append(Problem(f"{where}.inputs", f"{layer.kind} {too_many}"))
        for j, ref in enumerate(layer.inputs):
            if ref not in known:
                problems.append(Problem(f"{where}.inputs[{j}]", f"names {ref!r}, which is not "
                                        "an input or an earlier layer"))
        if not layer.inputs and previous is None:
            problems.append(Problem(f"{where}.inputs", "must name its input: the model has "
                                    "several inputs and no earlier layer"))
        known.add(layer.name)
        previous = layer.name


def check_project(project: Project) -> list[Problem]:
    """Cross-field checks; fills in layer parameter defaults. Returns all problems found."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}

    def claim(name: str, path: str) -> None:
        if name in seen:
            problems.append(Problem(path, f"name {name!r} is already used by {seen[name]}; "
                                    "names of inputs, layers and heads must be unique"))
        else:
            seen[name] = path

    for i, inp in enumerate(project.inputs):
        claim(inp.name, f"inputs[{i}].name")
    for i, layer in enumerate(project.trunk):
        claim(layer.name, f"trunk[{i}].name")
    for h, head in enumerate(project.heads):
        claim(head.name, f"heads[{h}].name")
        if (reserved := _reserved_head_name(head.name)) is not None:
            problems.append(Problem(f"heads[{h}].name", reserved))
        for i, layer in enumerate(head.layers):
            claim(layer.name, f"heads[{h}].layers[{i}].name")

    known = set(project.input_names)
    single_input = project.inputs[0].name if len(project.inputs) == 1 else None
    _check_layers(project.trunk, "trunk", known, single_input, problems)
    trunk_names = set(known)
    trunk_out = project.trunk[-1].name if project.trunk else single_input

    for h, head in enumerate(project.heads):
        path = f"heads[{h}]"
        source = head.source or trunk_out
        if head.source is not None and head.source not in trunk_names:
            problems.append(Problem(f"{path}.source", f"names {head.source!r}, which is not "
                                    "an input or a trunk layer"))
        if source is None:
            problems.append(Problem(f"{path}.source", "must name an input: the model has "
                                    "several inputs and no trunk layers"))
        _check_layers(head.layers, f"{path}.layers", set(trunk_names), source, problems)
        if head.activation is not None and head.activation not in ACTIVATIONS:
            problems.append(Problem(f"{path}.activation", f"must be one of {list(ACTIVATIONS)}, "
                                    f"got {head.activation!r}"))
        _check_head_loss(project, h, problems)
        _check_standardize(project, h, seen, problems)

    if project.loss_mode == "joint":
        if not project.joint_loss.source.strip():
            problems.append(Problem("joint_loss.source", "is empty: write a function "
                                    "loss(y_true, y_pred) or switch loss_mode to per_output"))
        for name in project.joint_loss.term_weights:
            if name not in project.head_names:
                problems.append(Problem(f"joint_loss.term_weights.{name}",
                                        f"names no head; heads are {project.head_names}"))
    elif not project.loss_heads():
        problems.append(Problem("heads", "no head has a loss, so nothing would be trained; "
                                "give at least one head a loss"))
    _check_demo_targets(project, problems)
    problems.extend(Problem(path, message) for path, message in weight_problems(project))
    _check_gradient_diagnostics(project, problems)
    problems.extend(Problem(path, message) for path, message in size_problems(project))
    problems.extend(Problem(path, message) for path, message in criterion_problems(project))
    return problems


def _check_gradient_diagnostics(project: Project, problems: list[Problem]) -> None:
    """Gradient diagnostics compare two or more heads' gradients on layers they share."""
    if not project.training.gradient_diagnostics.enabled:
        return
    heads = len(project.loss_heads())
    path = "training.gradient_diagnostics.enabled"
    if heads < 2:
        have = "1 head has" if heads == 1 else f"{heads} heads have"
        problems.append(Problem(path, f"is on, but {have} a loss: diagnostics compare the "
                                "gradients of two or more heads; give another head a loss or "
                                "switch them off"))
    elif not project.trunk:
        problems.append(Problem(path, "is on, but the model has no shared layers (trunk): "
                                "diagnostics compare the heads' gradients on the layers they "
                                "share; add trunk layers or switch them off"))


def _check_demo_targets(project: Project, problems: list[Problem]) -> None:
    """Every head the demo data must feed has a demo quantity that fits it.

    Only for projects whose inputs fit the demo (one input named ``image``); others get their
    data from elsewhere, and loading the demo would report the input first.
    """
    source = project.data
    if not isinstance(source, DemoShapesData) or project.input_names != ["image"]:
        return
    choices = f"[{', '.join(DEMO_QUANTITIES)}]"
    for key, quantity in source.targets.items():
        if key not in project.head_names:
            problems.append(Problem(f"data.targets.{key}", f"names no head; heads are "
                                    f"{project.head_names}"))
        elif quantity not in DEMO_QUANTITIES:
            problems.append(Problem(f"data.targets.{key}", f"{quantity!r} is not a demo "
                                    f"quantity; use one of {choices}"))
    trained = {h.name for h in project.loss_heads()}
    for h, head in enumerate(project.heads):
        if head.name not in trained and not head.loss.metrics:
            continue
        if head.name in source.targets and source.targets[head.name] not in DEMO_QUANTITIES:
            continue  # reported at data.targets above
        name = demo_quantity_name(source, head.name)
        if name is None:
            problems.append(Problem(f"heads[{h}].name", f"{head.name!r} has no demo target: set "
                                    f"data.targets.{head.name} to one of {choices} or name the "
                                    "head after one"))
            continue
        quantity = DEMO_QUANTITIES[name]
        if not quantity.fits(head):
            field = "task" if head.task != quantity.task else "units"
            problems.append(Problem(f"heads[{h}].{field}", f"{head.name!r} does not fit its "
                                    f"demo target: {describe_fit(quantity, head)}; change the "
                                    "head's task and units or its demo target"))


def _check_head_loss(project: Project, h: int, problems: list[Problem]) -> None:
    head = project.heads[h]
    path = f"heads[{h}].loss"
    loss = head.loss
    if project.loss_mode == "per_output" and head.has_loss:
        allowed = losses_for(head.task)
        if loss.kind == CUSTOM_LOSS:
            if not loss.source.strip():
                problems.append(Problem(f"{path}.source", "is empty: write a function "
                                        "loss(y_true, y_pred) or pick a built-in loss"))
        elif loss.kind not in allowed:
            problems.append(Problem(f"{path}.kind", f"{loss.kind!r} does not fit a "
                                    f"{TASKS[head.task].label.lower()} head; use one of "
                                    f"{list(allowed)} or 'custom'"))
    offered = metrics_for(head.task)
    for j, metric in enumerate(loss.metrics):
        if metric not in offered:
            problems.append(Problem(f"{path}.metrics[{j}]", f"{metric!r} is not offered for "
                                    f"a {head.task.value} head; use one of {list(offered)}"))


def _check_standardize(project: Project, h: int, seen: dict[str, str],
                       problems: list[Problem]) -> None:
    """A standardized head is a regression head whose Dense layer's name is free."""
    head = project.heads[h]
    if not head.standardize:
        return
    if head.task != "regression":
        problems.append(Problem(f"heads[{h}].standardize", f"applies to regression heads "
                                f"only; '{head.name}' is {head.task.value}: switch it off"))
    inner = standardized_layer_name(head.name)
    if inner in seen:
        problems.append(Problem(f"heads[{h}].standardize", f"needs the layer name {inner!r} "
                                f"for the head's Dense layer, but {seen[inner]} uses it; "
                                "rename that one"))


def standardized_layer_name(head: str) -> str:
    """The name of a standardized head's Dense layer (the head's name goes to the layer that
    turns its output back into the target's units)."""
    return f"{head}_standardized"


# -- checks of one field, for editors ---------------------------------------------------------
_NAME = re.compile(NAME_PATTERN)
_ITEM_PATH = re.compile(r"^(?:inputs|trunk|heads)\[\d+\](?:\.layers\[\d+\])?$")
_HEAD_PATH = re.compile(r"^heads\[\d+\]$")
_LAYER_PATH = re.compile(r"^(trunk\[\d+\]|heads\[\d+\]\.layers\[\d+\])(?=\.|$)")
_MONITORS = ("training.early_stopping.", "training.checkpointing.")


def _reserved_head_name(name: str) -> str | None:
    """Why a head may not be called ``name`` (Keras' validation prefix); ``None`` if it may."""
    if name == "val" or name.startswith("val_"):
        return (f"{name!r} would be mistaken for a validation value: Keras logs those as "
                "val_loss, val_<head>_loss …, so a head's name may not be 'val' or start with "
                "'val_'; choose another name")
    return None


def item_names(project: Project) -> list[tuple[str, str]]:
    """``(path, name)`` of every input, layer and head, in project order."""
    items = [(f"inputs[{i}]", inp.name) for i, inp in enumerate(project.inputs)]
    items += [(f"trunk[{i}]", layer.name) for i, layer in enumerate(project.trunk)]
    for h, head in enumerate(project.heads):
        items.append((f"heads[{h}]", head.name))
        items += [(f"heads[{h}].layers[{i}]", layer.name) for i, layer in enumerate(head.layers)]
    return items


def name_problem(project: Project, name: str, path: str | None = None, *,
                 head: bool = False) -> str | None:
    """Why ``name`` cannot name the item at ``path`` (``None``: a new item, a head when
    ``head``); ``None`` when it can. Names are Python identifiers (Keras uses them for layers,
    outputs, losses and logs), unique across inputs, layers and heads."""
    if not name:
        return "is empty: give it a name of letters, digits and underscores"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long; use at most {MAX_NAME_LENGTH}"
    if not _NAME.match(name):
        return f"must use letters, digits and underscores and not start with a digit, got {name!r}"
    for other, used in item_names(project):
        if used == name and other != path:
            match = _PATH_HEAD.match(other)
            who = _who(project, match) if match else None
            return (f"{name!r} is already the name of {who or other}; names of inputs, layers "
                    "and heads must be unique")
    if head or (path is not None and _HEAD_PATH.match(path)):
        return _reserved_head_name(name)
    return None


def structure_problems(project: Project) -> list[Problem]:
    """Field checks, as on loading the saved file: types, ranges and the form of names."""
    try:
        Project.model_validate(project.model_dump(mode="json", warnings=False))
    except ValidationError as exc:
        return problems_from_validation_error(exc)
    return []


def _within(path: str, field: str) -> bool:
    return path == field or path.startswith((field + "[", field + "."))


def _layer_at(project: Project, path: str) -> LayerSpec | None:
    ref = re.match(r"^(?:trunk\[(\d+)\]|heads\[(\d+)\]\.layers\[(\d+)\])$", path)
    if ref is None:
        return None
    trunk, head, index = ref.groups()
    layers = project.trunk if trunk is not None else (
        project.heads[int(head)].layers if int(head) < len(project.heads) else [])
    position = int(trunk if trunk is not None else index)
    return layers[position] if position < len(layers) else None


def field_problems(project: Project, field: str) -> list[Problem]:
    """What is wrong with the value at ``field`` on its own: its type and range, a layer
    parameter, the form and uniqueness of a name, a layer wider than allowed, a monitor that
    training does not log.

    An editor refuses an edit that leaves any of these, so the project keeps its last good
    value. Problems between fields (a loss that does not fit the head's task, a reference to a
    layer further down) take more than one edit to fix; they are shown, not refused.
    """
    item, _, rest = field.rpartition(".")
    if rest == "name" and _ITEM_PATH.match(item):
        name = dict(item_names(project)).get(item)
        message = None if name is None else name_problem(project, name, item)
        return [Problem(field, message)] if message else []
    problems = [p for p in structure_problems(project) if _within(p.path, field)]
    layer_path = _LAYER_PATH.match(field)
    layer = _layer_at(project, layer_path.group(1)) if layer_path else None
    if layer is not None and layer.kind in LAYER_KINDS and field.startswith(
            f"{layer_path.group(1)}.params"):
        try:
            validate_params(layer.kind, layer.params)
        except ValidationError as exc:
            prefix = f"{layer_path.group(1)}.params."
            problems += [Problem(prefix + p.path, p.message)
                         for p in problems_from_validation_error(exc)
                         if _within(prefix + p.path, field)]
        width = WIDTH_PARAMS.get(layer.kind)
        if width and field == f"{layer_path.group(1)}.params.{width}":
            problems += _too_wide(project, field, layer.params.get(width))
    head = re.fullmatch(r"heads\[(\d+)\]\.units", field)
    if head and int(head.group(1)) < len(project.heads):
        problems += _too_wide(project, field, project.heads[int(head.group(1))].units)
    if field.startswith(_MONITORS) and not problems:  # the values a criterion watches
        problems += [Problem(path, message) for path, message in criterion_problems(project)
                     if _within(path, field)]
    return problems


def _too_wide(project: Project, field: str, width: Any) -> list[Problem]:
    """The size limit's problem at ``field`` when ``width`` is over it."""
    if not isinstance(width, int) or width <= MAX_UNITS:
        return []
    return [Problem(path, message) for path, message in size_problems(project)
            if path == field]
