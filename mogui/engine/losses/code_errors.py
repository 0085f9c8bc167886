"""Plain words for the errors user loss code most often hits, instead of TensorFlow's text.

:func:`explain` turns an exception raised by the user's code into a sentence that says what
went wrong and what to do: a per-head loss that looks up another head by name, a head name
that the joint loss misspells, two tensors whose shapes do not fit together. ``None`` means
"no better words": the caller shows the exception's own first line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mogui.core.errors import CustomCodeError
from mogui.core.project import Project
from mogui.core.project_code import head_code_label

#: ``name['key']`` or ``name["key"]``: a lookup by name in the user's line.
_LOOKUP = re.compile(r"""(\w+)\s*\[\s*(['"])([^'"]*)\2\s*\]""")
#: Shape pairs as TensorFlow, Keras and NumPy word them.
_SHAPE_PAIRS = (
    re.compile(r"Incompatible shapes: \[([^\]]*)\] vs\. \[([^\]]*)\]"),
    re.compile(r"with input shapes: \[([^\]]*)\], \[([^\]]*)\]"),
    re.compile(r"Input shapes are: \[([^\]]*)\] and \[([^\]]*)\]"),
    re.compile(r"broadcast together with shapes \(([^)]*)\),? \(([^)]*)\)"),
    re.compile(r"In\[0\]: \[([^\]]*)\], In\[1\]: \[([^\]]*)\]"),
)
#: The operation's name: ``[Op:Sub]`` (eager) or ``= Sub[T=DT_FLOAT]`` (graph).
_OPERATION = (re.compile(r"\[Op:(\w+)\]"), re.compile(r"\}\} = (\w+)\["))
_OPERATION_WORDS = {"Sub": "subtraction (-)", "AddV2": "addition (+)", "Add": "addition (+)",
                    "Mul": "multiplication (*)", "RealDiv": "division (/)",
                    "SquaredDifference": "squared difference", "MatMul": "matrix product",
                    "BatchMatMulV2": "matrix product", "Maximum": "maximum",
                    "Minimum": "minimum", "Pow": "power (**)", "ConcatV2": "concatenation"}
#: Where a compiled step failed: ``Detected at node StatefulPartitionedCall/kind_loss/MatMul``.
_NODE = re.compile(r"Detected at node '?([\w/.-]+)")
_NODE_IN_BRACKETS = re.compile(r"\[\[\{\{node ([\w/.-]+)\}\}\]\]")
#: TensorFlow's decoration around an op error.
_FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")


def explain(exc: BaseException, line: str, *, heads: Sequence[str] = (),
            per_head: bool = False) -> str | None:
    """Plain words for ``exc``, raised at the user's ``line`` (its text, may be empty).

    ``heads``: the head names a joint loss's dicts hold; ``per_head``: the code is one head's
    loss, which receives that head's tensors only.
    """
    message = str(exc)
    if heads and isinstance(exc, KeyError) and exc.args:
        key = exc.args[0]
        if isinstance(key, str) and key not in heads:
            names = ", ".join(f"'{h}'" for h in heads)
            return (f"there is no head named '{key}'; y_true and y_pred hold the heads {names}. "
                    "Check the spelling")
    if per_head and not isinstance(exc, KeyError | NameError | AttributeError):
        lookup = _LOOKUP.search(line)
        named = lookup is not None and lookup.group(1) in ("y_true", "y_pred")
        if named or "valid indices" in message:
            what = f"{lookup.group(1)}['{lookup.group(3)}'] fails: " if lookup else ""
            return (f"{what}a per-head loss sees only its own head's tensors (y_true and "
                    "y_pred are this head's arrays, not dicts of heads); use the joint loss "
                    "mode to combine heads")
    shapes = shape_pair(message)
    if shapes is not None:
        first, second = shapes
        operation = _operation(message)
        where = f" in a {operation}" if operation else ""
        return (f"the shapes {first} and {second} do not fit together{where}"
                f"{_quoted(line)}. Make them agree: check the number of units or classes "
                "against y_true and y_pred, or reshape one side")
    return None


def shape_pair(message: str) -> tuple[str, str] | None:
    """The two shapes a shape-mismatch message names, as ``(8, 4)``; ``None`` if it names none."""
    for pattern in _SHAPE_PAIRS:
        found = pattern.search(message)
        if found is not None:
            return _shape(found.group(1)), _shape(found.group(2))
    return None


def plain_text(message: str) -> str:
    """``message`` without TensorFlow's ``{{function_node …}}`` and ``name:`` decoration."""
    text = _FUNCTION_NODE.sub("", message)
    text = re.sub(r"\s*\[Op:(\w+)\](\s*name:\s*\S*)?\s*$", r" (operation \1)", text)
    return text.strip()


def _operation(message: str) -> str | None:
    for pattern in _OPERATION:
        found = pattern.search(message)
        if found is not None:
            return _OPERATION_WORDS.get(found.group(1), found.group(1))
    return None


def _shape(text: str) -> str:
    dims = [d.strip() for d in re.split(r"[,\s]+", text.strip()) if d.strip()]
    dims = ["batch" if d in ("?", "None", "-1") else d for d in dims]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _quoted(line: str) -> str:
    text = line.strip()
    if not text:
        return ""
    return f" ({text[:80] + '…' if len(text) > 80 else text})"


def user_code_failure(project: Project, exc: BaseException) -> CustomCodeError | None:
    """The head's custom loss that ``exc`` (an error of a compiled training step, raised
    outside the user's Python) failed in, with plain words; ``None`` when it names none.

    Keras runs each head's loss under the name ``<head>_loss`` and TensorFlow names the
    failing node's path, so the head is known; the user's line when TensorFlow kept the
    stack where the node was made.
    """
    text = str(exc)
    node = _NODE.search(text) or _NODE_IN_BRACKETS.search(text)
    if node is None or project.loss_mode != "per_output":
        return None
    parts = node.group(1).split("/")
    head = next((h for h in project.loss_heads() if h.is_custom and f"{h.name}_loss" in parts),
                None)
    if head is None:
        return None
    label = head_code_label(head.name)
    lines = [int(n) for n in re.findall(rf'File "<{re.escape(label)}>", line (\d+)', text)]
    lineno = lines[-1] if lines else None
    operation = _OPERATION_WORDS.get(parts[-1], parts[-1])
    shapes = shape_pair(text)
    if shapes is not None:
        what = f"the shapes {shapes[0]} and {shapes[1]} do not fit together in a {operation}"
    else:
        what = f"a {operation} failed: {_op_message(text) or type(exc).__name__}"
    where = "" if lineno else "; the dry run (mogui validate) names the line"
    return CustomCodeError(f"{what} during training. Make the shapes agree{where}", label,
                           lineno)


def _op_message(text: str) -> str:
    """TensorFlow's own sentence: the line just before ``[[{{node …}}]]``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("[[") and i > 0:
            return plain_text(lines[i - 1])
    return ""
