"""The Python a project or a mogui model file carries, found without running any of it.

Custom head losses and the joint loss are Python source. This module lists the pieces that
would run (:func:`project_code`), reads those stored in a ``.keras`` file
(:func:`keras_file_code`), identifies each by the SHA-256 of its text (:func:`code_hash`) and
checks its syntax with ``compile()``, which executes nothing (:func:`check_syntax`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

from mogui.core.errors import CustomCodeError, ModelFileError
from mogui.core.paths import path_problem
from mogui.core.project import Project
from mogui.core.runs import MODEL_FILE

#: Label of the joint loss in messages, tracebacks and the trust store.
JOINT_CODE_LABEL = "joint loss"

#: Keras class names whose config carries mogui loss source, and the key that holds it.
_SOURCE_KEYS = {"CustomLoss": "source", "JointLossModel": "loss_source"}

#: Control characters (all but tab and newline) and bidirectional overrides ("Trojan
#: Source"): shown escaped, so printed code looks exactly like the code that runs.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069"
                     "\ufeff]")


def head_code_label(head_name: str) -> str:
    """Label (and code file name) of a head's custom loss in messages and tracebacks."""
    return f"{head_name} loss"


def normalise_source(source: str) -> str:
    """``source`` with Windows (``\\r\\n``) and old Mac (``\\r``) line endings as ``\\n``."""
    return source.replace("\r\n", "\n").replace("\r", "\n")


def code_hash(source: str) -> str:
    """SHA-256 (hex) of ``source`` after line endings are normalised: the code's identity."""
    return hashlib.sha256(normalise_source(source).encode("utf-8")).hexdigest()


def first_line(source: str, width: int = 80) -> str:
    """The first non-blank line of ``source``, stripped and shortened to ``width``."""
    for line in normalise_source(source).splitlines():
        if line.strip():
            text = printable(line.strip())
            return text if len(text) <= width else text[:width - 1] + "…"
    return ""


def printable(text: str) -> str:
    """``text`` with control and bidirectional-override characters shown as ``\\x..`` escapes."""
    return _HIDDEN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                       text)


@dataclass(frozen=True)
class CodeItem:
    """One piece of user code: its label (``bbox loss``), head (``None``: joint) and text."""

    label: str
    head: str | None
    source: str

    @property
    def sha256(self) -> str:
        return code_hash(self.source)

    @property
    def first_line(self) -> str:
        return first_line(self.source)

    def describe(self) -> str:
        """``custom loss of head 'bbox'`` or ``joint loss``: what the code is, for messages."""
        if self.head is not None:
            return f"custom loss of head '{self.head}'"
        return self.label

    def listing(self) -> str:
        """The code with numbered lines, hidden characters escaped, for review."""
        lines = normalise_source(self.source).rstrip("\n").split("\n")
        width = len(str(len(lines)))
        return "\n".join(f"{n:>{width}} | {printable(line)}".rstrip()
                         for n, line in enumerate(lines, 1))


def project_code(project: Project, *, every_mode: bool = False) -> list[CodeItem]:
    """The code that would run for ``project``'s loss mode (blank sources run nothing).

    Per-output mode: the source of each head whose enabled loss is custom. Joint mode: the
    joint loss only (``joint_loss.source`` never runs in per-output mode). ``every_mode``
    lists every non-blank source in the file instead, whatever the mode.
    """
    items: list[CodeItem] = []
    if every_mode or project.loss_mode == "per_output":
        for head in project.heads:
            if (every_mode or head.is_custom) and head.loss.source.strip():
                items.append(CodeItem(head_code_label(head.name), head.name, head.loss.source))
    if (every_mode or project.loss_mode == "joint") and project.joint_loss.source.strip():
        items.append(CodeItem(JOINT_CODE_LABEL, None, project.joint_loss.source))
    return items


def check_syntax(source: str, label: str) -> CodeType:
    """``source`` compiled as the file ``<label>``; :class:`CustomCodeError` (with the line)
    when it is not valid Python. ``compile()`` parses and executes nothing.
    """
    try:
        return compile(source, f"<{label}>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        detail = f"{exc.msg}"
        if exc.text:
            detail += f": {exc.text.strip()}"
        raise CustomCodeError(f"syntax error, {detail}", label, exc.lineno) from None
    except ValueError as exc:  # e.g. NUL bytes in the source
        raise CustomCodeError(f"the code cannot be compiled: {exc}", label) from None


def check_code_statically(source: str, label: str, *, allow_mask: bool = False) -> None:
    """What can be checked without running ``source``: valid Python that defines
    ``def loss(y_true, y_pred)`` (or ``(y_true, y_pred, mask)`` with ``allow_mask``) at the
    top level. Raises :class:`CustomCodeError` with the line; executes nothing.
    """
    check_syntax(source, label)
    tree = ast.parse(source)
    found = [node for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name == "loss"]
    if not found:
        assigned = any(isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "loss" for target in node.targets)
            for node in tree.body)
        if assigned:
            return  # e.g. loss = make_loss(): only running it tells
        raise CustomCodeError("the code defines no function named 'loss'; add "
                              "def loss(y_true, y_pred): ...", label)
    function = found[-1]
    args = function.args
    if args.vararg is not None:
        return
    count = len(args.posonlyargs) + len(args.args)
    required = count - len(args.defaults)
    wanted = (2, 3) if allow_mask else (2,)
    if not any(required <= n <= count for n in wanted):
        names = ", ".join(a.arg for a in [*args.posonlyargs, *args.args])
        shape = "def loss(y_true, y_pred)" + (" or def loss(y_true, y_pred, mask)"
                                              if allow_mask else "")
        raise CustomCodeError(f"loss({names}) must accept exactly the arguments of {shape}",
                              label, function.lineno)


def keras_file_code(path: str | os.PathLike[str]) -> list[CodeItem]:
    """The loss code stored in a mogui ``.keras`` file, read from its ``config.json``.

    Nothing is loaded or run. Raises :class:`ModelFileError` when the file is not a readable
    ``.keras`` archive.
    """
    path = Path(path)
    if (problem := path_problem(path)) is not None:
        raise ModelFileError(f"The model file '{path}' {problem}. Give a .keras file that "
                             "mogui wrote, such as model.keras in a run folder.")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        reason = str(exc).strip("\"'")
        raise ModelFileError(f"The file '{path}' is not a valid Keras model file, so the code "
                             f"it holds cannot be read ({reason}); give a .keras file that "
                             "mogui wrote, such as model.keras in a run folder.") from None
    items: list[CodeItem] = []
    seen: set[str] = set()
    for label, source in _sources_in(config):
        digest = code_hash(source)
        if source.strip() and digest not in seen:
            seen.add(digest)
            head = label.removesuffix(" loss")
            named = head != label and label not in (JOINT_CODE_LABEL, "custom loss")
            items.append(CodeItem(label, head if named else None, source))
    return items


def run_folder_code(folder: str | os.PathLike[str]) -> list[CodeItem]:
    """The loss code held by a run folder's model file; none when the folder has no model."""
    model_file = Path(folder) / MODEL_FILE
    return keras_file_code(model_file) if model_file.is_file() else []


def _sources_in(node: Any) -> list[tuple[str, str]]:
    """(label, source) of every mogui loss object in a Keras config tree."""
    found: list[tuple[str, str]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        name = str(item.get("class_name", ""))
        registered = str(item.get("registered_name") or "")
        config = item.get("config")
        key = _SOURCE_KEYS.get(name) or _SOURCE_KEYS.get(registered.rpartition(">")[2])
        if key and isinstance(config, dict) and isinstance(config.get(key), str):
            default = JOINT_CODE_LABEL if key == "loss_source" else "custom loss"
            label = config.get("label") if key == "source" else None
            found.append((str(label or default), config[key]))
        stack.extend(reversed(list(item.values())))
    return found
