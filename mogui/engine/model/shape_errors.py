"""Plain-language explanations of layers whose inputs do not fit.

Keras reports shape problems as terse ``ValueError`` text from deep inside a layer. These helpers
check the common cases before a layer is called and translate whatever Keras raises afterwards
into one sentence naming the layer, its kind, the shapes involved and a way out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Source:
    """A tensor feeding a layer: the name of the layer or input producing it, shape and dtype."""

    name: str
    shape: Shape
    dtype: str


@dataclass(frozen=True)
class _RankRule:
    rank: int
    axes: str
    other_dim: str | None  # the 1-D/2-D counterpart of the kind, if any


_RANK_RULES: dict[str, _RankRule] = {
    "Conv2D": _RankRule(4, "(batch, height, width, channels)", "Conv1D"),
    "MaxPooling2D": _RankRule(4, "(batch, height, width, channels)", "MaxPooling1D"),
    "GlobalAveragePooling2D": _RankRule(4, "(batch, height, width, channels)",
                                        "GlobalAveragePooling1D"),
    "Conv1D": _RankRule(3, "(batch, steps, channels)", "Conv2D"),
    "MaxPooling1D": _RankRule(3, "(batch, steps, channels)", "MaxPooling2D"),
    "GlobalAveragePooling1D": _RankRule(3, "(batch, steps, channels)",
                                        "GlobalAveragePooling2D"),
    "LSTM": _RankRule(3, "(batch, steps, features)", None),
    "GRU": _RankRule(3, "(batch, steps, features)", None),
    "AveragePooling2D": _RankRule(4, "(batch, height, width, channels)", "AveragePooling1D"),
    "AveragePooling1D": _RankRule(3, "(batch, steps, channels)", "AveragePooling2D"),
    "Conv2DTranspose": _RankRule(4, "(batch, height, width, channels)", None),
    "UpSampling2D": _RankRule(4, "(batch, height, width, channels)", None),
    "RandomFlip": _RankRule(4, "(batch, height, width, channels)", None),
    "RandomRotation": _RankRule(4, "(batch, height, width, channels)", None),
    "RandomZoom": _RankRule(4, "(batch, height, width, channels)", None),
    "Bidirectional": _RankRule(3, "(batch, steps, features)", None),
    "MultiHeadAttention": _RankRule(3, "(batch, steps, features)", None),
}
#: Kinds over a sequence of steps, and the image augmentation kinds (their hints differ).
_SEQUENCE_KINDS = ("LSTM", "GRU", "Bidirectional", "MultiHeadAttention")
_AUGMENTATION_KINDS = ("RandomFlip", "RandomRotation", "RandomZoom")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def format_shape(shape: Sequence[int | None] | None) -> str:
    """``(None, 32, 32, 16)``, printed like a Python tuple; ``None`` gives ``-``."""
    if shape is None:
        return "-"
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _label(kind: str, name: str) -> str:
    return f"{kind} '{name}'"


def _gives(sources: Sequence[Source]) -> str:
    parts = [f"'{s.name}' gives {format_shape(s.shape)}" for s in sources]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _rank_hint(kind: str, rule: _RankRule, got: int) -> str:
    if kind in _SEQUENCE_KINDS:
        if got == 2:
            return ("add a Reshape to (steps, features) before it, or an Embedding if the input "
                    "holds token ids")
        return "add a Reshape to (steps, features) before it"
    if kind in _AUGMENTATION_KINDS:
        return ("it changes images: put it after an image input of shape (height, width, "
                "channels), before the first Conv2D")
    if rule.other_dim is None:
        return f"add a Reshape to ({rule.axes.split(', ', 1)[1]} before it"
    if got == 2:
        if kind.startswith("Conv"):
            return "add a Reshape before it or use Dense"
        return "add a Reshape before it, or remove it: the input is already flat"
    if got < rule.rank:
        return f"add a Reshape before it or use {rule.other_dim}"
    return f"use {rule.other_dim} or add a Reshape before it"


def check_inputs(kind: str, name: str, params: dict[str, Any],
                 sources: Sequence[Source]) -> str | None:
    """Problems visible before calling the layer (rank, dtype); ``None`` when none."""
    rule = _RANK_RULES.get(kind)
    # MultiHeadAttention checks each input (query, value, key); the others their one input.
    checked = sources if kind == "MultiHeadAttention" else sources[:1]
    for src in checked if rule is not None else ():
        got = len(src.shape)
        if got != rule.rank:
            need = f"{rule.rank}-D input {rule.axes}"
            return (f"{_label(kind, name)} needs a {need} but {_gives([src])}; "
                    f"{_rank_hint(kind, rule, got)}")
    if kind == "MultiHeadAttention" and len(sources) == 3:
        value, key = sources[1], sources[2]
        if None not in (value.shape[1], key.shape[1]) and value.shape[1] != key.shape[1]:
            return (f"{_label(kind, name)} pairs each value step with a key step, but "
                    f"{_gives([value, key])}: {value.shape[1]} and {key.shape[1]} steps; give "
                    "the key as many steps as the value, or leave the key out (the value is "
                    "the key then)")
    if kind == "Permute" and sources:
        src, dims = sources[0], list(params.get("dims", ()))
        if len(dims) != len(src.shape) - 1:
            axes = len(src.shape) - 1
            return (f"{_label(kind, name)} reorders {len(dims)} axes (dims "
                    f"{', '.join(map(str, dims))}) but {_gives([src])}, which has {axes} "
                    f"after the batch axis; list each of the axes 1..{axes} once in dims")
    if kind == "Embedding" and sources and not sources[0].dtype.startswith(("int", "uint")):
        src = sources[0]
        return (f"{_label(kind, name)} maps integer token ids to vectors but {_gives([src])} "
                f"of {src.dtype} values; give the input dtype int32 (or remove the Embedding)")
    return _unsized_problem(kind, name, params, sources)


#: Kinds whose weights are sized by the last axis of their input, which must be fixed.
_SIZED_BY_LAST_AXIS = ("Dense", "Conv1D", "Conv2D", "LSTM", "GRU", "BatchNormalization",
                       "LayerNormalization", "Normalization", "Conv2DTranspose",
                       "Bidirectional", "MultiHeadAttention")
_ANY_LENGTH = ("pool over the axis of any length first (GlobalAveragePooling1D after an "
               "Embedding or LSTM), or give the input a fixed size")


def _unsized_problem(kind: str, name: str, params: dict[str, Any],
                     sources: Sequence[Source]) -> str | None:
    """A layer that needs a fixed size where its input has ``None`` (any length)."""
    if not sources:
        return None
    src = sources[0]
    dims = src.shape[1:]
    if kind in _SIZED_BY_LAST_AXIS and dims and dims[-1] is None:
        return (f"{_label(kind, name)} needs a fixed size on the last axis (its weights are "
                f"sized by it), but {_gives([src])}, whose last axis may have any length; "
                f"{_ANY_LENGTH}")
    if kind == "Flatten" and None in dims:
        return (f"{_label(kind, name)} needs a fixed size on every axis to count the values "
                f"of a sample, but {_gives([src])}, which has an axis of any length; "
                f"{_ANY_LENGTH}")
    if kind == "Reshape" and None in dims and -1 not in params.get("target_shape", ()):
        return (f"{_label(kind, name)} cannot reshape {_gives([src])} to a fixed target_shape: "
                "the number of values per sample varies; put -1 in target_shape for the axis "
                "of any length")
    return None


def one_line(exc: BaseException, limit: int = 240) -> str:
    """The useful sentence of a Keras/TensorFlow error, on one line, at most ``limit`` chars."""
    text = _ANSI.sub("", str(exc)) or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("Exception encountered when calling")]
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("Arguments received by")),
               len(lines))
    message = " ".join(lines[:cut]) or type(exc).__name__
    if len(message) > limit:
        message = message[: limit - 1].rstrip() + "…"
    return message


def _values(shape: Shape) -> int | None:
    dims = shape[1:]
    if any(d is None for d in dims):
        return None
    return math.prod(dims)  # type: ignore[arg-type]


def explain_failure(kind: str, name: str, params: dict[str, Any], sources: Sequence[Source],
                    exc: BaseException) -> str:
    """Turn an exception raised while calling a layer into a plain-language message."""
    raw = one_line(exc)
    label = _label(kind, name)
    if kind == "Add":
        return (f"{label} adds tensors of the same shape, but {_gives(sources)}; make them the "
                "same size (for example the same Dense units) or join them with Concatenate")
    if kind == "Concatenate":
        axis = params.get("axis", -1)
        return (f"{label} joins along axis {axis}, so its inputs must have the same rank and "
                f"agree on every other axis, but {_gives(sources)}; flatten or pool the inputs "
                "first (Flatten, GlobalAveragePooling), Reshape them, or change axis")
    if kind == "Reshape" and "total size" in raw and sources:
        src = sources[0]
        target = tuple(params.get("target_shape", ()))
        have = _values(src.shape)
        want = math.prod(d for d in target if d != -1)
        per = f" ({have} values per sample)" if have is not None else ""
        fix = (f"pick a target_shape whose sizes multiply to {have}" if have is not None
               else "pick a target_shape that keeps the number of values")
        how = f"holds {want} values" if -1 not in target else f"needs a multiple of {want} values"
        return (f"{label} gets {format_shape(src.shape)} from '{src.name}'{per}, but "
                f"target_shape {format_shape(target)} {how}; {fix} (one size may be -1)")
    if "zero or negative" in raw and sources:
        size = params.get("kernel_size", params.get("pool_size"))
        what = "kernel_size" if "kernel_size" in params else "pool_size"
        stride = params.get("strides")
        stride_text = f", strides {stride}" if stride not in (None, 1) else ""
        return (f"{label} gets an input too small for its window: {_gives(sources)}, but "
                f"{what} is {size}{stride_text} with padding '{params.get('padding', 'valid')}'"
                f", so its output would have no elements; use padding 'same', a smaller "
                f"{what}, or fewer pooling layers before it")
    return f"{label} cannot take its input ({_gives(sources)}): {raw}"
