"""Loss weights edited while a run in a child process is paused: the command crosses the pipe
as ``("loss_weights", {head: weight})``, applies before the next batch and comes back as a
:class:`LossWeightsChanged` event; a bad one is refused without stopping the run."""

from __future__ import annotations

import pytest

from mogui.core.events import BatchEnded, EpochEnded, LossWeightsChanged, StateChanged
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
    demo_project.training.epochs = 50  # stopped below, once the change is seen in an epoch
    child = ChildProcess()
    child.start_job("train", (TrainRequest(demo_project, None, tmp_path / "run", None),))
    events: list[object] = []
    applied: list[LossWeightsChanged] = []

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, BatchEnded) and len(events) < 3:
            child.command("pause")  # holds the run after the batch running when it arrives
        elif event == StateChanged("paused"):
            child.command(("loss_weights", {"bbox": -2.0}))  # refused in the child
            child.command(("loss_weights", {"bbox": 0.25}))
            child.command("resume")
        elif isinstance(event, LossWeightsChanged):
            applied.append(event)
        elif isinstance(event, EpochEnded) and applied and event.epoch > applied[0].epoch:
            child.command("stop")

    summary = run_to_end(child, on_event)
    child.close()
    paused = events.index(StateChanged("paused"))
    held = [e for e in events[:paused] if isinstance(e, BatchEnded)][-1]
    steps = held.steps_per_epoch
    epoch, at = divmod(held.epoch * steps + held.batch + 1, steps)
    changes = [e for e in events if isinstance(e, LossWeightsChanged)]
    assert changes == [LossWeightsChanged(epoch=epoch, batch=at, weights={"bbox": 0.25})]
    before = demo_project.heads[0].loss.weight
    weights = summary.history["weight_bbox"]
    assert weights[:epoch] == pytest.approx([before] * epoch)
    assert weights[epoch:epoch + 2] == pytest.approx(
        [(at * before + (steps - at) * 0.25) / steps, 0.25])
    assert summary.history["weight_classification"] == pytest.approx(
        [demo_project.heads[1].loss.weight] * len(weights))

