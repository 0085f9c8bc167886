"""Property form for the selected input, layer or head, with typed editors and inline errors.

Layer parameter editors are generated from the catalog's pydantic models: number boxes, combo
boxes for ``Literal`` choices, check boxes for booleans and a line edit for lists. An edit that
the project's rules refuse for its field (a duplicate or empty name, a shape of 0, a Dropout
rate of 1.5 …; :func:`mogui.core.validation.field_problems`) is not applied: the reason shows
under the field, the field is marked and the project keeps its last good value. Problems
between fields are shown under the field their path names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from mogui.core.demo_targets import DEMO_QUANTITIES, demo_quantity_name
from mogui.core.layers import ACTIVATIONS, LAYER_KINDS, default_params
from mogui.core.project import DemoShapesData, HeadSpec, InputSpec, LayerSpec, Project
from mogui.core.tasks import TASKS, Task
from mogui.core.validation import Problem
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import (
    Editor,
    combo_editor,
    editor_for_field,
    name_list_editor,
    shape_editor,
    spin_editor,
    text_editor,
)
from mogui.qt.model_dialogs import NO_DEMO_TARGET
from mogui.qt.model_edits import item_at, rename_item, set_demo_target
from mogui.qt.selection import Selection

NO_VALUE = "(default)"


@dataclass
class _Field:
    key: str
    editor: Editor
    read: Callable[[Any], Any]


class LayerForm(QWidget):
    """Edits the selected item through ``document.edit``; rebuilt when the selection changes."""

    def __init__(self, document: ProjectDocument, selection: Selection,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerForm")
        self._document = document
        self._selection = selection
        self._fields: dict[str, _Field] = {}
        self._signature: tuple[Any, ...] | None = None
        outer = QVBoxLayout(self)
        self._title = QLabel(objectName="layerFormTitle")
        self._title.setWordWrap(True)
        self._title.setStyleSheet("font-weight: bold; font-size: 11pt;")
        outer.addWidget(self._title)
        self._body = QWidget()
        self._layout = QFormLayout(self._body)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addWidget(self._body)
        outer.addStretch(1)
        document.changed.connect(self.refresh)
        selection.changed.connect(lambda _path: self.refresh())
        self.refresh()

    # -- public -----------------------------------------------------------------------------
    def editor(self, key: str) -> QWidget:
        """The editor widget of field ``key`` (``name``, ``units``, ``params.units`` …)."""
        return self._fields[key].editor.widget

    def error_text(self, key: str) -> str:
        """The reason shown under field ``key`` ("" when it is valid)."""
        return self._fields[key].editor.error_label.text()

    def field_keys(self) -> list[str]:
        return list(self._fields)

    def refresh(self) -> None:
        path = self._selection.path
        item = item_at(self._document.project, path)
        signature = (path, type(item).__name__, getattr(item, "kind", None),
                     self._document.project.data.kind)
        if signature != self._signature:
            self._signature = signature
            self._rebuild(path, item)
        elif item is not None:
            for field in self._fields.values():
                field.editor.show_value(field.read(item))
        self._title.setText(_title_for(item))  # a rename shows at once
        self._show_problems(path)

    # -- building ---------------------------------------------------------------------------
    def _rebuild(self, path: str, item: Any) -> None:
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._fields = {}
        if item is None:
            return
        if isinstance(item, InputSpec):
            self._add_name(path)
            self._add("shape", "Shape", shape_editor(self._setter(path, "shape")),
                      lambda i: i.shape)
            self._add("dtype", "Data type",
                      combo_editor(["float32", "int32"], self._setter(path, "dtype")),
                      lambda i: i.dtype)
        elif isinstance(item, HeadSpec):
            self._build_head(path)
        elif isinstance(item, LayerSpec):
            self._build_layer(path, item)

    def _build_layer(self, path: str, layer: LayerSpec) -> None:
        kind = LAYER_KINDS.get(layer.kind)
        self._add_name(path)

        def set_kind(value: str) -> None:
            def mutate(project: Project) -> None:
                target = item_at(project, path)
                target.kind = value
                target.params = default_params(value)
            self._commit("kind", f"Change {layer.name} to {value}", mutate)

        self._add("kind", "Kind", combo_editor(sorted(LAYER_KINDS), set_kind), lambda i: i.kind)
        self._add("inputs", "Inputs", name_list_editor(self._setter(path, "inputs"),
                                                      "blank: the layer above"),
                  lambda i: i.inputs)
        if kind is None:
            return
        for name, info in kind.params.model_fields.items():
            def set_param(value: Any, key: str = name) -> None:
                def mutate(project: Project) -> None:
                    item_at(project, path).params[key] = value
                self._commit(f"params.{key}", f"Change {layer.name}.{key}", mutate)

            default = info.get_default(call_default_factory=True)
            editor = editor_for_field(info.annotation, info.metadata, set_param)
            self._add(f"params.{name}", name.replace("_", " ").capitalize(), editor,
                      lambda i, key=name, fallback=default: i.params.get(key, fallback))

    def _build_head(self, path: str) -> None:
        self._add_name(path)
        self._add("task", "Task", combo_editor([t.value for t in Task],
                                               self._setter(path, "task", Task)),
                  lambda h: h.task.value)
        self._add("units", "Units", spin_editor(self._setter(path, "units")),
                  lambda h: h.units)
        project = self._document.project
        head = item_at(project, path)
        task_default = TASKS[head.task].activation
        activation = combo_editor([f"{NO_VALUE}: {task_default}", *ACTIVATIONS],
                                  self._setter(path, "activation", _none_if_default))
        self._add("activation", "Activation", activation,
                  lambda h: h.activation or f"{NO_VALUE}: {TASKS[h.task].activation}")
        sources = [f"{NO_VALUE}: end of trunk", *project.input_names,
                   *(layer.name for layer in project.trunk)]
        self._add("source", "Source",
                  combo_editor(sources, self._setter(path, "source", _none_if_default)),
                  lambda h: h.source or sources[0])
        if isinstance(project.data, DemoShapesData):
            self._add_demo_target(path)

    def _add_demo_target(self, path: str) -> None:
        def commit(value: str) -> None:
            quantity = None if value == NO_DEMO_TARGET else value
            name = item_at(self._document.project, path).name
            self._commit("demo_target", f"Train {name} on {value}",
                         lambda project: set_demo_target(project, name, quantity))

        def read(head: HeadSpec) -> str:
            data = self._document.project.data
            found = (demo_quantity_name(data, head.name)
                     if isinstance(data, DemoShapesData) else None)
            return found or NO_DEMO_TARGET

        self._add("demo_target", "Trains on",
                  combo_editor([*DEMO_QUANTITIES, NO_DEMO_TARGET], commit), read)

    def _add_name(self, path: str) -> None:
        def rename(value: str) -> None:
            old = item_at(self._document.project, path).name
            self._commit("name", f"Rename {old} to {value}",
                         lambda project: rename_item(project, path, value))

        self._add("name", "Name", text_editor(rename), lambda i: i.name)

    def _add(self, key: str, label: str, editor: Editor, read: Callable[[Any], Any]) -> None:
        editor.error_label.setObjectName(f"error_{key}")
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        editor.widget.setObjectName(f"field_{key}")
        box.addWidget(editor.widget)
        box.addWidget(editor.error_label)
        self._layout.addRow(label, holder)
        self._fields[key] = _Field(key, editor, read)
        item = item_at(self._document.project, self._selection.path)
        editor.show_value(read(item))

    def _setter(self, path: str, attribute: str,
                convert: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], None]:
        def commit(value: Any) -> None:
            def mutate(project: Project) -> None:
                setattr(item_at(project, path), attribute, convert(value))
            name = item_at(self._document.project, path).name
            self._commit(attribute, f"Change {name}.{attribute}", mutate)
        return commit

    def _commit(self, key: str, text: str, mutate: Callable[[Project], None]) -> None:
        """Apply an edit of field ``key`` of the selected item, or show why it is refused."""
        path = self._selection.path
        field = self._fields.get(key)
        if field is not None:
            field.editor.local_error = ""  # the form shows the project's problems after it
        refused = self._document.edit_field(text, f"{path}.{key}", mutate)
        if not refused:
            self._show_problems(path)  # also when the edit changed nothing
            return
        if field is None:
            return
        item = item_at(self._document.project, path)
        kept = _display(field.read(item)) if item is not None else ""
        reasons = "; ".join(_relative(problem, f"{path}.{key}") for problem in refused)
        field.editor.report(f"{reasons}. Not applied: still {kept}.")

    # -- problems ---------------------------------------------------------------------------
    def _show_problems(self, path: str) -> None:
        for field in self._fields.values():
            if field.editor.local_error:
                field.editor.mark(field.editor.local_error)
                continue
            prefix = f"{path}.{field.key}"
            messages = [p.message if p.path == prefix else str(p)
                        for p in self._document.problems
                        if p.path == prefix or p.path.startswith((prefix + "[", prefix + "."))]
            field.editor.mark("\n".join(messages))


def _title_for(item: Any) -> str:
    """The heading above the form: what is being edited."""
    if isinstance(item, InputSpec):
        return f"Input {item.name}"
    if isinstance(item, HeadSpec):
        return f"Head {item.name}: a Dense output layer named {item.name}"
    if isinstance(item, LayerSpec):
        kind = LAYER_KINDS.get(item.kind)
        summary = f" — {kind.summary}" if kind else ""
        return f"Layer {item.name} ({item.kind}){summary}"
    return "Select an input, layer or head to edit it."


def _none_if_default(value: str) -> str | None:
    return None if value.startswith(NO_VALUE) else value


def _relative(problem: Problem, field: str) -> str:
    """``must be >= 1, got 0`` for the field itself, ``shape[1] must be …`` below it."""
    if problem.path == field:
        return problem.message
    below = problem.path[len(field.rpartition(".")[0]) + 1:] if "." in field else problem.path
    return f"{below} {problem.message}"


def _display(value: Any) -> str:
    """A field's value as the message about a refused edit quotes it."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(empty)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
