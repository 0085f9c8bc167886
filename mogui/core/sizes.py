"""Limits on how big a model may be, checked on the project before anything is built.

A layer with a billion units does not fail politely: allocating its weights runs the machine
out of memory. :func:`size_problems` works out each layer's output shape and parameter count
from the project alone (no Keras) and reports, by field path, a layer wider than
:data:`MAX_UNITS` and a model with more than :data:`MAX_PARAMETERS` parameters. Shapes that do
not fit together are left for the build to explain; this module only counts.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mogui.core.layers import LAYER_KINDS, validate_params
from mogui.core.project import LayerSpec, Project

#: Most units (Dense, LSTM, GRU, Bidirectional, a head), filters (Conv1D, Conv2D,
#: Conv2DTranspose), Embedding output_dim or MultiHeadAttention key_dim.
MAX_UNITS = 1_000_000
#: Most parameters of the whole model: 8 GB of float32 weights, before the optimizer's copies.
MAX_PARAMETERS = 2_000_000_000
#: The parameter that sets a layer's width, per kind.
WIDTH_PARAMS = {"Dense": "units", "LSTM": "units", "GRU": "units", "Conv1D": "filters",
                "Conv2D": "filters", "Embedding": "output_dim", "Conv2DTranspose": "filters",
                "Bidirectional": "units", "MultiHeadAttention": "key_dim"}
#: Kinds whose output has the shape of their (first) input and that have no weights.
SAME_SHAPE = ("Dropout", "Activation", "Add", "Rescaling", "RandomFlip", "RandomRotation",
              "RandomZoom")

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class _Layer:
    """One layer as counted: where it is in the project, its name, inputs and parameters."""

    path: str
    name: str
    kind: str
    params: dict[str, Any] | None  # None: an unknown kind or invalid parameters
    inputs: tuple[str, ...]
    field: str  # the field that sets its size, for the problem's path
    is_head: bool = False  # a head's output layer

    def describe(self) -> str:
        return f"{'head' if self.is_head else 'layer'} '{self.name}'"


def size_problems(project: Project) -> list[tuple[str, str]]:
    """``(path, message)`` for each layer wider than allowed and a model too big in total."""
    layers = list(_layers(project))
    problems = []
    for layer in layers:
        key = WIDTH_PARAMS.get(layer.kind)
        width = layer.params.get(key) if key and layer.params else None
        if isinstance(width, int) and width > MAX_UNITS:
            problems.append((f"{layer.path}.{layer.field}",
                             f"is {width:,}, more than the {MAX_UNITS:,} {key} a layer may "
                             f"have ({layer.describe()}); use fewer {key}"))
    if problems:
        return problems
    counts = _count_all(project, layers)
    total = sum(counts.values())
    if total > MAX_PARAMETERS:
        biggest = max(layers, key=lambda layer: counts.get(layer.name, 0))
        problems.append((f"{biggest.path}.{biggest.field}",
                         f"makes the model too big: it would have {total:,} parameters (at "
                         f"most {MAX_PARAMETERS:,}), {counts[biggest.name]:,} of them in "
                         f"{biggest.describe()}. Make it narrower, or shrink its input first "
                         "(pooling, strides or a smaller Dense before it)"))
    return problems


def _layers(project: Project) -> Iterator[_Layer]:
    """Every layer and head output in build order, with resolved inputs and parameters."""
    single = project.inputs[0].name if len(project.inputs) == 1 else None
    previous = yield from _section(project.trunk, "trunk", single)
    for h, head in enumerate(project.heads):
        last = yield from _section(head.layers, f"heads[{h}].layers", head.source or previous)
        yield _Layer(f"heads[{h}]", head.name, "Dense", {"units": head.units, "use_bias": True,
                                                        "standardize": head.standardize},
                     (last,) if last else (), "units", is_head=True)


def _section(specs: list[LayerSpec], path: str, previous: str | None
             ) -> Generator[_Layer, None, str | None]:
    """The layers of one section; returns the name of its last layer (its output)."""
    for i, spec in enumerate(specs):
        params: dict[str, Any] | None = None  # invalid ones are reported by validation
        if spec.kind in LAYER_KINDS:
            try:
                params = validate_params(spec.kind, spec.params)
            except ValidationError:
                pass
        inputs = tuple(spec.inputs) if spec.inputs else ((previous,) if previous else ())
        key = WIDTH_PARAMS.get(spec.kind, "")
        yield _Layer(f"{path}[{i}]", spec.name, spec.kind, params, inputs,
                     f"params.{key}" if key else "kind")
        previous = spec.name
    return previous


def parameter_counts(project: Project) -> dict[str, int]:
    """Parameters per layer (and head output) name, for the layers whose input shapes are
    known and fit; what the built model's ``count_params`` gives, layer by layer."""
    return _count_all(project, list(_layers(project)))


def _count_all(project: Project, layers: list[_Layer]) -> dict[str, int]:
    shapes: dict[str, Shape | None] = {i.name: tuple(i.shape) for i in project.inputs}
    counts: dict[str, int] = {}
    for layer in layers:
        inputs = [shapes.get(name) for name in layer.inputs]
        known = [s for s in inputs if s is not None]
        if layer.params is None or not inputs or len(known) != len(inputs):
            shapes[layer.name] = None
            continue
        try:
            shapes[layer.name], counts[layer.name] = _count(layer.kind, layer.params, known)
        except (ValueError, IndexError, KeyError, ZeroDivisionError, TypeError):
            # shapes that do not fit, or a None size (any length) where a layer needs a
            # fixed one: the build explains them
            shapes[layer.name] = None
    return counts


def _count(kind: str, p: dict[str, Any], inputs: list[Shape]) -> tuple[Shape | None, int]:
    """A layer's output shape (without the batch axis; ``None`` for a size of any length) and
    parameter count. Raises ``ValueError`` where the shapes do not fit."""
    shape = inputs[0]
    if kind in SAME_SHAPE:
        return shape, 0
    if kind == "Permute":
        if len(p["dims"]) != len(shape):
            raise ValueError("dims must name every axis")
        return tuple(shape[d - 1] for d in p["dims"]), 0
    if kind == "UpSampling2D":
        height, width, channels = shape
        return (*(None if n is None else n * p["size"] for n in (height, width)), channels), 0
    if kind in ("GlobalAveragePooling1D", "GlobalAveragePooling2D"):
        return (shape[-1],), 0
    if kind == "Flatten":
        return (None if None in shape else math.prod(shape),), 0  # type: ignore[arg-type]
    if kind == "Reshape":
        return _reshaped(shape, list(p["target_shape"])), 0
    if kind == "Embedding":
        return (*shape, p["output_dim"]), p["input_dim"] * p["output_dim"]
    if kind == "Concatenate":
        if p["axis"] == 0:
            raise ValueError("the batch axis")
        axis = p["axis"] if p["axis"] < 0 else p["axis"] - 1  # shapes leave out the batch axis
        sizes = [s[axis] for s in inputs]
        joined = list(shape)
        joined[axis] = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
        return tuple(joined), 0
    features = shape[-1]
    if features is None:
        raise ValueError("a layer with weights needs a fixed last size")
    if kind == "Dense":
        units = p["units"]
        rescale = 2 * units + 1 if p.get("standardize") else 0  # a standardized head's output
        return (*shape[:-1], units), features * units + (units if p["use_bias"] else 0) + rescale
    if kind == "BatchNormalization":
        return shape, 4 * features
    if kind == "LayerNormalization":
        return shape, 2 * features
    if kind == "Normalization":  # mean and variance of the kept axis, and a count
        if p["axis"] == 0:
            raise ValueError("the batch axis")
        kept = shape[p["axis"]] if p["axis"] < 0 else shape[p["axis"] - 1]
        if kept is None:
            raise ValueError("a fixed size on the kept axis")
        return shape, 2 * kept + 1
    if kind in ("Conv1D", "Conv2D"):
        spatial = shape[:-1]
        if len(spatial) != (1 if kind == "Conv1D" else 2):
            raise ValueError(kind)
        size, stride, same = p["kernel_size"], p["strides"], p["padding"] == "same"
        out = tuple(_window(n, size, stride, same) for n in spatial)
        weights = size ** len(spatial) * features * p["filters"] + p["filters"]
        return (*out, p["filters"]), weights
    if kind == "Conv2DTranspose":
        height, width = shape[:-1]
        size, stride, same = p["kernel_size"], p["strides"], p["padding"] == "same"
        out = tuple(_transposed(n, size, stride, same) for n in (height, width))
        return (*out, p["filters"]), size * size * features * p["filters"] + p["filters"]
    if kind in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        size, same = p["pool_size"], p["padding"] == "same"
        return (*(_window(n, size, size, same) for n in shape[:-1]), features), 0
    if kind in ("LSTM", "GRU"):
        units = p["units"]
        gates, biases = (4, 1) if kind == "LSTM" else (3, 2)
        out = (shape[0], units) if p["return_sequences"] else (units,)
        return out, gates * (units * (features + units) + biases * units)
    if kind == "Bidirectional":  # two of the layer, one per direction
        one, count = _count(p["layer"], p, inputs)
        assert one is not None
        width = 2 * p["units"] if p["merge_mode"] == "concat" else p["units"]
        return (*one[:-1], width), 2 * count
    if kind == "MultiHeadAttention":  # inputs: query, value (default: query), key (value)
        value = inputs[1] if len(inputs) > 1 else shape
        key = inputs[2] if len(inputs) > 2 else value
        if value[-1] is None or key[-1] is None:
            raise ValueError("a layer with weights needs a fixed last size")
        projected = p["num_heads"] * p["key_dim"]  # query, key and value each, with biases
        weights = projected * (features + 1 + key[-1] + 1 + value[-1] + 1)
        return shape, weights + projected * features + features  # the output projection
    raise ValueError(kind)


def _reshaped(shape: Shape, target: list[int]) -> Shape:
    if -1 not in target:
        return tuple(target)
    if None in shape:
        raise ValueError("cannot infer -1 from a size of any length")
    known = math.prod(d for d in target if d != -1)
    target[target.index(-1)] = math.prod(shape) // known  # type: ignore[arg-type]
    return tuple(target)


def _transposed(length: int | None, size: int, stride: int, same: bool) -> int | None:
    """The length a transposed convolution gives ``length`` (Keras' deconv output length)."""
    if length is None:
        return None
    return length * stride if same else length * stride + max(size - stride, 0)


def _window(length: int | None, size: int, stride: int, same: bool) -> int | None:
    """Positions a window of ``size`` at ``stride`` takes along ``length``."""
    if length is None:
        return None
    out = math.ceil(length / stride) if same else (length - size) // stride + 1
    if out < 1:
        raise ValueError("window larger than its input")
    return out
