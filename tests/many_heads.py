"""A demo project with many heads, and training events for it, for the many-heads tests."""

from __future__ import annotations

from mogui.core.events import BatchEnded, EpochEnded, TrainingStarted
from mogui.core.io import load_example
from mogui.core.project import HeadLoss, HeadSpec, Project

#: (demo quantity, task, units, metric): heads alternate between the two lists.
REGRESSION = (("size", "regression", 1, "mae"), ("center", "regression", 2, "mae"),
              ("bbox", "regression", 4, "mae"))
CLASSIFICATION = (("classification", "multiclass", 6, "sparse_categorical_accuracy"),
                  ("is_round", "binary", 1, "binary_accuracy"),
                  ("is_hollow", "binary", 1, "binary_accuracy"))


def many_heads_project(count: int = 40, shrink: bool = True) -> Project:
    """The shapes demo with ``count`` heads on its quantities: even ones regression, odd ones
    classification (multiclass or binary), each with its task's usual metric."""
    project = load_example("bbox_classification")
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
    if shrink:
        project.data.samples = 48
        project.data.image_size = 16
        project.inputs[0].shape = [16, 16, 1]
        project.training.batch_size = 16
        project.training.epochs = 1
    return project


def metric_key(head: HeadSpec) -> str:
    return f"{head.name}_{head.loss.metrics[0]}"


def epoch_logs(project: Project, epoch: int) -> dict[str, float]:
    """Train and validation logs of ``epoch``: head ``i`` has loss ``(i + 1) / (epoch + 1)``
    (validation: twice that), metric ``0.5 + epoch / 10``; the total is the sum."""
    logs: dict[str, float] = {}
    for i, head in enumerate(project.heads):
        logs[f"{head.name}_loss"] = (i + 1) / (epoch + 1)
        logs[metric_key(head)] = 0.5 + epoch / 10
    logs["loss"] = sum(v for k, v in logs.items() if k.endswith("_loss"))
    logs.update({f"val_{key}": (2 * value if key.endswith("loss") else value)
                 for key, value in list(logs.items())})
    return logs


def feed_run(panel, project: Project, epochs: int, steps: int = 4) -> None:  # noqa: ANN001
    """Send a run's events to a TrainingPanel as its worker would: start, batches, epochs."""
    heads = tuple(h.name for h in project.heads)
    panel.worker.started.emit(TrainingStarted("CPU", epochs, steps, 64, 16, heads))
    for epoch in range(epochs):
        logs = epoch_logs(project, epoch)
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        panel.worker.batches.emit([BatchEnded(epoch, batch, steps, train, 100.0, 0.1)
                                   for batch in range(steps)])
        panel.worker.epoch_ended.emit(EpochEnded(epoch, logs, float(epoch + 1)))
