"""What gradient diagnostics cost per training step at the default (automatic) sampling.

Trains each case with :func:`mogui.engine.training.run_training` (what the app's and the
CLI's child process run) with ``training.gradient_diagnostics`` on and off, in alternating
rounds in one process, so both see the same machine load. A step's time is the interval
between two batch reports of one epoch (it includes a sample taken before that step); the
first epoch, which traces the graphs, and the validation between epochs are left out. A
run's figure is the mean over its steps (a mean, so the rare sampled steps count); each round
trains "off" then "on" back to back, and a case's ratio is the median over the rounds of "on"
over "off" (target: at most 1.10; the times shown are the medians). From it the script also
works out what one sample costs, in training steps, and the smallest interval that keeps the
cost to 10 %.

Cases: the demo project (``bbox_classification``: 64 x 64 images, a three-conv trunk, two
heads) and the demo with many heads (``tests/many_heads.py``: regression and classification
heads on the same trunk).

    python benchmarks/gradient_diagnostics.py [--heads 8 40] [--samples 2048]
                                              [--epochs 4] [--rounds 5] [--every N]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mogui.core.events import BatchEnded, GradientsSampled  # noqa: E402
from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import Project  # noqa: E402
from mogui.engine.data import load_data  # noqa: E402
from mogui.engine.training import device_description, run_training  # noqa: E402
from tests.many_heads import many_heads_project  # noqa: E402


def step_time(project: Project, data: object, diagnostics: bool, every: int | None
              ) -> tuple[float, int, int]:
    """Mean seconds per training step after the first epoch; the steps and samples counted."""
    project = project.model_copy(deep=True)
    project.training.gradient_diagnostics.enabled = diagnostics
    project.training.gradient_diagnostics.every = every
    last: dict[int, float] = {}
    intervals: list[float] = []
    samples = [0]

    def report(event: object) -> None:
        if isinstance(event, GradientsSampled) and event.epoch > 0 and event.batch > 0:
            samples[0] += 1
        if not isinstance(event, BatchEnded):
            return
        if event.epoch > 0 and event.epoch in last:
            intervals.append(event.elapsed - last[event.epoch])
        last[event.epoch] = event.elapsed

    run_training(project, data, report)
    return sum(intervals) / len(intervals), len(intervals), samples[0]


def compare(name: str, project: Project, rounds: int, every: int | None) -> None:
    data = load_data(project)
    on, off, ratios = [], [], []
    counted = (0, 0)
    for _ in range(rounds):  # pairs of runs back to back: a drift in machine load hits both
        off.append(step_time(project, data, False, every)[0])
        seconds, steps, samples = step_time(project, data, True, every)
        on.append(seconds)
        ratios.append(on[-1] / off[-1])
        counted = (steps, samples)
    ratio = statistics.median(ratios)
    heads = len(project.loss_heads())
    steps, samples = counted
    # What one sample costs, in training steps, and the interval that keeps it to 10 %.
    cost = max(ratio - 1.0, 0.0) * steps / max(samples, 1)
    print(f"| {name} | {heads} | {1000 * statistics.median(off):.1f} | "
          f"{1000 * statistics.median(on):.1f} | {ratio:.3f} | {samples} in {steps} | "
          f"{cost:.1f} | {max(1, math.ceil(cost / 0.10))} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heads", type=int, nargs="*", default=[8, 40],
                        help="head counts of the many-heads cases")
    parser.add_argument("--samples", type=int, default=2048, help="rows of demo data")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=None,
                        help="steps between samples (default: the automatic interval, "
                        "max(50, 3 x heads))")
    args = parser.parse_args()
    demo = load_example("bbox_classification")
    demo.data.samples = args.samples
    demo.training.epochs = args.epochs
    print(f"Steps of {demo.training.batch_size} rows, 64 x 64 images, {args.samples} rows "
          f"(validation 20 %), epochs 2–{args.epochs} of {args.rounds} rounds, "
          f"on {device_description()}; diagnostics every "
          f"{args.every or 'max(50, 3 x heads)'} steps.\n")
    print("| case | heads | ms per step, off | ms per step, on | ratio | samples in steps | "
          "a sample, in steps | every, for 10 % |")
    print("|---|---|---|---|---|---|---|---|")
    compare("demo", demo, args.rounds, args.every)
    for count in args.heads:
        project = many_heads_project(count, shrink=False)
        project.data.samples = args.samples
        project.training.epochs = args.epochs
        compare(f"demo, {count} heads", project, args.rounds, args.every)


if __name__ == "__main__":
    main()
