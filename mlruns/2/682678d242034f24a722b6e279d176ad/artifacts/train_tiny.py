"""Train "tiny" with plain Keras (one loss per head).

Exported from mogui. It needs only keras, tensorflow and numpy, and repeats mogui's
run: same data, seeds, split, layers, losses and optimizer, so history.csv matches.

Run it with:  python <this file> [OUTPUT_FOLDER]
It writes history.csv and model.keras to OUTPUT_FOLDER (default: beside this file).
"""

import csv
import io
import math
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

# -- settings (from the project) -------------------------------------------------------
SEED = 0
EPOCHS = 2
BATCH_SIZE = 8
LEARNING_RATE = 0.001
VALIDATION_SPLIT = 0.25
SHUFFLE = True
LOSS_HEADS = ["size", "kind"]
LOG_KEYS = ["loss", "size_loss", "kind_loss", "val_loss", "val_size_loss", "val_kind_loss"]
# Class names of the classification heads: a class id is its position.
CLASS_NAMES = {"kind": ["cat", "dog", "owl"]}


# -- data ------------------------------------------------------------------------------
# The project's CSV table, read the way mogui reads it: empty cells in a head's
# columns are rows without a label, category names become class ids (their position
# in the class list). Change DATA_FILE if you move the table.

DATA_FILE = Path("/tmp/pytest-of-root/pytest-686/test_mlflow_tracking_uri_names0/table.csv")
DELIMITER = ","
# Input -> (columns, class names, shape of one sample)
INPUT_COLUMNS = {"x": (["a", "b", "c"], [], [3])}
# Head -> (columns, class names, units of a one-hot target)
TARGET_COLUMNS = {"size": (["size"], [], None), "kind": (["kind"], ["cat", "dog", "owl"], None)}
INPUT_DTYPES = {"x": "float32"}


EMPTY_CELLS = frozenset({"", "nan", "na", "n/a", "null"})


def is_empty(cell):
    """True when a cell holds no value."""
    return cell.strip().lower() in EMPTY_CELLS


def read_table(path, delimiter=","):
    """The header (stripped names) and the data rows of a UTF-8 CSV table; blank lines are
    skipped."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = [name.strip() for name in next(reader)]
        rows = [row for row in reader if row and not (len(row) == 1 and not row[0].strip())]
    return header, rows


def column_numbers(rows, index):
    """One column as float64 numbers; empty cells are NaN."""
    cells = ["nan" if is_empty(row[index]) else row[index].strip() for row in rows]
    return np.array(cells, dtype=np.float64)


def class_ids(rows, index, classes):
    """One column of class names as int32 ids (a name's position in ``classes``); empty
    cells are -1."""
    lookup = {name: i for i, name in enumerate(classes)}
    ids = []
    for row in rows:
        cell = row[index].strip()
        if cell in lookup:
            ids.append(lookup[cell])
        elif is_empty(cell):
            ids.append(-1)
        else:
            raise ValueError(f"{cell!r} is not one of the classes {list(classes)}")
    return np.array(ids, dtype=np.int32)


def one_hot_rows(ids, units):
    """One-hot rows for class ids; a missing id (-1) gives a row of -1 (still missing)."""
    out = np.zeros((len(ids), units), dtype=np.int32)
    labelled = ids != -1
    out[np.flatnonzero(labelled), ids[labelled]] = 1
    out[~labelled] = -1
    return out


def one_hot_numbers(numbers, units):
    """One-hot float32 rows for a column of numeric class ids; NaN (empty) gives a NaN row."""
    missing = np.isnan(numbers)
    ids = np.where(missing, 0, numbers).astype(np.int64)
    out = np.zeros((len(numbers), units), dtype=np.float32)
    out[np.arange(len(numbers)), ids] = 1.0
    out[missing] = np.nan
    return out


def table_arrays(header, rows, inputs, targets):
    """Inputs and targets of a table, keyed by input and head name.

    ``inputs`` maps an input to ``(columns, classes, shape)``: its values, row by row, take
    the per-sample ``shape`` (float32, or int32 class ids when ``classes`` are listed).
    ``targets`` maps a head to ``(columns, classes, one_hot_units)``: class ids ``(n, 1)`` when
    ``classes`` are listed (one-hot rows when ``one_hot_units`` is set), else float32 numbers,
    one column per listed column.
    """
    index = {name: i for i, name in enumerate(header)}
    x = {}
    for name, (columns, classes, shape) in inputs.items():
        if classes:
            values = class_ids(rows, index[columns[0]], classes)
        else:
            values = np.stack([column_numbers(rows, index[c]) for c in columns], axis=1)
            values = values.astype(np.float32)
        x[name] = values.reshape(-1, *shape)
    y = {}
    for name, (columns, classes, one_hot_units) in targets.items():
        if classes:
            ids = class_ids(rows, index[columns[0]], classes)
            y[name] = one_hot_rows(ids, one_hot_units) if one_hot_units else ids.reshape(-1, 1)
        elif one_hot_units and len(columns) == 1:
            y[name] = one_hot_numbers(column_numbers(rows, index[columns[0]]), one_hot_units)
        else:
            numbers = [column_numbers(rows, index[c]) for c in columns]
            y[name] = np.stack(numbers, axis=1).astype(np.float32)
    return x, y


def load_data():
    """Inputs keyed by input name and targets keyed by head name."""
    header, rows = read_table(DATA_FILE, DELIMITER)
    x, y = table_arrays(header, rows, INPUT_COLUMNS, TARGET_COLUMNS)
    x = {name: x[name].astype(dtype) for name, dtype in INPUT_DTYPES.items()}
    return x, y


CLASSIFICATION_HEADS = ["kind"]
ONE_HOT_HEADS = []

MISSING_LABEL = -1


def missing_rows(target, classification):
    """Boolean ``(n,)``: True where the row has no label (see the module docstring)."""
    target = np.asarray(target)
    n = len(target) if target.ndim else 0
    if n == 0:
        return np.zeros(n, dtype=bool)
    flat = target.reshape(n, -1)
    if flat.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    if target.dtype.kind == "f":
        return np.isnan(flat).any(axis=1)
    if target.dtype.kind in "iu" and classification:
        return (flat == MISSING_LABEL).all(axis=1)
    return np.zeros(n, dtype=bool)


def fill_missing(target, missing, one_hot):
    """A copy of ``target`` whose ``missing`` rows hold 0 (a one-hot row for class 0)."""
    target = np.array(target, copy=True)
    if not missing.any():
        return target
    rows = target[missing]
    rows[...] = 0
    if one_hot and rows.ndim == 2 and rows.shape[1] > 1:
        rows[:, 0] = 1
    target[missing] = rows
    return target


def mask_missing(y, classification_heads, one_hot_heads):
    """Targets with unlabelled rows filled in, and a float32 weight per head and row.

    ``y`` maps head names to targets; Keras takes both results as dicts keyed by head name.
    """
    targets, weights = {}, {}
    for name, target in y.items():
        missing = missing_rows(target, name in classification_heads)
        targets[name] = fill_missing(target, missing, name in one_hot_heads)
        weights[name] = (~missing).astype("float32")
    return targets, weights


def as_column(array):
    """(samples,) becomes (samples, 1), the shape of a one-unit output."""
    return array.reshape(-1, 1) if array.ndim == 1 else array


def prepare_targets(y):
    """One target per head, keyed by head name, shaped like that head's output."""
    return {
        "size": as_column(y["size"]).astype("float32"),
        "kind": y["kind"].reshape(-1, 1).astype("int32"),
    }


def split_rows(n, validation_split, seed, shuffle=True):
    """Row indices ``(train, validation)``; validation is ``None`` when the split is 0.

    With ``shuffle`` the rows are permuted by ``seed`` first (same seed, same split); without
    it the validation rows are the last ones, as Keras' ``validation_split`` does.
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_val = int(round(n * validation_split))
    if validation_split > 0.0:
        n_val = min(max(n_val, 1), n - 1)
    if n_val <= 0:
        return np.arange(n), None
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return order[: n - n_val], order[n - n_val :]


def split_arrays(arrays, validation_split, seed, shuffle=True):
    """``arrays`` (a dict of equally long arrays) as ``(train, validation)`` dicts."""
    n = len(next(iter(arrays.values())))
    train, val = split_rows(n, validation_split, seed, shuffle)
    if val is None:
        return arrays, None
    return (
        {name: array[train] for name, array in arrays.items()},
        {name: array[val] for name, array in arrays.items()},
    )


def needed_weights(sample_weight):
    """The per-head sample weights, or ``None`` when every row of every head weighs 1.

    Weights only leave out rows without a label; when no label is missing, training without
    them gives the same numbers and skips their cost.
    """
    if all(np.all(weights == 1) for weights in sample_weight.values()):
        return None
    return sample_weight


def epoch_batches(x, y, sample_weight, batch_size, seed, shuffle=True):
    """``(x, y, sample_weight)`` batches for ``fit`` (``(x, y)`` when ``sample_weight`` is
    ``None``): dicts of arrays, sliced by row.

    With ``shuffle`` the rows are visited in a new order every epoch; the orders depend only on
    ``seed``. The last batch of an epoch may be short, as in ``fit(batch_size=...)``.
    """
    arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
    rows = len(next(iter(x.values())))
    order = tf.data.Dataset.range(rows)
    if shuffle:
        order = order.shuffle(rows, seed=seed, reshuffle_each_iteration=True)
    order = order.batch(batch_size)
    whole = tf.data.Dataset.from_tensors(arrays).repeat()

    def gather(rows_of_batch, data):
        return tf.nest.map_structure(lambda array: tf.gather(array, rows_of_batch), data)

    batches = tf.data.Dataset.zip((order, whole)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    batches = batches.apply(tf.data.experimental.assert_cardinality(math.ceil(rows / batch_size)))
    return batches.prefetch(tf.data.AUTOTUNE)


MASKED_MEAN = "mean_with_sample_weight"
LOGIT_METRICS = {
    "binary_accuracy": lambda: keras.metrics.BinaryAccuracy(threshold=0.0),
    "auc": lambda: keras.metrics.AUC(from_logits=True, name="auc"),
    "precision": lambda: keras.metrics.Precision(thresholds=0.0, name="precision"),
    "recall": lambda: keras.metrics.Recall(thresholds=0.0, name="recall"),
}


def head_metrics(metrics, logits):
    """A head's metrics as compile() takes them; threshold metrics adapted to logit outputs."""
    return [LOGIT_METRICS[m]() if logits and m in LOGIT_METRICS else m for m in metrics]


# -- the per-head model ----------------------------------------------------------------
def replica_count():
    """How many replicas train at once (``tf.distribute``); 1 on one device."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def sum_over_replicas(value):
    """``value`` summed over the replicas inside a replica's step; as it is on one device.

    No gradient flows through the sum."""
    context = tf.distribute.get_replica_context()
    if replica_count() == 1 or context is None:
        return value
    return context.all_reduce("sum", ops.stop_gradient(value))


def reduce_term(value, weight):
    """A loss term as this replica's share of its mean over the batch's labelled rows.

    One value per sample (more are averaged per sample) is summed over this replica's rows,
    each times its sample weight (0 for a row without a label), and divided by the weights
    of all replicas' rows: the shares add up to the mean over the labelled rows of the whole
    batch. A scalar is taken as the mean over its replica's rows and divided by the number of
    replicas. On one device: the scalar, or the mean over the labelled rows.
    """
    value = ops.cast(ops.convert_to_tensor(value), "float32")
    if len(value.shape) == 0:
        return value / replica_count()
    if len(value.shape) > 1:
        value = ops.mean(ops.reshape(value, (ops.shape(value)[0], -1)), axis=-1)
    if weight is None:  # every row labelled
        if replica_count() == 1:
            return ops.mean(value)
        count = sum_over_replicas(ops.cast(ops.shape(value)[0], "float32"))
        return ops.divide_no_nan(ops.sum(value), count)
    weight = ops.reshape(ops.cast(ops.convert_to_tensor(weight), "float32"), (-1,))
    count = sum_over_replicas(ops.sum(weight))
    return ops.divide_no_nan(ops.sum(value * weight), count)


class HeadMeans(keras.metrics.Metric):
    """A mean per head in one metric, logged as ``<prefix><head><suffix>`` each.

    One pair of vector variables for every head, so a step updates two variables whatever the
    number of heads (a ``keras.metrics.Mean`` per head would update two per head). Only the
    heads in ``shown`` are logged.
    """

    def __init__(self, heads, prefix="", suffix="", name="head_means"):
        super().__init__(name=name)
        self.heads = list(heads)
        self.keys = [f"{prefix}{head}{suffix}" for head in self.heads]
        self.shown = tuple(self.heads)
        size = (len(self.heads),)
        self.total = self.add_variable(shape=size, initializer="zeros", name="total")
        self.count = self.add_variable(shape=size, initializer="zeros", name="count")

    def update_state(self, values, sample_weight=1.0):
        """Add ``values`` (head -> scalar; heads left out are not counted) with the weight
        ``sample_weight``."""
        present = [1.0 if head in values else 0.0 for head in self.heads]
        stacked = ops.stack(
            [ops.cast(values[h], "float32") if h in values else 0.0 for h in self.heads]
        )
        weight = ops.cast(sample_weight, "float32") * ops.convert_to_tensor(present, "float32")
        self.total.assign_add(stacked * weight)
        self.count.assign_add(weight)

    def result(self):
        means = ops.divide_no_nan(self.total, self.count)
        return {
            key: means[i]
            for i, (head, key) in enumerate(zip(self.heads, self.keys, strict=True))
            if head in self.shown
        }

    def reset_state(self):
        self.total.assign(ops.zeros_like(self.total))
        self.count.assign(ops.zeros_like(self.count))


class HeadWeights:
    """Each head's loss weight as a variable that every step reads and that callbacks change
    between steps. Not a Keras attribute type, so the model does not save the variables."""

    def __init__(self, heads):
        self.variables = {
            head: keras.Variable(1.0, trainable=False, dtype="float32", name=f"weight_of_{head}")
            for head in heads
        }

    def __getitem__(self, head):
        return self.variables[head]

    def assign(self, weights):
        """Set the weights of the heads named in ``weights`` (head -> number)."""
        for head, value in weights.items():
            if head in self.variables:
                self.variables[head].assign(float(value))


class MultiHeadModel(keras.Model):
    """Functional model that computes its loss from per-head terms and logs each term.

    Subclasses define ``loss_terms(y, y_pred, sample_weight)``, returning the unweighted terms
    keyed by head and their weighted total. Each term is logged as ``<head>_loss``, a mean over
    samples like Keras' ``loss``; the total gets the layers' regularization added. The weight
    each head's term gets in a training step is logged as ``weight_<head>``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The heads are the keys of the outputs dict (Keras' output_names are the layers'
        # names), in the order Keras flattens them (sorted), which is output_names' order.
        outputs = self.output
        self.head_names = sorted(outputs) if isinstance(outputs, dict) else list(self.output_names)
        self.terms_seen = ()
        # Each term is logged as "<head>_loss", each weight in training as "weight_<head>".
        self.term_tracker = HeadMeans(self.head_names, suffix="_loss", name="head_losses")
        self.weight_tracker = HeadMeans(self.head_names, prefix="weight_", name="head_weights")
        self.head_weights = HeadWeights(self.head_names)
        self.balancer = None

    def balance_with(self, balancer):
        """Combine the heads' losses with ``balancer`` (None: the weighted sum); after compile."""
        self.balancer = balancer
        if balancer is not None:
            balancer.prepare(self)

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
        return self.balanced_loss(y, y_pred, sample_weight, training)[0]

    def balanced_loss(self, y, y_pred, sample_weight=None, training=True):
        """This replica's share of the total loss, and the heads' weighted losses over the
        whole batch (empty without a balancer). Logs the terms, and the weights in training."""
        terms, total = self.loss_terms(y, y_pred, sample_weight)
        self.track_terms(terms, y_pred)
        whole = {}
        weights = {head: self.head_weights[head] for head in terms}
        if terms and self.balancer is not None:
            total, weights, whole = self.balance(terms, training)
        if training:
            self.weight_tracker.update_state(weights)
        return total + self.regularization(), whole

    def balance(self, terms, training):
        """The balancer's total as this replica's share, each head's weight, and the weighted
        losses over the whole batch.

        The balancer sees the heads' weighted losses over the whole batch and returns its
        total of them and the derivative of that total by each loss. This replica's share is
        ``sum_k w_k L_k`` over its own rows plus the rest of the total (what depends on the
        balancer's own variables) divided by the replicas: shares that add up to the total
        and whose gradients add up to the total's gradient.
        """
        heads = list(terms)
        local = [self.head_weights[head] * terms[head] for head in heads]
        summed = ops.stop_gradient(sum_over_replicas(ops.stack(local)))
        whole = {head: summed[i] for i, head in enumerate(heads)}
        total, weights = self.balancer.total(whole, self, training)
        weights = {head: ops.stop_gradient(ops.cast(weights[head], "float32")) for head in heads}
        own = sum(weights[head] * value for head, value in zip(heads, local, strict=True))
        rest = total - sum(weights[head] * whole[head] for head in heads)
        shares = {head: weights[head] * self.head_weights[head] for head in heads}
        return own + rest / replica_count(), shares, whole

    def whole_losses(self, terms, weighted=True):
        """The heads' (weighted) losses over the whole batch, without gradient."""
        heads = list(terms)
        values = [self.head_weights[h] * terms[h] if weighted else terms[h] for h in heads]
        summed = ops.stop_gradient(sum_over_replicas(ops.stack(values)))
        return {head: summed[i] for i, head in enumerate(heads)}

    def track_terms(self, terms, y_pred):
        """Log each term as ``<head>_loss``, a mean over samples."""
        # The number of rows in this batch (the last one may be short): each term's tracker
        # weighs the batch by it, as Keras' own "loss" tracker does; a replica's share of a
        # term times the replicas is its mean over the rows of that replica's part.
        batch = ops.shape(next(iter(self.by_head(y_pred, "y_pred").values())))[0]
        replicas = replica_count()
        self.term_tracker.update_state(
            {head: value * replicas for head, value in terms.items()}, sample_weight=batch
        )

    def track_loss(self, loss, x):
        """Log ``loss`` (this replica's share) as Keras' own step does (custom steps)."""
        batch = ops.shape(next(i for i in keras.tree.flatten(x) if i is not None))[0]
        tracker = next(m for m in self.metrics if m.name == "loss")
        tracker.update_state(loss * replica_count(), sample_weight=batch)

    def replicas(self):
        """How many replicas train at once (see ``replica_count``)."""
        return replica_count()

    def sum_over_replicas(self, value):
        """``value`` summed over the replicas (see ``sum_over_replicas``)."""
        return sum_over_replicas(value)

    def regularization(self):
        """The layers' regularization penalties, as this replica's share."""
        if not self.losses:
            return 0.0
        return sum(ops.sum(loss) for loss in self.losses) / replica_count()

    def train_step(self, data):
        balancer = self.balancer
        if balancer is None or not balancer.own_step:
            return super().train_step(data)
        if hasattr(balancer, "train_step"):  # gradient-based: the balancer's own step
            return balancer.train_step(self, data)
        # Keras' step, plus the balancer's own variables (the optimizer was built for them too)
        # and its work after the step.
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss, before = self.balanced_loss(y, y_pred, sample_weight, training=True)
            self.track_loss(loss, x)
            scaled = self.optimizer.scale_loss(loss)
        variables = list(self.trainable_variables) + balancer.trainable
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        balancer.after_step(self, x, y, sample_weight, before)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        # Weights are logged for training steps only: no val_weight_<head>.
        logs = super().test_step(data)
        weights = set(self.weight_tracker.keys)
        return {key: value for key, value in logs.items() if key not in weights}

    @property
    def metrics(self):
        # Report only the heads that have a term.
        seen = getattr(self, "terms_seen", ())
        for tracker in (getattr(self, "term_tracker", None), getattr(self, "weight_tracker", None)):
            if tracker is not None:
                tracker.shown = tuple(seen)
        if not seen:
            hidden = {
                id(getattr(self, "term_tracker", None)),
                id(getattr(self, "weight_tracker", None)),
            }
            return [m for m in super().metrics if id(m) not in hidden]
        return super().metrics


def loss_values(loss, y_true, y_pred):
    """What a Keras loss object computes before its reduction: its ``call`` on tensors of its
    dtype, as ``loss(y_true, y_pred)`` does first (a scalar or one value per sample)."""
    y_true = ops.convert_to_tensor(y_true, dtype=loss.dtype)
    y_pred = ops.convert_to_tensor(y_pred, dtype=loss.dtype)
    return loss.call(y_true, y_pred)


@keras.saving.register_keras_serializable(package="exported")
class HeadLossModel(MultiHeadModel):
    """Functional model trained by one Keras loss per head: ``sum(weight * head loss)``.

    Compile it as usual with dicts keyed by head name: ``compile(loss={head: loss},
    loss_weights={head: weight}, ...)``. A head whose loss is ``None`` is not trained. Each
    loss is averaged over the head's labelled rows (sample weight not 0), as Keras'
    ``"mean_with_sample_weight"`` reduction does.
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
        self.head_weights.assign(self.loss_weights)
        self.terms_seen = tuple(k for k, v in self.head_losses.items() if v is not None)
        super().compile(optimizer=optimizer, **kwargs)
        self.loss = dict(self.head_losses)

    def loss_terms(self, y, y_pred, sample_weight=None):
        y_true = self.by_head(y, "y")
        preds = self.by_head(y_pred, "y_pred")
        weights = {} if sample_weight is None else self.by_head(sample_weight, "sample_weight")
        terms = {
            head: reduce_term(loss_values(loss, y_true[head], preds[head]), weights.get(head))
            for head, loss in self.head_losses.items()
            if loss is not None
        }
        total = sum(self.head_weights[head] * value for head, value in terms.items())
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


def build_model():
    """The functional model; its outputs are a dict keyed by head name."""
    # Inputs
    x_ = keras.Input(shape=(3,), dtype="float32", name="x")
    # Shared trunk: every head reads features computed here
    hidden = keras.layers.Dense(units=4, activation="relu", use_bias=True, name="hidden")(x_)
    # Head "size". Each head ends in a layer named after the head: Keras names
    # the head's output, loss and logs after that layer.
    size = keras.layers.Dense(1, activation="linear", name="size")(hidden)
    # Head "kind"
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(hidden)
    inputs = {"x": x_}
    # A dict of outputs makes every head addressable by name: losses, loss weights,
    # metrics, targets and logs are all keyed by these names, never by position.
    outputs = {"size": size, "kind": kind}
    return HeadLossModel(inputs=inputs, outputs=outputs, name="tiny")


def compile_model(model):
    """One loss per head; the total loss is the sum of weight * head loss."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        # Dicts keyed by head name: Keras matches them to the outputs by name.
        # A list would be matched by position, and a single loss would be
        # copied to every head. None leaves a head untrained.
        loss={
            "size": keras.losses.MeanSquaredError(reduction=MASKED_MEAN),
            "kind": keras.losses.SparseCategoricalCrossentropy(
                from_logits=False, reduction=MASKED_MEAN
            ),
        },
        loss_weights={"size": 1.0, "kind": 1.0},
        # Weighted metrics: rows without a label (weight 0) count in no metric.
        weighted_metrics={
            "size": head_metrics([], logits=True),
            "kind": head_metrics([], logits=False),
        },
    )


def history_columns(history, heads):
    """``loss``, ``<head>_loss``…, ``val_loss``, ``val_<head>_loss``…, then the other keys."""
    train = ["loss", *(f"{head}_loss" for head in heads)]
    ordered = [key for key in [*train, *(f"val_{key}" for key in train)] if key in history]
    rest = [key for key in history if key not in ordered]
    rest.sort(key=lambda key: key.startswith("val_"))
    return ordered + rest


def history_csv(history, heads):
    """The history as CSV text; a column shorter than the others leaves its last cells empty."""
    columns = history_columns(history, heads)
    rows = max((len(history[column]) for column in columns), default=0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *columns])
    for i in range(rows):
        cells = [repr(float(history[c][i])) if i < len(history[c]) else "" for c in columns]
        writer.writerow([i + 1, *cells])
    return buffer.getvalue()


class HeadLossLogger(keras.callbacks.Callback):
    """Prints the total loss and each head's own (unweighted) loss after every epoch."""

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        cells = [f"{key} {logs[key]:.4f}" for key in LOG_KEYS if key in logs]
        print(f"epoch {epoch + 1}/{EPOCHS}: " + "  ".join(cells), flush=True)


def main(out_dir):
    """Load the data, build and compile the model, train it, write the results."""
    out_dir.mkdir(parents=True, exist_ok=True)
    x, y = load_data()
    # Seeds Python, NumPy and TensorFlow: initial weights and shuffling repeat.
    keras.utils.set_random_seed(SEED)
    y, weights = mask_missing(y, CLASSIFICATION_HEADS, ONE_HOT_HEADS)
    y = prepare_targets(y)
    # Heads that got a placeholder target weigh 1, like labelled rows.
    weights = {name: weights.get(name, np.ones(len(y[name]), "float32")) for name in y}
    x_train, x_val = split_arrays(x, VALIDATION_SPLIT, SEED)
    y_train, y_val = split_arrays(y, VALIDATION_SPLIT, SEED)
    w_train, w_val = split_arrays(weights, VALIDATION_SPLIT, SEED)
    if needed_weights(weights) is None:  # no label missing: nothing to mask
        w_train = w_val = None
    validation = None if x_val is None else (x_val, y_val)
    if validation is not None and w_val is not None:
        validation = (x_val, y_val, w_val)
    model = build_model()
    compile_model(model)
    callbacks = [HeadLossLogger()]
    # y and the sample weights are dicts keyed by head name, like the outputs.
    batches = epoch_batches(x_train, y_train, w_train, BATCH_SIZE, SEED, shuffle=SHUFFLE)
    history = model.fit(
        batches,  # a new order every epoch (fit(shuffle=True) repeats one when seeded)
        validation_data=validation,
        validation_batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        callbacks=callbacks,
        verbose=0,
    )
    history_text = history_csv(history.history, LOSS_HEADS)
    (out_dir / "history.csv").write_text(history_text, encoding="utf-8")
    model.save(out_dir / "model.keras")
    print(f"Wrote {out_dir / 'history.csv'} and {out_dir / 'model.keras'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
