"""Each head's class or label names for a project, the demo shapes' names included."""

from __future__ import annotations

from mogui.core.demo_targets import demo_head_targets
from mogui.core.labels import HeadLabels, head_labels
from mogui.core.project import Project
from mogui.engine.plain_keras.demo_shapes import SHAPE_CLASSES

#: Demo quantities whose class ids are the demo's shapes.
_SHAPE_QUANTITIES = ("classification", "class_onehot")


def project_labels(project: Project) -> dict[str, HeadLabels]:
    """:func:`mogui.core.labels.head_labels`, with the shapes' names for the demo's class
    heads."""
    demo = {head: SHAPE_CLASSES for head, quantity in demo_head_targets(project).items()
            if quantity in _SHAPE_QUANTITIES}
    return head_labels(project, demo)
