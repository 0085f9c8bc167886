"""What each way of balancing the heads costs per training step, relative to fixed weights.

Builds the demo project (``bbox_classification``: a three-conv trunk, a box head and a class
head) once per method, as mogui trains it (:func:`mogui.engine.losses.make_training_model`),
traces each model's step, then times the methods in turns, one burst of steps each per round
(``train_on_batch`` on the same batches), in one process: every method sees the same machine
load. A figure is the median over the rounds of a burst's time per step; the ratio is that
time over ``equal``'s.

Prints a Markdown table (the one in docs/balancing.md):

    python benchmarks/balancing_cost.py [--image-size 64] [--batch 32] [--steps 20]
                                        [--rounds 5] [--methods equal uw ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from mogui.core.balancing import BALANCING_METHODS  # noqa: E402
from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import Balancing, Project  # noqa: E402
from mogui.engine.data import load_data, prepare_masked_targets  # noqa: E402
from mogui.engine.losses import make_training_model  # noqa: E402
from mogui.engine.training import device_description  # noqa: E402


def demo(image_size: int, batch: int, steps: int) -> Project:
    project = load_example("bbox_classification")
    project.data.samples = batch * steps
    project.data.image_size = image_size
    project.inputs[0].shape = [image_size, image_size, 1]
    project.training.batch_size = batch
    return project


def batches(project: Project) -> list[tuple[dict, dict]]:
    """The demo's rows in fixed batches, as tensors: every burst trains on the same data."""
    data = load_data(project)
    y, _ = prepare_masked_targets(project, data.y)
    rows = tf.data.Dataset.from_tensor_slices((data.x, y))
    return list(rows.batch(project.training.batch_size))


def burst(model: keras.Model, data: list[tuple[dict, dict]]) -> None:
    """One training step per batch (``train_on_batch`` waits for each step to end)."""
    for x, y in data:
        model.train_on_batch(x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="steps per burst")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=list(BALANCING_METHODS),
                        choices=list(BALANCING_METHODS))
    args = parser.parse_args()
    methods = list(dict.fromkeys(["equal", *args.methods]))
    project = demo(args.image_size, args.batch, args.steps)
    data = batches(project)
    models = {}
    for method in methods:
        project.training.balancing = Balancing(method=method)
        keras.utils.set_random_seed(0)
        model = make_training_model(project)
        burst(model, data[:2])  # trace the step
        models[method] = model
    times: dict[str, list[float]] = {method: [] for method in methods}
    for _ in range(args.rounds):
        for method, model in models.items():
            start = time.perf_counter()
            burst(model, data)
            times[method].append((time.perf_counter() - start) / len(data))
    base = statistics.median(times["equal"])
    print(f"Demo project ({args.image_size}x{args.image_size} images, batch {args.batch}, "
          f"2 heads) on {device_description()}; median of {args.rounds} rounds of "
          f"{args.steps} steps.\n")
    print("| method | family | ms per step | × equal |")
    print("|---|---|---|---|")
    for method in methods:
        step = statistics.median(times[method])
        kind = BALANCING_METHODS[method].kind
        print(f"| {method} | {kind} | {1000 * step:.1f} | {step / base:.2f} |")


if __name__ == "__main__":
    main()
