"""How responsive the GUI stays while the app trains, and what the GUI costs in throughput.

Trains the demo project (resources/examples/bbox_classification.json) through the app's
TrainingPanel / TrainingWorker while a 10 ms QTimer on the GUI thread records the gaps between
its ticks, then trains the same model on the same data with a bare ``model.fit`` in the same
process. Prints p50 / p99 / max gap after the first epoch and the throughput ratio.

    python benchmarks/ui_responsiveness.py [--samples 1024] [--epochs 4]

Targets: max gap <= 100 ms and p99 <= 16 ms after the first epoch; ratio >= 0.97.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mogui.core.io import load_example  # noqa: E402
from mogui.core.project import Project  # noqa: E402
from mogui.engine.data import load_data  # noqa: E402
from mogui.engine.dataset import Dataset  # noqa: E402
from mogui.engine.losses import make_training_model  # noqa: E402
from mogui.engine.targets import prepare_targets  # noqa: E402
from mogui.qt.document import ProjectDocument  # noqa: E402
from mogui.qt.training_panel import TrainingPanel  # noqa: E402


class _EpochClock(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.ends.append(time.perf_counter())


def bare_fit_throughput(project: Project, data: Dataset) -> float:
    """Train samples per second of a plain ``model.fit``, epochs after the first."""
    settings = project.training
    keras.utils.set_random_seed(settings.seed)
    targets = prepare_targets(project, data.y)
    train, val = Dataset(x=data.x, y=targets).split(settings.validation_split, settings.seed)
    model = make_training_model(project)
    clock = _EpochClock()
    model.fit(train.x, train.y, validation_data=(val.x, val.y) if val is not None else None,
              batch_size=settings.batch_size, epochs=settings.epochs,
              shuffle=settings.shuffle, callbacks=[clock], verbose=0)
    return train.num_samples * (len(clock.ends) - 1) / (clock.ends[-1] - clock.ends[0])


def app_run(app: QApplication, project: Project, data: Dataset) -> tuple[np.ndarray, float]:
    """Gaps (ms) of a 10 ms GUI timer after the first epoch, and the app's throughput."""
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

    def on_epoch(_event) -> None:
        epoch_ends.append(time.perf_counter())
        state["record"] = True

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    ticker.start()
    panel.worker.started.connect(lambda e: state.__setitem__("train_samples", e.train_samples))
    panel.worker.epoch_ended.connect(on_epoch)
    panel.worker.running_changed.connect(lambda running: running or app.quit())
    panel.worker.failed.connect(lambda e: print("training failed:", e.message))
    QTimer.singleShot(0, lambda: panel.worker.start(project, data))
    app.exec()
    ticker.stop()
    panel.close()
    if panel.worker.last_result is None or len(epoch_ends) < 2:
        raise SystemExit("training did not finish")
    throughput = state["train_samples"] * (len(epoch_ends) - 1) / (epoch_ends[-1] - epoch_ends[0])
    return np.asarray(gaps), throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    project = load_example("bbox_classification")
    project.data.samples = args.samples
    project.training.epochs = args.epochs
    project.training.batch_size = args.batch_size
    data = load_data(project)

    bare_before = bare_fit_throughput(project, data)
    gaps, app_throughput = app_run(app, project, data)
    bare_after = bare_fit_throughput(project, data)
    bare = (bare_before + bare_after) / 2

    print(f"demo: {args.samples} samples of {project.data.image_size}x"
          f"{project.data.image_size}, batch {args.batch_size}, {args.epochs} epochs")
    print(f"GUI timer gaps after the first epoch ({len(gaps)} ticks of 10 ms): "
          f"p50 {np.percentile(gaps, 50):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, "
          f"max {gaps.max():.1f} ms")
    print(f"throughput: app {app_throughput:,.0f} samples/s, bare fit {bare:,.0f} samples/s "
          f"(before {bare_before:,.0f}, after {bare_after:,.0f}); "
          f"ratio {app_throughput / bare:.3f}")


if __name__ == "__main__":
    main()
