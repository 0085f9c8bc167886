"""Per-head losses: the masked reduction, user functions as Keras losses, logit metrics."""

import keras

#: Losses average over the rows whose sample weight is non-zero: rows without a label for a
#: head (weight 0) count for nothing, not even in the divisor.
MASKED_MEAN = "mean_with_sample_weight"

#: Metrics whose threshold assumes probabilities, rebuilt for heads that output logits.
LOGIT_METRICS = {
    "binary_accuracy": lambda: keras.metrics.BinaryAccuracy(threshold=0.0),
    "auc": lambda: keras.metrics.AUC(from_logits=True, name="auc"),
    "precision": lambda: keras.metrics.Precision(thresholds=0.0, name="precision"),
    "recall": lambda: keras.metrics.Recall(thresholds=0.0, name="recall"),
}

#: Head name -> a function that returns that head's ``loss(y_true, y_pred)``.
CUSTOM_LOSSES = {}


def head_metrics(metrics, logits):
    """A head's metrics as compile() takes them; threshold metrics adapted to logit outputs."""
    return [LOGIT_METRICS[m]() if logits and m in LOGIT_METRICS else m for m in metrics]


class HeadLoss(keras.losses.Loss):
    """A plain ``loss(y_true, y_pred)`` function as a Keras loss for one head.

    Keras calls it once per step with this head's targets and predictions only, and averages
    what it returns (a scalar, or one value per sample) over the head's labelled rows. The
    head name is saved with the model, so a saved model reloads where the function is defined.
    """

    def __init__(self, head, reduction=MASKED_MEAN, **kwargs):
        super().__init__(reduction=reduction, **kwargs)
        self.head = head
        self.fn = self.make_function()

    def make_function(self):
        """The head's loss function, from ``CUSTOM_LOSSES``."""
        return CUSTOM_LOSSES[self.head]()

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "head": self.head}
