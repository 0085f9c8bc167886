"""How responsive the GUI stays while the app trains, and what the GUI costs in throughput.

Trains the demo project (resources/examples/bbox_classification.json, as shipped: 2048 samples,
batch 32) through the app's TrainingPanel / TrainingWorker while a 10 ms QTimer on the GUI
thread records the gaps between its ticks, and trains the same model on the same data with a
bare ``model.fit`` in the same process. Each app run sits between two bare runs (``--rounds``
app runs, ``--rounds + 1`` bare runs); the throughput ratio of an app run is its median epoch
throughput (first epoch left out) over the mean of the two bare runs beside it, which cancels
the drift in the machine's speed. Prints p50 / p99 / max gap over the app runs (each after its
first epoch), every run's throughput, and the median ratio.

With ``--heads N`` the demo's two heads are replaced by N heads on the demo's quantities (half
regression on the box size, centre or box, half classification: shape class, round, hollow;
each with its task's usual metric), so the GUI draws N loss curves, N metric curves and their
validation curves, and fills the head table and the heatmap every epoch.

With ``--lower-priority`` the app runs as with Edit ▸ Lower background threads' priority while
training on (the training process at niceness 10); the preference is set in a throwaway
settings folder, never in yours.

    python benchmarks/ui_responsiveness.py [--samples 2048] [--epochs 3] [--rounds 4]
                                           [--heads 40] [--lower-priority]

Targets: max gap <= 100 ms and p99 <= 16 ms after the first epoch; ratio >= 0.97.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import HeadLoss, HeadSpec, Project  # noqa: E402
from mogui.engine.data import load_data  # noqa: E402
from mogui.engine.data.dataset import Dataset  # noqa: E402
from mogui.engine.data.targets import prepare_targets  # noqa: E402
from mogui.engine.losses import make_training_model  # noqa: E402
from mogui.qt.document import ProjectDocument  # noqa: E402
from mogui.qt.settings import set_lower_priority_enabled  # noqa: E402
from mogui.qt.training_panel import TrainingPanel  # noqa: E402


class _EpochClock(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self.ends:
            self.ends.append(time.perf_counter())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.ends.append(time.perf_counter())


#: (demo quantity, task, units, metric) the many-heads variant cycles through.
REGRESSION = (("size", "regression", 1, "mae"), ("center", "regression", 2, "mae"),
              ("bbox", "regression", 4, "mae"))
CLASSIFICATION = (("classification", "multiclass", 6, "sparse_categorical_accuracy"),
                  ("is_round", "binary", 1, "binary_accuracy"),
                  ("is_hollow", "binary", 1, "binary_accuracy"))


def with_heads(project: Project, count: int) -> Project:
    """``project`` (the demo) with ``count`` heads on demo quantities, alternating tasks."""
    heads, targets = [], {}
    for i in range(count):
        quantity, task, units, metric = (REGRESSION, CLASSIFICATION)[i % 2][(i // 2) % 3]
        name = f"{quantity}_{i // 2}"
        heads.append(HeadSpec(name=name, task=task, units=units,
                              loss=HeadLoss(metrics=[metric])))
        targets[name] = quantity
    project.heads = heads
    project.data.targets = targets
    project.name = f"Shapes: {count} heads"
    return project


def epoch_rates(ends: list[float], samples: int) -> list[float]:
    """Samples per second of each epoch after the first, from the times the epochs ended."""
    return [samples / (b - a) for a, b in zip(ends[1:], ends[2:], strict=False)]


def bare_fit_rates(project: Project, data: Dataset) -> list[float]:
    """Epoch throughputs (samples/s) of a plain ``model.fit``, epochs after the first."""
    settings = project.training
    keras.utils.set_random_seed(settings.seed)
    targets = prepare_targets(project, data.y)
    train, val = Dataset(x=data.x, y=targets).split(settings.validation_split, settings.seed)
    model = make_training_model(project)
    clock = _EpochClock()
    model.fit(train.x, train.y, validation_data=(val.x, val.y) if val is not None else None,
              batch_size=settings.batch_size, epochs=settings.epochs,
              shuffle=settings.shuffle, callbacks=[clock], verbose=0)
    return epoch_rates(clock.ends, train.num_samples)


def app_run(app: QApplication, project: Project,
            data: Dataset) -> tuple[list[float], list[float]]:
    """Gaps (ms) of a 10 ms GUI timer after the first epoch, and the app's epoch throughputs."""
    panel = TrainingPanel(ProjectDocument(project))
    panel.resize(1200, 800)
    panel.show()
    gaps: list[float] = []
    epoch_ends: list[float] = []
    state = {"record": False, "train_samples": 0}
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        if state["record"]:
            gaps.append((now - last[0]) / 1e6)
        last[0] = now

    def on_started(event) -> None:
        state["train_samples"] = event.train_samples
        epoch_ends.append(time.perf_counter())

    def on_epoch(_event) -> None:
        epoch_ends.append(time.perf_counter())
        state["record"] = True

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    ticker.start()
    panel.worker.started.connect(on_started)
    panel.worker.epoch_ended.connect(on_epoch)
    panel.worker.running_changed.connect(lambda running: running or app.quit())
    panel.worker.failed.connect(lambda e: print("training failed:", e.message))
    QTimer.singleShot(0, lambda: panel.worker.start(project, data))
    app.exec()
    ticker.stop()
    panel.close()
    if panel.worker.last_result is None or len(epoch_ends) < 3:
        raise SystemExit("training did not finish")
    return gaps, epoch_rates(epoch_ends, state["train_samples"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None,
                        help="demo samples (default: the demo's own, 2048)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (at least 3)")
    parser.add_argument("--rounds", type=int, default=4, help="app runs, each between bare runs")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--heads", type=int, default=None,
                        help="train this many heads instead of the demo's two (e.g. 40)")
    parser.add_argument("--lower-priority", action="store_true",
                        help="train at a lower OS priority than the window (the app's option)")
    args = parser.parse_args()
    os.environ["MOGUI_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="mogui-bench-settings-")
    set_lower_priority_enabled(args.lower_priority)

    app = QApplication.instance() or QApplication([])
    project = load_example("bbox_classification")
    if args.heads:
        project = with_heads(project, args.heads)
    if args.samples:
        project.data.samples = args.samples
    if args.batch_size:
        project.training.batch_size = args.batch_size
    project.training.epochs = max(3, args.epochs)
    data = load_data(project)

    gaps: list[float] = []
    app_runs: list[float] = []  # median epoch samples/s of each app run
    bare_runs: list[float] = []  # the same for the bare runs before, between and after them
    bare_runs.append(float(np.median(bare_fit_rates(project, data))))
    for _ in range(args.rounds):
        round_gaps, rates = app_run(app, project, data)
        gaps += round_gaps
        app_runs.append(float(np.median(rates)))
        bare_runs.append(float(np.median(bare_fit_rates(project, data))))
    # Each app run against the mean of the bare runs just before and after it: the machine's
    # speed drifts by more than the effect measured, and this pairing cancels the drift.
    ratios = [app / ((before + after) / 2)
              for app, before, after in zip(app_runs, bare_runs, bare_runs[1:], strict=False)]

    gap = np.asarray(gaps)
    print(f"demo: {len(project.heads)} heads, {project.data.samples} samples of "
          f"{project.data.image_size}x{project.data.image_size}, "
          f"batch {project.training.batch_size}, "
          f"{project.training.epochs} epochs per run, {args.rounds} app runs between "
          f"{args.rounds + 1} bare runs, training priority "
          f"{'lowered' if args.lower_priority else 'as the window'}")
    print(f"GUI timer gaps after the first epoch ({len(gap)} ticks of 10 ms): "
          f"p50 {np.percentile(gap, 50):.1f} ms, p99 {np.percentile(gap, 99):.1f} ms, "
          f"max {gap.max():.1f} ms")
    order = [f"bare {bare_runs[0]:,.0f}"]
    for app_rate, bare_rate in zip(app_runs, bare_runs[1:], strict=True):
        order += [f"app {app_rate:,.0f}", f"bare {bare_rate:,.0f}"]
    print(f"samples/s (median epoch after the first) of each run, in order: {', '.join(order)}")
    print(f"throughput ratio, app / bare on either side: median {np.median(ratios):.3f} "
          f"(runs: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
