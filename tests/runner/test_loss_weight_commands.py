"""Loss weights edited while a run in a child process is paused: the command crosses the pipe
as ``("loss_weights", {head: weight})``, applies before the next batch and comes back as a
:class:`LossWeightsChanged` event; a bad one is refused without stopping the run."""

from __future__ import annotations

import pytest

from mogui.core.events import LossWeightsChanged, StateChanged
from mogui.core.jobs import JobHandle
from mogui.runner import ChildProcess, run_to_end
from mogui.runner.requests import TrainRequest


class _Handle(JobHandle):
    def report(self, event: object) -> None:  # pragma: no cover - never called here
        pass


def test_commands_carry_a_payload_to_their_callbacks():
    handle = _Handle()
    received: list[object] = []
    handle.on_command("loss_weights", received.append)
    handle.on_command("pause", lambda: received.append("paused"))
    handle.deliver("loss_weights", {"bbox": 0.5})
    handle.deliver("pause")
    assert received == [{"bbox": 0.5}, "paused"]


@pytest.mark.slow
def test_weights_sent_to_a_paused_child_apply_before_the_next_batch(demo_project, tmp_path):
    demo_project.training.epochs = 2
    child = ChildProcess()
    child.start_job("train", (TrainRequest(demo_project, None, tmp_path / "run", None),))
    child.command("pause")  # holds the run before its first batch
    events: list[object] = []

    def on_event(event: object) -> None:
        events.append(event)
        if event == StateChanged("paused"):
            child.command(("loss_weights", {"bbox": -2.0}))  # refused in the child
            child.command(("loss_weights", {"bbox": 0.25}))
            child.command("resume")

    summary = run_to_end(child, on_event)
    child.close()
    changes = [e for e in events if isinstance(e, LossWeightsChanged)]
    assert changes == [LossWeightsChanged(epoch=0, batch=0, weights={"bbox": 0.25})]
    assert summary.history["weight_bbox"] == pytest.approx([0.25, 0.25])
    assert summary.history["weight_classification"] == pytest.approx([1.5, 1.5])
    assert summary.epochs_run == 2 and not summary.stopped
