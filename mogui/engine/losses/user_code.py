"""Compile and run user-written loss code, reporting errors at the user's own lines.

Only trusted code runs (see :mod:`mogui.core.trust`): the check comes first, before the code
is compiled, so untrusted code never runs, whether it comes from a project or a model file.

A custom loss is Python source defining ``loss(y_true, y_pred)``. It is compiled under the
file name ``<label>`` and registered with :mod:`linecache`, so tracebacks show the user's
lines; every failure becomes a :class:`~mogui.core.errors.CustomCodeError` carrying the line
number in the user's source.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import traceback
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import keras
import numpy as np
from keras import ops

from mogui.core.errors import CustomCodeError
from mogui.core.project_code import CodeItem, check_syntax
from mogui.core.trust import is_trusted, untrusted_error
from mogui.engine.losses.code_errors import explain, plain_text

LOSS_FUNCTION = "loss"


def code_filename(label: str) -> str:
    """The file name user code compiled under ``label`` runs as."""
    return f"<{label}>"


def _register_lines(filename: str, source: str) -> None:
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # An entry without mtime is never dropped by linecache.checkcache().
    linecache.cache[filename] = (len(source), None, lines, filename)


def compile_loss_source(source: str, label: str, *,
                        allow_mask: bool = False) -> Callable[..., Any]:
    """Compile ``source`` and return its ``loss(y_true, y_pred)`` function.

    The code runs only when trusted (:func:`mogui.core.trust.is_trusted`); otherwise
    :class:`~mogui.core.errors.UntrustedCodeError` is raised and nothing of it runs. It runs
    in a fresh namespace where ``keras``, ``ops`` (``keras.ops``) and ``np`` are already
    imported. Raises :class:`CustomCodeError` for syntax errors, errors while the module
    runs, and a missing, non-callable or wrongly shaped ``loss``. With ``allow_mask``
    (the joint loss) ``loss(y_true, y_pred, mask)`` is accepted too.
    """
    filename = code_filename(label)
    if not source.strip():
        raise CustomCodeError("the code is empty; define a function loss(y_true, y_pred)",
                              label)
    if not is_trusted(source):  # first: nothing of untrusted code is compiled or run
        raise untrusted_error([CodeItem(label, None, source)])
    _register_lines(filename, source)
    code = check_syntax(source, label)
    namespace: dict[str, Any] = {
        "__name__": f"mogui_user_code_{abs(hash(label))}",
        "__file__": filename,
        "keras": keras,
        "ops": ops,
        "np": np,
    }
    try:
        exec(code, namespace)
    except SystemExit as exc:
        raise _exit_error(exc, label, "while the code was loading") from None
    except Exception as exc:
        raise user_error(exc, label, "while the code was loading") from None
    fn = namespace.get(LOSS_FUNCTION)
    if fn is None:
        raise CustomCodeError("the code defines no function named 'loss'; add "
                              "def loss(y_true, y_pred): ...", label)
    if not callable(fn):
        raise CustomCodeError(f"'loss' is a {type(fn).__name__}, not a function; define "
                              "def loss(y_true, y_pred): ...", label)
    _check_signature(fn, label, allow_mask)
    return fn


def _check_signature(fn: Callable[..., Any], label: str, allow_mask: bool) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    with_mask = allow_mask and "mask" in signature.parameters
    try:
        signature.bind(*([None] * (3 if with_mask else 2)))
    except TypeError:
        params = ", ".join(signature.parameters)
        line = getattr(getattr(fn, "__code__", None), "co_firstlineno", None)
        wanted = "def loss(y_true, y_pred)"
        if allow_mask:
            wanted += " or def loss(y_true, y_pred, mask)"
        raise CustomCodeError(f"loss({params}) must accept exactly the arguments of {wanted}",
                              label, line) from None


def user_lineno(tb: TracebackType | None, label: str) -> int | None:
    """The line of the innermost traceback frame that runs the user's code, if any."""
    filename = code_filename(label)
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def user_traceback(exc: BaseException, label: str) -> str:
    """The traceback of ``exc`` reduced to the frames in the user's code."""
    filename = code_filename(label)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def user_error(exc: BaseException, label: str, when: str = "", *,
               heads: Sequence[str] = (), per_head: bool = False) -> CustomCodeError:
    """Turn an exception raised by user code into a :class:`CustomCodeError`.

    Common mistakes get plain words (see :func:`.code_errors.explain`): ``heads`` are the
    head names a joint loss's dicts hold, ``per_head`` marks one head's loss.
    """
    if isinstance(exc, CustomCodeError):
        return exc
    lineno = user_lineno(exc.__traceback__, label)
    line = linecache.getline(code_filename(label), lineno) if lineno else ""
    explained = explain(exc, line, heads=heads, per_head=per_head)
    raw = plain_text(str(exc))
    message = raw.strip().splitlines()[0] if raw.strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if explained is not None:
        text = f"{explained} ({type(exc).__name__})"
    if when:
        text = f"{text} ({when})"
    return CustomCodeError(text, label, lineno, details=user_traceback(exc, label))


def _exit_error(exc: SystemExit, label: str, when: str = "") -> CustomCodeError:
    """The user's code tried to end the program: a plain error instead."""
    where = f" {when}" if when else ""
    return CustomCodeError(f"the code called sys.exit({exc.code!r}){where}; loss code must "
                           "return a value, never end the program. Remove that call",
                           label, user_lineno(exc.__traceback__, label))


def call_user_code(fn: Callable[..., Any], label: str, *args: Any,
                   heads: Sequence[str] = (), per_head: bool = False) -> Any:
    """Call ``fn(*args)``; an exception becomes a :class:`CustomCodeError` at the user's line
    (``heads`` and ``per_head`` as for :func:`user_error`)."""
    try:
        return fn(*args)
    except CustomCodeError:
        raise
    except SystemExit as exc:
        raise _exit_error(exc, label) from None
    except Exception as exc:
        raise user_error(exc, label, heads=heads, per_head=per_head) from None


def return_lineno(source: str) -> int | None:
    """Line of the last ``return`` in the top-level ``loss`` function (its ``def`` if none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "loss":
            returns = [n.lineno for n in _own_nodes(node) if isinstance(n, ast.Return)]
            return max(returns) if returns else node.lineno
    return None


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """Nodes of ``function``'s body, not descending into nested functions or classes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))
    return found
