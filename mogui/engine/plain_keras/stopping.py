"""Early stopping and best checkpoints that watch several logged values at once.

A criterion compares epochs by its watched values, each ``(name, direction, weight, tolerance)``
with direction ``"min"`` when lower is better and ``"max"`` when higher is. Its kinds:

- ``"weighted"``: the weighted sum of the values, a ``"max"`` value counted negatively (so the
  sum is better lower); an epoch improves when its sum is below the best by more than
  ``min_delta``.
- ``"lexicographic"``: the first value decides when two epochs differ by more than its
  tolerance (``None``: ``min_delta``), else the next value does; within every tolerance, the
  epoch does not improve.
- ``"all_heads"``: each value on its own, improving when it is better than its own best by more
  than ``min_delta``; training stops when none has improved for ``patience`` epochs. The best
  epoch (restored, checkpointed) is the one with the lowest weighted sum; a tie keeps the
  earlier.

An epoch where a value it needs is NaN or infinite never improves. Patience counts as in Keras'
``EarlyStopping``: training stops after the epoch that ends ``patience`` epochs without an
improvement, never after the first epoch. Epochs are numbered from 0 as Keras numbers them.
"""

import math

import keras

#: The kinds of criterion, and how each compares epochs.
CRITERIA = ("weighted", "lexicographic", "all_heads")


class Criterion:
    """Tells which epoch is the best so far by several logged values (see the module)."""

    def __init__(self, kind, watched, min_delta=0.0):
        if kind not in CRITERIA:
            raise ValueError(f"Criterion kind must be one of {CRITERIA}, got {kind!r}")
        self.kind = kind
        self.watched = [tuple(item) for item in watched]
        self.min_delta = abs(min_delta)
        self.reset()

    def reset(self):
        """Forget every epoch seen (a new ``fit``)."""
        self.best_epoch = None
        self.best_score = None
        self.best_values = None
        self.value_best = [None] * len(self.watched)
        self.value_epoch = [None] * len(self.watched)

    def signed(self, logs):
        """The watched values of ``logs``, each negated when higher is better."""
        values = []
        for name, direction, _weight, _tolerance in self.watched:
            if name not in logs:
                raise KeyError(
                    f"The training logs hold no {name!r}, which the stopping criterion "
                    f"watches; they hold: {', '.join(sorted(logs))}"
                )
            value = float(logs[name])
            values.append(value if direction == "min" else -value)
        return values

    def score(self, values):
        """The weighted sum of signed values (values of weight 0 left out)."""
        terms = [
            weight * value
            for (_, _, weight, _), value in zip(self.watched, values, strict=True)
            if weight
        ]
        return sum(terms)

    def _lexicographic_better(self, values):
        for (_, _, _, tolerance), value, best in zip(
            self.watched, values, self.best_values, strict=True
        ):
            allowed = self.min_delta if tolerance is None else tolerance
            if value < best - allowed:
                return True
            if value > best + allowed:
                return False
        return False

    def update(self, epoch, logs):
        """Take an epoch's logs; True when the epoch is the new best."""
        values = self.signed(logs)
        if self.kind == "all_heads":
            for i, value in enumerate(values):
                best = self.value_best[i]
                if math.isfinite(value) and (best is None or value < best - self.min_delta):
                    self.value_best[i], self.value_epoch[i] = value, epoch
        score = self.score(values)
        if self.kind == "lexicographic":
            usable = all(math.isfinite(value) for value in values)
        else:  # values of weight 0 play no part
            usable = math.isfinite(score)
        if not usable:
            better = False
        elif self.best_values is None:
            better = True
        elif self.kind == "lexicographic":
            better = self._lexicographic_better(values)
        else:
            delta = self.min_delta if self.kind == "weighted" else 0.0
            better = score < self.best_score - delta
        if better:
            self.best_epoch, self.best_score, self.best_values = epoch, score, values
        return better

    def waited(self, epoch):
        """Epochs up to ``epoch`` since the last improvement (all_heads: of any value)."""
        marks = self.value_epoch if self.kind == "all_heads" else [self.best_epoch]
        return min(epoch + 1 if mark is None else epoch - mark for mark in marks)

    def describe(self):
        """The criterion in words: ``the weighted sum 1 × val_a_loss + 0.5 × val_b_loss``."""
        names = [name for name, *_ in self.watched]
        if self.kind == "lexicographic":
            return "the values in order " + ", ".join(names)
        terms = [
            f"{'-' if direction == 'max' else '+'} {weight:g} × {name}"
            for name, direction, weight, _ in self.watched
        ]
        total = " ".join(terms).removeprefix("+ ")
        return f"the weighted sum {total}" if self.kind == "weighted" else f"the sum {total}"

    def reason(self, patience):
        """Why training stopped, for :func:`stop_summary`."""
        if self.kind != "all_heads":
            since = "no epoch" if self.best_epoch is None else f"epoch {self.best_epoch + 1}"
            return f"{self.describe()} had not improved for {patience} epochs (best: {since})"
        last = [
            f"{name} {'never' if epoch is None else f'at epoch {epoch + 1}'}"
            for (name, *_), epoch in zip(self.watched, self.value_epoch, strict=True)
        ]
        return f"no head had improved for {patience} epochs (last improved: {', '.join(last)})"


def stop_summary(stopped_epoch, reason, best_epoch, restored, best_by=""):
    """One sentence on what early stopping did; epochs as Keras numbers them (from 0)."""
    if stopped_epoch is None:
        text = "Early stopping did not end training"
    else:
        text = f"Early stopping ended training after epoch {stopped_epoch + 1}: {reason}"
    if best_epoch is None:
        return text + "; no epoch had a usable value, so the last weights were kept."
    if restored:
        return text + f"; the weights of epoch {best_epoch + 1}, the best{best_by}, were restored."
    return text + f"; the best epoch{best_by} was {best_epoch + 1} (its weights were not restored)."


class CriterionEarlyStopping(keras.callbacks.Callback):
    """Stops training when ``criterion`` has not improved for ``patience`` epochs (all_heads:
    when none of its values has). With ``restore_best_weights``, the model ends training with
    the weights of the best epoch, as Keras' ``EarlyStopping`` does."""

    def __init__(self, criterion, patience, restore_best_weights=False):
        super().__init__()
        self.criterion = criterion
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.stopped_epoch = None
        self.best_weights = None
        self.restored_epoch = None

    def on_train_begin(self, logs=None):
        self.criterion.reset()
        self.stopped_epoch = None
        self.best_weights = None
        self.restored_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if self.criterion.update(epoch, logs or {}) and self.restore_best_weights:
            self.best_weights = self.model.get_weights()
        if epoch > 0 and self.criterion.waited(epoch) >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self):
        """Give the model the best epoch's weights (when asked to and there is one)."""
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            self.restored_epoch = self.criterion.best_epoch

    def summary(self):
        """What early stopping did, in one sentence."""
        best_by = " by that sum" if self.criterion.kind == "all_heads" else ""
        return stop_summary(
            self.stopped_epoch,
            self.criterion.reason(self.patience),
            self.criterion.best_epoch,
            self.restored_epoch is not None,
            best_by,
        )


class CriterionCheckpoint(keras.callbacks.Callback):
    """Saves the model to ``path`` after every epoch that is the best so far by ``criterion``."""

    def __init__(self, path, criterion):
        super().__init__()
        self.path = str(path)
        self.criterion = criterion
        self.saved_epoch = None

    def on_train_begin(self, logs=None):
        self.criterion.reset()
        self.saved_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if self.criterion.update(epoch, logs or {}):
            self.model.save(self.path)
            self.saved_epoch = epoch
