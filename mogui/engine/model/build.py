"""Build a project's layer graph as a plain functional Keras model.

The graph is built one layer at a time so that a failing layer is named in plain language
(:class:`~mogui.core.errors.BuildError`). :func:`build_graph` is shared by :func:`build_model`
and the shape inspector, so both always agree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import keras
from pydantic import ValidationError

from mogui.core.errors import BuildError
from mogui.core.layers import LAYER_KINDS, validate_params
from mogui.core.project import HeadSpec, LayerSpec, Project
from mogui.core.validation import (
    ProjectError,
    check_project,
    problems_from_validation_error,
    standardized_layer_name,
)
from mogui.engine.model.shape_errors import Source, check_inputs, explain_failure, one_line


def _validated_params(spec: LayerSpec) -> dict[str, Any]:
    if spec.kind not in LAYER_KINDS:
        choices = ", ".join(sorted(LAYER_KINDS))
        raise BuildError(f"Layer '{spec.name}' has kind {spec.kind!r}, which mogui does not "
                         f"offer; choose one of: {choices}", layer=spec.name)
    try:
        return validate_params(spec.kind, spec.params)
    except ValidationError as exc:
        problems = "; ".join(str(p) for p in problems_from_validation_error(exc, ("params",)))
        raise BuildError(f"{spec.kind} '{spec.name}': {problems}", layer=spec.name) from None


def keras_layer(spec: LayerSpec) -> keras.layers.Layer:
    """The Keras layer for a catalog layer spec, named ``spec.name``; ``BuildError`` if invalid."""
    params = _validated_params(spec)
    if spec.kind == "Normalization" and _mixed_precision():
        params["dtype"] = "float32"  # raw feature values overflow float16
    try:
        if spec.kind == "Bidirectional":
            return _bidirectional(params, spec.name)
        return getattr(keras.layers, spec.kind)(**params, name=spec.name)
    except Exception as exc:  # noqa: BLE001 - any Keras complaint becomes a plain message
        raise BuildError(f"{spec.kind} '{spec.name}' cannot be created: {one_line(exc)}",
                         layer=spec.name) from None


def _bidirectional(params: dict[str, Any], name: str) -> keras.layers.Layer:
    """``Bidirectional(LSTM(...))``: the recurrent layer gets every parameter but ``layer``
    (its kind) and ``merge_mode`` (how the two directions' outputs are merged)."""
    recurrent = dict(params)
    kind, merge_mode = recurrent.pop("layer"), recurrent.pop("merge_mode")
    inner = getattr(keras.layers, kind)(**recurrent, name=f"{name}_{kind.lower()}")
    return keras.layers.Bidirectional(inner, merge_mode=merge_mode, name=name)


def call_layer(layer: keras.layers.Layer, kind: str, tensors: list[Any]) -> Any:
    """Call ``layer`` on its inputs: one list for a merge (Concatenate, Add); query, value
    and key for MultiHeadAttention (one input attends to itself; no key: the value); else
    the one input."""
    if kind == "MultiHeadAttention":
        query, value, *key = tensors if len(tensors) > 1 else [tensors[0], tensors[0]]
        return layer(query, value, key=key[0] if key else None)
    return layer(tensors if LAYER_KINDS[kind].is_merge else tensors[0])


@dataclass
class GraphStep:
    """One node of the project graph: an input, a trunk layer, a head layer or a head output."""

    name: str
    kind: str
    section: str  # "input" | "trunk" | "head"
    head: str | None = None
    inputs: tuple[str, ...] = ()
    spec: LayerSpec | None = None
    layer: keras.layers.Layer | None = None
    tensor: Any = None
    error: BuildError | None = None
    #: The parameter count remembered from an earlier build of the same step (no layer then).
    cached_params: int | None = None
    #: A standardized head's output layer (Normalization, invert=True) after ``layer``.
    rescale: keras.layers.Layer | None = None

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return None if self.tensor is None else tuple(self.tensor.shape)

    @property
    def param_count(self) -> int:
        if self.cached_params is not None:
            return self.cached_params
        if self.layer is None or not self.layer.built:
            return 0
        extra = self.rescale.count_params() if self.rescale is not None else 0
        return int(self.layer.count_params()) + int(extra)


@dataclass
class Graph:
    """The result of :func:`build_graph`; stops at the first failing step."""

    steps: list[GraphStep]
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: BuildError | None = None


def _plan_layers(layers: list[LayerSpec], section: str, head: str | None,
                 previous: str | None) -> tuple[list[GraphStep], str | None]:
    steps = []
    for spec in layers:
        sources = tuple(spec.inputs) if spec.inputs else ((previous,) if previous else ())
        steps.append(GraphStep(spec.name, spec.kind, section, head, sources, spec))
        previous = spec.name
    return steps, previous


def plan_graph(project: Project) -> list[GraphStep]:
    """Every step of the graph in build order, with each step's resolved input names."""
    steps = [GraphStep(i.name, "Input", "input") for i in project.inputs]
    single = project.inputs[0].name if len(project.inputs) == 1 else None
    trunk_steps, trunk_out = _plan_layers(project.trunk, "trunk", None, single)
    steps += trunk_steps
    for head in project.heads:
        source = head.source or trunk_out
        head_steps, last = _plan_layers(head.layers, "head", head.name, source)
        steps += head_steps
        steps.append(GraphStep(head.name, "Dense", "head", head.name, (last,) if last else ()))
    return steps


def _mixed_precision() -> bool:
    return keras.config.dtype_policy().compute_dtype != "float32"


def _output_layer(head: HeadSpec) -> keras.layers.Layer:
    dtype = "float32" if _mixed_precision() else None
    name = standardized_layer_name(head.name) if head.standardize else head.name
    return keras.layers.Dense(head.units, activation=head.output_activation, name=name,
                              dtype=dtype)


def rescale_layer(head: HeadSpec) -> keras.layers.Layer:
    """A standardized head's output layer, named after the head: standard deviations back to
    the target's units (``mean + value * std``), both measured on the training rows when
    training starts (:func:`mogui.engine.plain_keras.scaling.adapt_scaling`)."""
    dtype = "float32" if _mixed_precision() else None
    return keras.layers.Normalization(axis=-1, invert=True, name=head.name, dtype=dtype)


def _check_wiring(step: GraphStep, visible: dict[str, Any], seen: set[str]) -> None:
    label = f"{step.kind} '{step.name}'" if step.kind in LAYER_KINDS else f"'{step.name}'"
    if step.name in seen:
        raise BuildError(f"The name '{step.name}' is used twice; names of inputs, layers and "
                         "heads must be unique", layer=step.name)
    if not step.inputs:
        raise BuildError(f"{label} has no input: the model has several inputs and nothing comes "
                         "before it; name its input", layer=step.name)
    for ref in step.inputs:
        if ref not in visible:
            raise BuildError(f"{label} takes '{ref}', which is not an input or an earlier layer "
                             "it can see; pick another input", layer=step.name)
    catalog = LAYER_KINDS.get(step.kind)
    if catalog is not None and step.spec is not None:
        n = len(step.inputs)
        if n < catalog.min_inputs:
            raise BuildError(f"{label} needs at least {catalog.min_inputs} "
                             f"input{'s' if catalog.min_inputs > 1 else ''}, got {n}; "
                             "list them in its inputs", layer=step.name)
        too_many = catalog.too_many_inputs(n)
        if too_many:
            raise BuildError(f"{label} {too_many}", layer=step.name)


def _run_step(step: GraphStep, project: Project, visible: dict[str, Any]) -> None:
    head = project.head(step.head) if step.head and step.spec is None else None
    if head is not None:
        layer, params = _output_layer(head), {"units": head.units}
    else:
        assert step.spec is not None
        params = _validated_params(step.spec)
        layer = keras_layer(step.spec)
    sources = [Source(ref, tuple(visible[ref].shape), str(visible[ref].dtype))
               for ref in step.inputs]
    problem = check_inputs(step.kind, step.name, params, sources)
    if problem:
        raise BuildError(problem, layer=step.name)
    tensors = [visible[ref] for ref in step.inputs]
    try:
        step.tensor = call_layer(layer, step.kind, tensors)
        if head is not None and head.standardize:
            step.rescale = rescale_layer(head)
            step.tensor = step.rescale(step.tensor)
    except Exception as exc:  # noqa: BLE001 - every Keras error becomes a plain message
        raise BuildError(explain_failure(step.kind, step.name, params, sources, exc),
                         layer=step.name) from None
    step.layer = layer


class StepCache:
    """What each step built to, keyed by everything its result depends on, so that building
    the graph again after an edit only builds the steps the edit changed (shape inspection).

    A hit gives the step a placeholder tensor of the remembered shape and its parameter count,
    without creating a Keras layer. Thread-safe; forgets the oldest entries beyond ``size``.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def key(self, step: GraphStep, project: Project, visible: dict[str, Any]) -> tuple:
        if step.spec is None:
            head = project.head(step.head)
            what: Any = ("head", head.units, head.output_activation, head.standardize)
        else:
            what = (step.spec.kind, repr(sorted(step.spec.params.items())))
        sources = tuple((ref, tuple(visible[ref].shape), str(visible[ref].dtype))
                        for ref in step.inputs)
        return (step.name, step.kind, what, sources, keras.config.dtype_policy().name)

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return found

    def put(self, key: tuple, value: tuple) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _run_cached(step: GraphStep, project: Project, visible: dict[str, Any],
                cache: StepCache) -> None:
    key = cache.key(step, project, visible)
    found = cache.get(key)
    if found is None:
        try:
            _run_step(step, project, visible)
        except BuildError as exc:
            cache.put(key, ("error", str(exc), exc.layer))
            raise
        cache.put(key, ("ok", tuple(step.tensor.shape), str(step.tensor.dtype),
                        step.param_count))
        return
    if found[0] == "error":
        raise BuildError(found[1], layer=found[2])
    _, shape, dtype, params = found
    step.tensor = keras.KerasTensor(shape, dtype=dtype)
    step.cached_params = params


def build_graph(project: Project, cache: StepCache | None = None) -> Graph:
    """Build the graph step by step; never raises for graph problems (see ``Graph.error``).

    With a ``cache`` (shape inspection), steps built before with the same inputs are not built
    again: their tensors are placeholders of the right shape, so the graph cannot become a
    model then.
    """
    graph = Graph(plan_graph(project))
    specs = {i.name: i for i in project.inputs}
    trunk_scope: dict[str, Any] = {}
    scopes: dict[str | None, dict[str, Any]] = {None: trunk_scope}
    seen: set[str] = set()
    for step in graph.steps:
        try:
            if step.section == "input":
                if step.name in seen:
                    raise BuildError(f"The name '{step.name}' is used twice; names of inputs, "
                                     "layers and heads must be unique", layer=step.name)
                inp = specs[step.name]
                step.tensor = keras.Input(tuple(inp.shape), dtype=inp.dtype, name=inp.name)
                graph.inputs[inp.name] = step.tensor
            else:
                if step.head not in scopes:
                    scopes[step.head] = dict(trunk_scope)
                visible = scopes[step.head]
                _check_wiring(step, visible, seen)
                if cache is None:
                    _run_step(step, project, visible)
                else:
                    _run_cached(step, project, visible, cache)
                if step.spec is None:
                    graph.outputs[step.name] = step.tensor
            seen.add(step.name)
            scopes[step.head][step.name] = step.tensor
        except BuildError as exc:
            step.error = exc
            graph.error = exc
            break
    return graph


def model_name(project: Project) -> str:
    return project.slug or "mogui_model"


def build_model(project: Project) -> keras.Model:
    """The project as a functional model: inputs and outputs are dicts keyed by name.

    Raises :class:`ProjectError` when the project is invalid and :class:`BuildError` naming the
    layer whose inputs do not fit. Each head's output layer is named after the head.
    """
    problems = check_project(project)
    if problems:
        raise ProjectError(problems)
    graph = build_graph(project)
    if graph.error is not None:
        raise graph.error
    try:
        return keras.Model(inputs=graph.inputs, outputs=graph.outputs, name=model_name(project))
    except Exception as exc:  # noqa: BLE001
        raise BuildError(f"The model cannot be assembled: {one_line(exc)}") from None


def outputs_by_head(model: keras.Model) -> dict[str, Any]:
    """A functional model's output tensors keyed by output (head) name."""
    output = model.output
    if isinstance(output, dict):
        return dict(output)
    outputs = output if isinstance(output, list | tuple) else [output]
    return dict(zip(model.output_names, outputs, strict=True))


