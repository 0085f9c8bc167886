"""What each head's outputs mean: class names, label names, the columns of a regression head.

A classification head's class names come from the data settings (``classes`` of its column
map: a name's position is its class id); a multi-label head's label names and a regression
head's value names from the columns it trains on. :func:`labels_info` is the plain-JSON form
an export saves as ``classes.json`` beside the inference model, which its ``predict.py``
reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mogui.core.project import ColumnMap, CsvData, ImageFolderData, Project
from mogui.core.tasks import Task

CLASSIFICATION = (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT)


@dataclass(frozen=True)
class HeadLabels:
    """One head's output, described: its task, units, output activation, the class names
    (classification; empty when the data holds class ids) and the columns it trains on."""

    head: str
    task: Task
    units: int
    activation: str
    classes: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def is_classification(self) -> bool:
        return self.task in CLASSIFICATION

    @property
    def class_count(self) -> int:
        """Classes of a classification head (2 for binary)."""
        return 2 if self.task == Task.BINARY else self.units

    def class_name(self, class_id: int) -> str:
        """The name of ``class_id``, or the id itself as text when the head has no names."""
        if 0 <= class_id < len(self.classes):
            return self.classes[class_id]
        return str(class_id)

    def class_names(self) -> list[str]:
        return [self.class_name(i) for i in range(self.class_count)]

    def unit_names(self) -> list[str]:
        """A name per output unit: the trained columns when there is one per unit, else
        ``<head>_0``, ``<head>_1``… (just the head's name for one unit)."""
        if len(self.columns) == self.units and self.units > 1:
            return list(self.columns)
        if self.units == 1:
            return [self.head]
        return [f"{self.head}_{i}" for i in range(self.units)]

    def describe(self) -> str:
        """``kind: multiclass, 3 classes: 0 budget, 1 premium, 2 standard``."""
        text = f"{self.head}: {self.task.value}"
        if self.is_classification:
            names = self.class_names()
            text += f", {len(names)} classes: " + ", ".join(f"{i} {n}" if n != str(i) else n
                                                            for i, n in enumerate(names))
        elif self.task == Task.MULTILABEL:
            text += f", {self.units} labels: {', '.join(self.unit_names())}"
        else:
            text += f", {self.units} value(s): {', '.join(self.unit_names())}"
        return text


def _target_maps(project: Project) -> dict[str, ColumnMap]:
    if isinstance(project.data, CsvData | ImageFolderData):
        return {m.name: m for m in project.data.targets}
    return {}


def head_labels(project: Project, demo_classes: dict[str, Sequence[str]] | None = None
                ) -> dict[str, HeadLabels]:
    """Every head's :class:`HeadLabels`, keyed by head name. ``demo_classes`` gives class names
    for heads whose data holds none (the engine passes the demo shapes' names)."""
    maps = _target_maps(project)
    demo_classes = demo_classes or {}
    result = {}
    for head in project.heads:
        found = maps.get(head.name)
        classes = tuple(found.classes) if found is not None else ()
        if not classes and head.task in CLASSIFICATION:
            classes = tuple(demo_classes.get(head.name, ()))
        columns = tuple(found.columns) if found is not None else ()
        result[head.name] = HeadLabels(head.name, head.task, head.units, head.output_activation,
                                       classes, columns)
    return result


def labels_info(project: Project, labels: dict[str, HeadLabels] | None = None) -> dict[str, Any]:
    """The plain-JSON description of inputs and heads that an export's ``predict.py`` reads:
    which columns feed each input (tables), how images are read (image folders), and each
    head's task, activation, class names and column names."""
    labels = labels or head_labels(project)
    data = project.data
    inputs: dict[str, Any] = {}
    source: dict[str, Any] = {"kind": data.kind}
    if isinstance(data, CsvData):
        source["delimiter"] = data.delimiter
        maps = {m.name: m for m in data.inputs}
        for spec in project.inputs:
            m = maps.get(spec.name)
            inputs[spec.name] = {"columns": list(m.columns) if m else [],
                                 "classes": list(m.classes) if m else [],
                                 "shape": spec.sized(len(m.columns)) if m else list(spec.shape),
                                 "dtype": spec.dtype}
    else:
        for spec in project.inputs:
            inputs[spec.name] = {"shape": list(spec.shape), "dtype": spec.dtype}
    if isinstance(data, ImageFolderData):
        source.update({"delimiter": data.delimiter, "file_column": data.file_column,
                       "input": data.input, "resize": data.resize, "scale": data.scale})
    heads = {name: {"task": item.task.value, "units": item.units,
                    "activation": item.activation, "classes": list(item.classes),
                    "columns": list(item.columns), "outputs": item.unit_names()}
             for name, item in labels.items()}
    return {"format": "mogui-labels", "version": 1, "project": project.name,
            "data": source, "inputs": inputs, "heads": heads}
