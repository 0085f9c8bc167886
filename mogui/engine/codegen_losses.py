"""Code generation, loss part: custom loss code, the joint-loss model and ``compile``.

Mirrors :mod:`mogui.engine.losses` and :mod:`mogui.engine.joint`: the same Keras loss classes
and arguments, the same metrics, the same optimizer, and a joint model that reduces, weights
and logs the terms of the user's function exactly as mogui's ``JointLossModel`` does.
"""

from __future__ import annotations

import re
import textwrap

from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import CUSTOM_LOSS
from mogui.engine.codegen_data import banner, lit
from mogui.engine.losses import (
    BUILTIN_LOSSES,
    CROSSENTROPY_LOSSES,
    OPTIMIZERS,
    head_outputs_logits,
)

#: Metric ids rebuilt for heads that output logits, as mogui.engine.losses does.
LOGIT_METRICS = {
    "binary_accuracy": "keras.metrics.BinaryAccuracy(threshold=0.0)",
    "auc": 'keras.metrics.AUC(from_logits=True, name="auc")',
    "precision": 'keras.metrics.Precision(thresholds=0.0, name="precision")',
    "recall": 'keras.metrics.Recall(thresholds=0.0, name="recall")',
}

_FUTURE = re.compile(r"^from __future__ import [^\n]*\n?", re.MULTILINE)


def custom_sources(project: Project) -> list[str]:
    """Every piece of user-written loss code the script will contain."""
    if project.loss_mode == "joint":
        return [project.joint_loss.source]
    return [h.loss.source for h in project.heads if h.is_custom]


def _factory(function: str, docstring: str, source: str) -> str:
    body = _FUTURE.sub("", source).strip("\n")
    return (f"def {function}():\n"
            f'    """{docstring}"""\n'
            f"{textwrap.indent(body, '    ')}\n\n"
            "    return loss\n")


def _custom_head_losses(project: Project) -> str:
    heads = [h for h in project.heads if h.is_custom] if project.loss_mode != "joint" else []
    if not heads:
        return ""
    parts = [
        banner("custom losses") + "\n"
        "# Your loss code, copied from the project. Each head's code sits inside its own\n"
        "# function so that helpers with the same name in two heads cannot clash.\n",
    ]
    for head in heads:
        parts.append(_factory(f"make_{head.name}_loss",
                              f'The custom loss of head "{head.name}".', head.loss.source))
    factories = ", ".join(f'"{h.name}": make_{h.name}_loss' for h in heads)
    parts.append(f"CUSTOM_LOSSES = {{{factories}}}\n")
    parts.append(HEAD_LOSS_CLASS)
    return "\n\n".join(parts)


HEAD_LOSS_CLASS = '''
@keras.saving.register_keras_serializable(package="exported")
class HeadLoss(keras.losses.Loss):
    """A plain ``loss(y_true, y_pred)`` function as a Keras loss for one head.

    Keras averages what the function returns over the batch (one value per sample, or a
    scalar) and calls it once per step with this head's targets and predictions only. The
    head name is saved with the model, so model.keras reloads while this script is imported.
    """

    def __init__(self, head, **kwargs):
        super().__init__(**kwargs)
        self.head = head
        self.fn = CUSTOM_LOSSES[head]()

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "head": self.head}
'''.strip("\n") + "\n"


JOINT_MODEL_CLASS = '''
@keras.saving.register_keras_serializable(package="exported")
class JointLossModel(keras.Model):
    """A functional model trained by one loss function that sees every head at once.

    A loss given to compile() is called once per head with that head's targets only, so it
    cannot couple heads. Overriding compute_loss() is the Keras way to get all of them in one
    call: y and y_pred arrive together and we hand them to the joint loss as dicts.
    """

    def __init__(self, *args, term_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term_weights = {str(k): float(v) for k, v in (term_weights or {}).items()}
        self.loss_fn = make_joint_loss()
        self.terms_seen = ()
        # One tracker per head, so each returned term is logged as "<head>_loss".
        self.term_trackers = {
            name: keras.metrics.Mean(name=f"{name}_loss") for name in self.output_names
        }

    def by_head(self, values):
        """TensorFlow may pass a tuple in output order: make it a dict keyed by head."""
        if isinstance(values, dict):
            return dict(values)
        if isinstance(values, list | tuple):
            return dict(zip(self.output_names, values, strict=True))
        return {self.output_names[0]: values}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        y_true = {k: ops.convert_to_tensor(v) for k, v in self.by_head(y).items()}
        preds = {k: as_float32(ops.convert_to_tensor(v)) for k, v in self.by_head(y_pred).items()}
        weights = self.by_head(sample_weight) if sample_weight is not None else {}
        if "mask" in inspect.signature(self.loss_fn).parameters:
            # loss(y_true, y_pred, mask): mask[head] is 1.0 for labelled rows, else 0.0.
            batch = ops.shape(next(iter(preds.values())))[0]
            mask = {
                head: ops.reshape(ops.cast(weights[head], "float32"), (-1,))
                if head in weights
                else ops.ones((batch,), "float32")
                for head in preds
            }
            result = self.loss_fn(y_true, preds, mask)
        else:
            result = self.loss_fn(y_true, preds)
        if isinstance(result, dict):
            # Each term is reduced to a scalar, logged unweighted and weighted in the total.
            terms = {head: reduce_term(value, weights.get(head)) for head, value in result.items()}
            self.terms_seen = tuple(terms)
            total = sum(self.term_weights.get(head, 1.0) * value for head, value in terms.items())
        else:
            terms = {}
            self.terms_seen = ()
            total = reduce_term(result, None)
        batch = ops.shape(next(iter(self.by_head(y_pred).values())))[0]
        for head, value in terms.items():
            self.term_trackers[head].update_state(value, sample_weight=batch)
        if self.losses:  # regularization penalties of the layers
            total = total + sum(ops.sum(loss) for loss in self.losses)
        return total

    @property
    def metrics(self):
        # Report only the trackers of terms the loss function actually returns.
        seen = getattr(self, "terms_seen", ())
        trackers = getattr(self, "term_trackers", {})
        unused = {id(tracker) for head, tracker in trackers.items() if head not in seen}
        return [m for m in super().metrics if id(m) not in unused]

    def get_config(self):
        return {**super().get_config(), "term_weights": dict(self.term_weights)}


def as_float32(tensor):
    """Predictions in float32, also under mixed precision."""
    if keras.backend.standardize_dtype(tensor.dtype) in ("float16", "bfloat16", "float64"):
        return ops.cast(tensor, "float32")
    return tensor


def reduce_term(value, weight):
    """A scalar stays as is; one value per sample is averaged over the labelled rows."""
    value = ops.cast(ops.convert_to_tensor(value), "float32")
    if len(value.shape) == 0:
        return value
    if len(value.shape) == 1:
        if weight is not None:
            weight = ops.reshape(ops.cast(ops.convert_to_tensor(weight), "float32"), (-1,))
            return ops.divide_no_nan(ops.sum(value * weight), ops.sum(weight))
        return ops.mean(value)
    raise ValueError(f"a loss term has shape {value.shape}; return a scalar or one per sample")
'''.strip("\n") + "\n"


def losses_section(project: Project) -> str:
    """Custom loss code, plus the joint-loss model in joint mode (empty when neither)."""
    if project.loss_mode == "joint":
        return (
            banner("joint loss") + "\n"
            "# Your joint loss code, copied from the project. It receives y_true and y_pred as\n"
            "# dicts keyed by head name and returns a scalar or a dict of terms per head.\n\n"
            + _factory("make_joint_loss", "The joint loss over all heads.",
                       project.joint_loss.source)
            + "\n\n" + JOINT_MODEL_CLASS
        )
    return _custom_head_losses(project)


def _loss_expression(head: HeadSpec) -> str:
    if not head.has_loss:
        return "None"
    kind = str(head.loss.kind)
    if kind == CUSTOM_LOSS:
        return f'HeadLoss("{head.name}", name="{head.name}_loss", reduction=MASKED_MEAN)'
    name = BUILTIN_LOSSES[kind].__name__
    if kind in CROSSENTROPY_LOSSES:
        return (f"keras.losses.{name}(from_logits={head_outputs_logits(head)}, "
                "reduction=MASKED_MEAN)")
    return f"keras.losses.{name}(reduction=MASKED_MEAN)"


def _metrics_expression(head: HeadSpec) -> str:
    logits = head_outputs_logits(head)
    items = [LOGIT_METRICS[m] if logits and m in LOGIT_METRICS else lit(m)
             for m in head.loss.metrics]
    return "[" + ", ".join(items) + "]"


def compile_section(project: Project) -> str:
    """``compile_model(model)`` with the project's optimizer, losses, weights and metrics."""
    optimizer = OPTIMIZERS[project.training.optimizer].__name__
    metrics = ", ".join(f'"{h.name}": {_metrics_expression(h)}' for h in project.heads)
    lines = [
        "def compile_model(model):",
    ]
    if project.loss_mode == "joint":
        lines += [
            '    """No loss argument: JointLossModel.compute_loss computes it from all heads."""',
            "    model.compile(",
            f"        optimizer=keras.optimizers.{optimizer}(learning_rate=LEARNING_RATE),",
            f"        weighted_metrics={{{metrics}}},",
            "    )",
        ]
    else:
        losses = ", ".join(f'"{h.name}": {_loss_expression(h)}' for h in project.heads)
        weights = ", ".join(f'"{h.name}": {float(h.loss.weight)!r}' for h in project.heads)
        lines += [
            '    """One loss per head; the total loss is the sum of weight * head loss."""',
            "    model.compile(",
            f"        optimizer=keras.optimizers.{optimizer}(learning_rate=LEARNING_RATE),",
            "        # Dicts keyed by head name: Keras matches them to the outputs by name.",
            "        # A list would be matched by position, and a single loss would be",
            "        # copied to every head. None leaves a head untrained.",
            f"        loss={{{losses}}},",
            f"        loss_weights={{{weights}}},",
            "        # Weighted metrics: rows without a label (weight 0) count in no metric.",
            f"        weighted_metrics={{{metrics}}},",
            "    )",
        ]
    return "\n".join(lines) + "\n"
