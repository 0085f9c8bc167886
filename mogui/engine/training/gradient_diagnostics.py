"""Gradient diagnostics: each head's gradient on the shared trunk, sampled while training.

Every ``every`` training steps (the first one included; automatically: at least 50 steps
apart, and as far apart as keeps sampling within a tenth of the time the training steps take,
as measured on the run) :class:`GradientDiagnostics`
differentiates each head's own loss — the value logged as ``<head>_loss``: its built-in or
custom loss, unweighted, averaged over the rows that have its label — with respect to the
shared variables, those that two or more heads' losses reach (found as the gradient-based
balancing step finds them, :func:`~mogui.engine.plain_keras.gradient_step.shared_indices`).
Per head it reports the gradient's norm per trunk layer and over the whole trunk, and the
cosine between every two heads' whole-trunk gradients (:class:`GradientsSampled`).

The gradients are taken on a **probe batch**: the first ``batch_size`` rows of the training
split (of its first chunk when streamed), fixed for the run, so samples differ only by the
weights and are comparable over time. They are computed on the weights before the sampled
step, as the training step computes them (dropout and batch statistics included) but without
changing the model (``stateless_call``: no moving statistics updated, no random state used
up). The computation is one compiled function: a forward pass and one backward pass per head.

At the end of each epoch the logs get ``gradnorm_<head>`` and ``gradcos_<a>__<b>``: the mean
of the epoch's samples, or, for an epoch without a sample (fewer steps than ``every``), the
last sample before it. A cosine is NaN when a head's gradient is zero (e.g. no row of the
probe batch has its label).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from mogui.core.errors import CustomCodeError, MoguiError, TrainingError
from mogui.core.events import GradientsSampled, Reporter
from mogui.core.log_keys import gradcos_key, gradnorm_key, pair_name
from mogui.core.project import AUTO_SAMPLE_EVERY, AUTO_SAMPLE_SHARE, Project
from mogui.engine.plain_keras.gradient_step import flat_rows, shared_indices
from mogui.engine.plain_keras.multi_head import JointLossModel
from mogui.engine.training.complete_epochs import CompleteEpochs

Rows = tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class GradientSample:
    """One sample's figures: per head the whole-trunk norm and per-layer norms; per pair of
    heads (``"a__b"``, training order) the cosine."""

    norms: dict[str, float]
    block_norms: dict[str, dict[str, float]]
    cosines: dict[str, float]


def probe_rows(pieces: Iterable[Rows], size: int) -> Rows:
    """The first ``size`` rows of the first piece of ``(x, y, sample_weight)`` arrays."""
    x, y, weights = next(iter(pieces))

    def head(arrays: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if arrays is None else {k: np.asarray(v)[:size] for k, v in arrays.items()}

    return head(x) or {}, head(y) or {}, head(weights)


class GradientProbe:
    """Each head's gradient on the shared variables for one fixed batch, compiled once.

    ``heads`` gives the order of the heads in what is reported (training order); the probe
    raises :class:`TrainingError` when fewer than two heads have a loss term or no variable is
    reached by two of them.
    """

    def __init__(self, model: keras.Model, rows: Rows, heads: Sequence[str]) -> None:
        self.model = model
        x, y, weights = rows
        self._data = (_tensors(x), _tensors(y), None if weights is None else _tensors(weights))
        self._order = list(heads)
        self.heads: list[str] = []  # the heads with a loss term, in ``heads`` order
        self.blocks: list[str] = []  # the layers that own shared variables, in model order
        self._problem: MoguiError | None = None  # why nothing can be compared (tracing)
        self._function = tf.function(self._compute, reduce_retracing=True)

    def trace(self) -> None:
        """Compile the computation now (it finds the heads and the shared layers); raise
        :class:`TrainingError` when they cannot be compared."""
        self._problem = None
        self._function.get_concrete_function(*self._data)
        if self._problem is not None:  # raised here, not in the traced code: plain words
            raise self._problem

    def sample(self) -> GradientSample:
        """The figures on the model's current weights."""
        squares, gram = (np.asarray(value, dtype=float) for value in self._function(*self._data))
        norms = np.sqrt(np.maximum(np.diag(gram), 0.0))
        block_norms = {head: {block: math.sqrt(max(float(squares[k, b]), 0.0))
                              for b, block in enumerate(self.blocks)}
                       for k, head in enumerate(self.heads)}
        cosines = {}
        for a, b in combinations(range(len(self.heads)), 2):
            scale = norms[a] * norms[b]
            cosine = gram[a, b] / scale if scale > 0 else math.nan
            cosines[pair_name(self.heads[a], self.heads[b])] = float(np.clip(cosine, -1, 1)) \
                if math.isfinite(cosine) else math.nan
        return GradientSample({head: float(norms[k]) for k, head in enumerate(self.heads)},
                              block_norms, cosines)

    def _compute(self, x: Any, y: Any, weights: Any) -> tuple[tf.Tensor, tf.Tensor]:
        """Per head (rows, ``self.heads`` order): squared norms per block ``(K, B)``; and the
        Gram matrix of the heads' whole-trunk gradients ``(K, K)``."""
        model = self.model
        variables = list(model.trainable_variables)
        values = [variable.value for variable in variables]
        others = [variable.value for variable in model.non_trainable_variables]
        # Mixed precision: scaled losses keep small float16 gradients from vanishing.
        scale = tf.cast(model.optimizer.scale_loss(tf.ones((), "float32")), "float32")
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(values)
            y_pred, _ = model.stateless_call(values, others, x, training=True)
            terms, _ = model.loss_terms(y, y_pred, weights)
            heads = sorted(terms, key=self._position)
            losses = [tf.cast(terms[head], "float32") * scale for head in heads]
        nothing = tf.zeros((0, 0)), tf.zeros((0, 0))
        if len(heads) < 2 and isinstance(model, JointLossModel):
            self._problem = CustomCodeError(
                "loss() returns one value, but gradient diagnostics compare each head's term; "
                "return a dict of terms keyed by head name (e.g. {'bbox': box_loss, "
                "'classification': class_loss}), or switch gradient diagnostics off",
                "joint loss")
            return nothing
        if len(heads) < 2:
            have = "1 head has" if heads else "no head has"
            self._problem = TrainingError(
                f"Gradient diagnostics compare the gradients of two or more heads, but {have} "
                "a loss. Give another head a loss or switch gradient diagnostics off.")
            return nothing
        gradients = [tape.gradient(loss, values) for loss in losses]
        del tape
        shared = shared_indices(gradients)
        if not shared:
            self._problem = TrainingError(
                "Gradient diagnostics compare the heads' gradients on the layers they share, "
                "but no layer is trained by two heads' losses. Give the heads a shared trunk "
                "or switch gradient diagnostics off.")
            return nothing
        owners = _owners(model)
        shared_variables = [variables[i] for i in shared]
        owner_of = [owners.get(id(v), _layer_of(v)) for v in shared_variables]
        self.heads, self.blocks = heads, list(dict.fromkeys(owner_of))
        rows = flat_rows([[parts[i] for i in shared] for parts in gradients], shared_variables)
        rows = tf.cast(rows, "float32") / scale
        pieces = tf.split(tf.square(rows), [math.prod(v.shape) for v in shared_variables],
                          axis=1)
        per_variable = [tf.reduce_sum(piece, axis=1) for piece in pieces]  # (K,) each
        squares = tf.stack([tf.add_n([part for part, owner in zip(per_variable, owner_of,
                                                                   strict=True)
                                      if owner == block]) for block in self.blocks], axis=1)
        return squares, tf.matmul(rows, rows, transpose_b=True)

    def _position(self, head: str) -> int:
        return self._order.index(head) if head in self._order else len(self._order)


class GradientDiagnostics(keras.callbacks.Callback):
    """Samples the heads' gradients every ``every`` steps, reports each sample and adds the
    epoch's figures to its logs (see the module's docstring).

    ``rows`` gives the training rows as ``(x, y, sample_weight)`` pieces; the probe batch is
    taken from them when training begins. Put it before the callbacks that report or record
    an epoch's logs.
    """

    def __init__(self, rows: Callable[[], Iterable[Rows]], batch_size: int, every: int | None,
                 reporter: Reporter, heads: Sequence[str], *,
                 complete: CompleteEpochs | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.batch_size = batch_size
        self.every = every
        self.reporter = reporter
        self.heads = list(heads)
        self.complete = complete
        self.probe: GradientProbe | None = None
        self.step = 0
        self.epoch = 0
        self.samples: list[GradientSample] = []  # this epoch's
        self.last: GradientSample | None = None
        #: Seconds spent sampling, and in the training steps themselves (pauses, validation
        #: and the other callbacks' work at a batch's end left out).
        self.sampling_seconds = 0.0
        self.step_seconds = 0.0
        self._step_began = 0.0
        #: Seconds and number of the training steps since the last sample, the first step
        #: (which builds the training graph) left out: what automatic spacing goes by.
        self._recent = [0.0, 0]
        self._next = 0  # the step of the next automatic sample

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.probe = GradientProbe(self.model, probe_rows(self.rows(), self.batch_size),
                                   self.heads)
        self.probe.trace()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch
        self.samples = []

    def _due(self) -> bool:
        if self.every is not None:
            return self.step % self.every == 0
        return self.step >= self._next

    def _space_automatically(self, seconds: float) -> None:
        """The next automatic sample: far enough that sampling stays within its share of the
        time the training steps take (measured on this run), and at least the fewest steps."""
        spent, steps = self._recent
        step = spent / steps if steps else 0.0
        spacing = math.ceil(seconds / (AUTO_SAMPLE_SHARE * step)) if step > 0 else 0
        self._next = self.step + max(AUTO_SAMPLE_EVERY, spacing)
        self._recent = [0.0, 0]

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.probe is not None and self._due():
            began = time.perf_counter()
            sample = self.probe.sample()
            seconds = time.perf_counter() - began
            if self.every is None:
                self._space_automatically(seconds)
            self.sampling_seconds += seconds
            self.samples.append(sample)
            self.last = sample
            share = self.sampling_seconds / self.step_seconds if self.step_seconds else 0.0
            self.reporter(GradientsSampled(
                epoch=self.epoch, batch=batch, step=self.step, norms=sample.norms,
                block_norms=sample.block_norms, cosines=sample.cosines, seconds=seconds,
                share=share))
        self._step_began = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._step_began
        if self.step > 0:
            self._recent[0] += seconds
            self._recent[1] += 1
        self.step += 1
        self.step_seconds += seconds

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None or (self.complete is not None and self.complete.cut_short(epoch)):
            return
        logs.update(epoch_figures(self.samples or ([self.last] if self.last else [])))


def epoch_figures(samples: Sequence[GradientSample]) -> dict[str, float]:
    """``gradnorm_<head>`` and ``gradcos_<a>__<b>``: the means of ``samples`` (NaN samples
    left out; NaN when all are)."""
    if not samples:
        return {}
    figures: dict[str, float] = {}
    for head in samples[0].norms:
        figures[gradnorm_key(head)] = _mean(s.norms[head] for s in samples)
    heads = list(samples[0].norms)
    for a, b in combinations(heads, 2):
        name = pair_name(a, b)
        figures[gradcos_key(a, b)] = _mean(s.cosines[name] for s in samples)
    return figures


def gradient_diagnostics(project: Project, rows: Callable[[], Iterable[Rows]],
                         reporter: Reporter, heads: Sequence[str], *,
                         complete: CompleteEpochs | None = None
                         ) -> list[keras.callbacks.Callback]:
    """The diagnostics callback when the project asks for it (else none)."""
    settings = project.training.gradient_diagnostics
    if not settings.enabled:
        return []
    return [GradientDiagnostics(rows, project.training.batch_size, settings.every, reporter,
                                heads, complete=complete)]


def _mean(values: Iterable[float]) -> float:
    finite = [value for value in values if math.isfinite(value)]
    return float(sum(finite) / len(finite)) if finite else math.nan


def _tensors(arrays: dict[str, Any]) -> dict[str, tf.Tensor]:
    return {key: tf.convert_to_tensor(value) for key, value in arrays.items()}


def _owners(model: keras.Model) -> dict[int, str]:
    """``id`` of each trainable variable -> the name of the model's layer that owns it."""
    return {id(variable): layer.name for layer in model.layers
            for variable in layer.trainable_variables}


def _layer_of(variable: Any) -> str:
    """A variable's layer from its path (``"trunk_1/kernel"``), for one no layer lists."""
    return str(getattr(variable, "path", variable.name)).split("/")[0]
