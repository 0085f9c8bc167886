"""Early stopping on the total loss while the loss weights change: warned about, by cause."""

from __future__ import annotations

import json

from mogui.core.io import load_example, project_from_json
from mogui.core.weight_checks import total_loss_warnings


def _demo(**training: object) -> dict:
    data = json.loads(load_example("bbox_classification").to_json())
    data["training"].update(training)
    return data


def _warnings(data: dict) -> list[str]:
    return total_loss_warnings(project_from_json(json.dumps(data)))


def test_a_schedule_under_early_stopping_on_val_loss_is_warned_about():
    data = _demo(early_stopping={"enabled": True, "patience": 2})
    assert _warnings(data) == []  # fixed weights: the total is comparable
    data["heads"][1]["loss"]["schedule"] = {"kind": "linear_warmup", "params": {}}
    [warning] = _warnings(data)
    assert warning.startswith("early stopping watches val_loss, the weighted total")
    assert "the linear_warmup schedule of 'classification'" in warning
    assert "--stop-on all-heads" in warning
    data["training"]["checkpointing"] = {"enabled": True}
    assert len(_warnings(data)) == 2
    data["training"]["early_stopping"]["criterion"] = "all_heads"
    data["training"]["checkpointing"]["enabled"] = False
    assert _warnings(data) == []  # each head's own loss: no weighting involved


def test_loss_based_balancing_changes_the_total_and_gradient_based_does_not():
    data = _demo(early_stopping={"enabled": True}, balancing={"method": "dwa", "params": {}})
    [warning] = _warnings(data)
    assert "balancing 'dwa'" in warning
    data["training"]["balancing"] = {"method": "pcgrad", "params": {}}
    assert _warnings(data) == []
