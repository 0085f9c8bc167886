"""What the built-in demo shapes data can train: its target quantities and which head gets which.

Every quantity is derived from the drawn shape's class and bounding box (no extra random draws),
so adding one leaves the images and the other targets unchanged. A head trains on the quantity
``data.targets[head]`` names, or on the quantity that has the head's own name.
"""

from __future__ import annotations

from dataclasses import dataclass

from mogui.core.project import DemoShapesData, HeadSpec, Project
from mogui.core.tasks import Task


@dataclass(frozen=True)
class DemoQuantity:
    """One target the demo data can provide, with the task and units of a head that fits it."""

    name: str
    task: Task
    units: int
    description: str

    @property
    def label(self) -> str:
        """``is_round — binary, 1 unit: is the shape a circle or a ring?``"""
        unit_word = "unit" if self.units == 1 else "units"
        return f"{self.name} — {self.task.value}, {self.units} {unit_word}: {self.description}"

    def fits(self, head: HeadSpec) -> bool:
        return head.task == self.task and head.units == self.units


#: The demo's quantities, in the order the Add head dialog offers them.
DEMO_QUANTITIES: dict[str, DemoQuantity] = {q.name: q for q in (
    DemoQuantity("bbox", Task.REGRESSION, 4,
                 "bounding box x_min, y_min, x_max, y_max, scaled to 0..1"),
    DemoQuantity("classification", Task.MULTICLASS, 6, "which of the 6 shapes (class id 0..5)"),
    DemoQuantity("is_round", Task.BINARY, 1, "is the shape a circle or a ring?"),
    DemoQuantity("is_hollow", Task.BINARY, 1, "is the shape a ring or a hollow square?"),
    DemoQuantity("center", Task.REGRESSION, 2, "centre x, y of the bounding box, 0..1"),
    DemoQuantity("size", Task.REGRESSION, 1,
                 "mean side of the bounding box, (width + height) / 2, 0..1"),
    DemoQuantity("traits", Task.MULTILABEL, 3, "three 0/1 labels: round, hollow, has corners"),
    DemoQuantity("class_onehot", Task.MULTICLASS_ONEHOT, 6, "which shape, as a one-hot row"),
)}


def demo_quantity_name(source: DemoShapesData, head_name: str) -> str | None:
    """The quantity head ``head_name`` trains on, or ``None`` when it names none."""
    name = source.targets.get(head_name, head_name)
    return name if name in DEMO_QUANTITIES else None


def demo_head_targets(project: Project) -> dict[str, str]:
    """Head name -> demo quantity for every head whose quantity exists and fits its task/units.

    Empty when the project's data is not the demo.
    """
    source = project.data
    if not isinstance(source, DemoShapesData):
        return {}
    mapping = {}
    for head in project.heads:
        name = demo_quantity_name(source, head.name)
        if name is not None and DEMO_QUANTITIES[name].fits(head):
            mapping[head.name] = name
    return mapping


def unused_demo_quantities(project: Project) -> list[DemoQuantity]:
    """Quantities no head of the project trains on yet, in offering order."""
    source = project.data
    if not isinstance(source, DemoShapesData):
        return []
    used = {demo_quantity_name(source, head.name) for head in project.heads}
    return [q for q in DEMO_QUANTITIES.values() if q.name not in used]


def describe_fit(quantity: DemoQuantity, head: HeadSpec) -> str:
    """Why ``quantity`` does not fit ``head``: ``'is_round' is binary with 1 unit; …``."""
    return (f"'{quantity.name}' is {quantity.task.value} with {_units(quantity.units)}; the head "
            f"is {head.task.value} with {head.units}")


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"
