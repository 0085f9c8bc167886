"""Functional models whose loss is a weighted sum over named heads, logged per head.

``loss`` and every ``<head>_loss`` are means over samples, so that with a short last batch an
epoch's ``loss`` still equals the sum of ``weight * <head>_loss`` (plus regularization).
(``compile(loss=dict)`` logs each head's loss as a mean over batches instead.) Two kinds:
:class:`HeadLossModel`, one Keras loss per head, and :class:`JointLossModel`, one function
that sees every head at once. A loss given to compile() is called once per head with that
head's targets only, so it cannot couple heads; overriding ``compute_loss`` is the Keras way to
get all of them in one call.
"""

import inspect

import keras
from keras import ops


def make_joint_loss():
    """The joint loss function ``loss(y_true, y_pred[, mask])``; defined by whoever builds."""
    raise NotImplementedError("define make_joint_loss() or override make_loss_function()")


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


class MultiHeadModel(keras.Model):
    """Functional model that computes its loss from per-head terms and logs each term.

    Subclasses define ``loss_terms(y, y_pred, sample_weight)``, returning the unweighted terms
    keyed by head and their weighted total. Each term is logged as ``<head>_loss``, a mean over
    samples like Keras' ``loss``; the total gets the layers' regularization added.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The heads are the keys of the outputs dict (Keras' output_names are the layers'
        # names), in the order Keras flattens them (sorted), which is output_names' order.
        outputs = self.output
        self.head_names = sorted(outputs) if isinstance(outputs, dict) else list(self.output_names)
        self.terms_seen = ()
        # One tracker per head, so each term is logged as "<head>_loss".
        self.term_trackers = {
            name: keras.metrics.Mean(name=f"{name}_loss") for name in self.head_names
        }

    def by_head(self, values, what):
        """``values`` (dict, or a tuple in output order as TensorFlow passes it) keyed by head."""
        if isinstance(values, dict):
            return dict(values)
        if isinstance(values, list | tuple):
            return dict(zip(self.head_names, values, strict=True))
        return {self.head_names[0]: values}

    def loss_terms(self, y, y_pred, sample_weight=None):
        """The unweighted terms keyed by head and their weighted total (no regularization)."""
        raise NotImplementedError

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms, total = self.loss_terms(y, y_pred, sample_weight)
        # The number of rows in this batch (the last one may be short): each term's tracker
        # weighs the batch by it, as Keras' own "loss" tracker does.
        batch = ops.shape(next(iter(self.by_head(y_pred, "y_pred").values())))[0]
        for head, value in terms.items():
            self.term_trackers[head].update_state(value, sample_weight=batch)
        if self.losses:  # regularization penalties of the layers
            total = total + sum(ops.sum(loss) for loss in self.losses)
        return total

    @property
    def metrics(self):
        # Report only the trackers of heads that have a term.
        seen = getattr(self, "terms_seen", ())
        trackers = getattr(self, "term_trackers", {})
        unused = {id(tracker) for head, tracker in trackers.items() if head not in seen}
        return [m for m in super().metrics if id(m) not in unused]


class HeadLossModel(MultiHeadModel):
    """Functional model trained by one Keras loss per head: ``sum(weight * head loss)``.

    Compile it as usual with dicts keyed by head name: ``compile(loss={head: loss},
    loss_weights={head: weight}, ...)``. A head whose loss is ``None`` is not trained.
    """

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, **kwargs):
        losses = {str(k): v for k, v in dict(loss or {}).items()}
        unknown = sorted(set(losses) - set(self.head_names))
        if unknown:
            raise ValueError(f"losses for {unknown}, which name no output {self.head_names}")
        self.head_losses = {
            k: None if v is None else keras.losses.get(v) for k, v in losses.items()
        }
        for head, value in self.head_losses.items():
            if value is not None and not isinstance(value, keras.losses.Loss):
                raise TypeError(
                    f"the loss of head {head!r} must be a keras.losses.Loss object, e.g. "
                    f"keras.losses.MeanSquaredError(), not {value!r}"
                )
        weights = dict(loss_weights or {})
        self.loss_weights = {k: float(weights.get(k, 1.0)) for k in self.head_losses}
        self.terms_seen = tuple(k for k, v in self.head_losses.items() if v is not None)
        super().compile(optimizer=optimizer, **kwargs)
        self.loss = dict(self.head_losses)

    def loss_terms(self, y, y_pred, sample_weight=None):
        y_true = self.by_head(y, "y")
        preds = self.by_head(y_pred, "y_pred")
        weights = {} if sample_weight is None else self.by_head(sample_weight, "sample_weight")
        terms = {
            head: ops.cast(loss(y_true[head], preds[head], weights.get(head)), "float32")
            for head, loss in self.head_losses.items()
            if loss is not None
        }
        total = sum(self.loss_weights[head] * value for head, value in terms.items())
        return terms, total

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and getattr(self, "head_losses", None) is not None:
            config["loss"] = keras.saving.serialize_keras_object(self.head_losses)
            config["loss_weights"] = dict(self.loss_weights)
        return config

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)


class JointLossModel(MultiHeadModel):
    """Functional model whose loss is ``loss(y_true, y_pred)`` over dicts of every head.

    Build it like a functional model: ``JointLossModel(inputs, outputs, term_weights=...)``.
    The function returns a scalar or a dict of terms keyed by head name; each term is logged
    unweighted as ``<head>_loss`` and the total is ``sum(term_weight * term)`` plus the layers'
    regularization. A per-sample term is averaged over the head's labelled rows (sample weight
    not 0). A function declared ``loss(y_true, y_pred, mask)`` also gets ``mask[head]``: 1.0
    for labelled rows, 0.0 for the others, shape ``(batch,)``.
    """

    def __init__(self, *args, term_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term_weights = {str(k): float(v) for k, v in (term_weights or {}).items()}
        self.loss_fn = self.make_loss_function()
        self.wants_mask = "mask" in inspect.signature(self.loss_fn).parameters

    def make_loss_function(self):
        """The joint loss function."""
        return make_joint_loss()

    def call_loss(self, y_true, y_pred, mask):
        """Call the loss function (with the mask when it asks for one)."""
        if self.wants_mask:
            return self.loss_fn(y_true, y_pred, mask)
        return self.loss_fn(y_true, y_pred)

    def reduce(self, value, weight, what):
        """One term (or the returned value) as a scalar; see ``reduce_term``."""
        return reduce_term(value, weight)

    def loss_terms(self, y, y_pred, sample_weight=None):
        """Call the loss function once; its reduced terms (unweighted) and their total.

        The total leaves out regularization. A scalar return gives no terms.
        """
        y_true = {k: ops.convert_to_tensor(v) for k, v in self.by_head(y, "y").items()}
        preds = {
            k: as_float32(ops.convert_to_tensor(v))
            for k, v in self.by_head(y_pred, "y_pred").items()
        }
        weights = {}
        if sample_weight is not None:
            weights = self.by_head(sample_weight, "sample_weight")
        mask = None
        if self.wants_mask:
            batch = ops.shape(next(iter(preds.values())))[0]
            mask = {
                head: ops.reshape(ops.cast(weights[head], "float32"), (-1,))
                if head in weights
                else ops.ones((batch,), "float32")
                for head in preds
            }
        result = self.call_loss(y_true, preds, mask)
        if isinstance(result, dict):
            terms = {
                head: self.reduce(value, weights.get(head), f"term {head!r}")
                for head, value in result.items()
            }
            self.terms_seen = tuple(terms)
            total = sum(self.term_weights.get(head, 1.0) * value for head, value in terms.items())
            return terms, total
        self.terms_seen = ()
        return {}, self.reduce(result, None, "the returned value")

    def get_config(self):
        return {**super().get_config(), "term_weights": dict(self.term_weights)}
