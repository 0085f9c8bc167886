"""Training throughput with many heads: mogui's engine against a bare ``model.fit``.

For 2, 8, 40 and 100 heads (half regression, half three-class; a 2x64 Dense trunk), trains the
same model on the same data two ways, alternating, in one process:

- **bare**: the functional model compiled with dicts of losses and weights, then
  ``model.fit(x, y, batch_size, shuffle=True)`` — plain Keras, no label masking;
- **mogui**: :func:`mogui.engine.training.run_training` on the project (what the app's and the
  CLI's child process run), optionally with some labels missing (``--missing``).

Each figure is the best steady-state epoch time (the first epoch, which traces the graph, is
left out); the ratio is bare time / mogui time, so 1.00 means as fast as plain Keras. Both the
wall-clock time and the process's CPU time are measured: on a machine that other work shares,
the CPU-time ratio is the steadier figure of the work each does per epoch.

    python benchmarks/many_heads.py [--heads 2 8 40 100] [--rows 32768] [--batch 64]
                                    [--epochs 3] [--rounds 2] [--missing 0.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mogui.core.events import EpochEnded  # noqa: E402
from mogui.core.project import HeadSpec, InputSpec, LayerSpec, Project  # noqa: E402
from mogui.engine.data import Dataset  # noqa: E402
from mogui.engine.losses.head_losses import make_head_loss  # noqa: E402
from mogui.engine.model import build_model  # noqa: E402
from mogui.engine.training import run_training  # noqa: E402

FEATURES = 16


def make_project(heads: int, batch: int, epochs: int) -> Project:
    specs = []
    for i in range(heads):
        if i % 2 == 0:
            specs.append(HeadSpec(name=f"r{i}", task="regression", units=1))
        else:
            specs.append(HeadSpec(name=f"c{i}", task="multiclass", units=3))
    return Project(
        name=f"{heads} heads",
        inputs=[InputSpec(name="x", shape=[FEATURES])],
        trunk=[LayerSpec(name="d1", kind="Dense", params={"units": 64, "activation": "relu"}),
               LayerSpec(name="d2", kind="Dense", params={"units": 64, "activation": "relu"})],
        heads=specs,
        training={"batch_size": batch, "epochs": epochs, "validation_split": 0.0,
                  "seed": 0, "shuffle": True},
        data={"kind": "npz", "path": "unused.npz"})


def make_data(project: Project, rows: int, missing: float) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, FEATURES)).astype("float32")
    y = {}
    for head in project.heads:
        if head.task == "regression":
            target = (x[:, :1] * rng.normal() + rng.normal(size=(rows, 1)) * 0.1)
            target = target.astype("float32")
            target[rng.random(rows) < missing] = np.nan
        else:
            target = rng.integers(0, 3, size=(rows, 1)).astype("int32")
            target[rng.random(rows) < missing] = -1
        y[head.name] = target
    return Dataset(x={"x": x}, y=y)


Times = tuple[float, float]  # (wall-clock s, CPU s)


def now() -> Times:
    return time.perf_counter(), time.process_time()


def best(ends: list[Times]) -> Times:
    """The shortest wall-clock and CPU time between consecutive epoch ends."""
    pairs = list(zip(ends, ends[1:], strict=False))
    return min(b[0] - a[0] for a, b in pairs), min(b[1] - a[1] for a, b in pairs)


class EpochTimes(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.ends: list[Times] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.ends.append(now())


def bare_epoch(project: Project, data: Dataset) -> Times:
    """Best steady epoch time of plain Keras: compile with dicts, fit arrays."""
    keras.utils.set_random_seed(0)
    model = build_model(project)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss={h.name: make_head_loss(h) for h in project.heads},
                  loss_weights={h.name: 1.0 for h in project.heads})
    y = {name: (np.nan_to_num(t, nan=0.0) if t.dtype.kind == "f" else np.maximum(t, 0))
         for name, t in data.y.items()}
    times = EpochTimes()
    model.fit(data.x, y, batch_size=project.training.batch_size,
              epochs=project.training.epochs, shuffle=True, verbose=0, callbacks=[times])
    return best(times.ends)  # from the end of epoch 1, which traces the graph


def mogui_epoch(project: Project, data: Dataset) -> Times:
    """Best steady epoch time of mogui's engine (epoch ends from its own events)."""
    ends: list[Times] = []

    def report(event: object) -> None:
        if isinstance(event, EpochEnded):
            ends.append(now())

    run_training(project, data, report)
    return best(ends)  # from the end of epoch 1, which traces the graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, nargs="+", default=[2, 8, 40, 100])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--missing", type=float, default=0.0,
                        help="fraction of labels missing per head (mogui only masks them)")
    args = parser.parse_args()
    print(f"{args.rows} rows, batch {args.batch}, {args.epochs} epochs per run, best of "
          f"{args.rounds} alternating rounds; missing labels: {args.missing:.0%}")
    print(f"{'heads':>5}  {'bare s/epoch':>12}  {'mogui s/epoch':>13}  {'ratio':>6}  "
          f"{'bare CPU s':>10}  {'mogui CPU s':>11}  {'CPU ratio':>9}")
    for heads in args.heads:
        project = make_project(heads, args.batch, args.epochs)
        data = make_data(project, args.rows, args.missing)
        bare, mogui = [], []
        for _ in range(args.rounds):  # alternate, so drifts in machine load hit both
            bare.append(bare_epoch(project, data))
            mogui.append(mogui_epoch(project, data))
        b, m = min(t[0] for t in bare), min(t[0] for t in mogui)
        bc, mc = min(t[1] for t in bare), min(t[1] for t in mogui)
        print(f"{heads:>5}  {b:>12.3f}  {m:>13.3f}  {b / m:>6.2f}  {bc:>10.3f}  {mc:>11.3f}  "
              f"{bc / mc:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
