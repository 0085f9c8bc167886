"""``mogui train`` compares each head's loss with predicting the training mean, for the
weights the model ends with: the last epoch's, or the restored epoch's."""

from __future__ import annotations

from mogui.cli_train import _print_baseline
from tests.engine.loss_models import head, tiny_project

HISTORY = {"val_a_loss": [4.0, 2.0, 3.0, 5.0], "val_b_loss": [9.0, 6.0, 7.0, 8.0],
           "val_loss": [13.0, 8.0, 10.0, 13.0]}
BASELINE = {"a": 8.0, "b": 12.0}


def _printed(capsys, restored_epoch):  # noqa: ANN001, ANN202
    project = tiny_project([head("a", kind="mse"), head("b", kind="mse")])
    _print_baseline(project, BASELINE, HISTORY, True, restored_epoch)
    return capsys.readouterr().out.splitlines()


def test_without_restored_weights_the_last_epoch_is_compared(capsys):
    assert _printed(capsys, None) == [
        "Final validation loss vs predicting the training mean:",
        "  a: 5.0000 vs 8.0000 (62.5% of the baseline)",
        "  b: 8.0000 vs 12.0000 (66.7% of the baseline)",
    ]


def test_restored_weights_are_compared_at_their_epoch(capsys):
    assert _printed(capsys, 2) == [
        "Epoch 2's (the weights the model holds) validation loss vs predicting the training "
        "mean:",
        "  a: 2.0000 vs 8.0000 (25.0% of the baseline)",
        "  b: 6.0000 vs 12.0000 (50.0% of the baseline)",
    ]


def test_weights_restored_from_the_last_epoch_read_as_final(capsys):
    assert _printed(capsys, 4)[0] == "Final validation loss vs predicting the training mean:"
