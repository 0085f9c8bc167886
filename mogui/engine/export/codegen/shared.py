"""Definitions of :mod:`mogui.engine.plain_keras`, as written there, for the generated script.

The script copies the engine's own text, so the code that trains in mogui and the code that
trains in the script cannot drift apart. The text is read from the package's ``.py`` files
(``importlib.resources``), which every install and the desktop bundle ship.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib import resources
from types import ModuleType

from mogui.core.errors import MoguiError


@cache
def module_text(module_name: str) -> str:
    """The source text of a module of mogui's."""
    package, _, leaf = module_name.rpartition(".")
    try:
        return resources.files(package).joinpath(f"{leaf}.py").read_text(encoding="utf-8")
    except OSError as exc:
        raise MoguiError(f"mogui's file {leaf}.py (package {package}) cannot be read, so the "
                         f"training script cannot be written: {exc}. Reinstall mogui.") from None


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = node
    return found


def definitions(module: ModuleType, *names: str) -> str:
    """The source of the top-level ``names`` of ``module``, in that order, as in the file.

    Functions and classes are separated by two blank lines, consecutive assignments by none.
    """
    text = module_text(module.__name__)
    found = _top_level(ast.parse(text))
    missing = [name for name in names if name not in found]
    if missing:
        raise LookupError(f"{module.__name__} defines no {', '.join(missing)}")
    text_parts: list[str] = []
    previous: ast.stmt | None = None
    for name in names:
        node = found[name]
        if previous is not None:
            assignments = all(isinstance(n, ast.Assign | ast.AnnAssign) for n in (previous, node))
            text_parts.append("\n" if assignments else "\n\n\n")
        text_parts.append(ast.get_source_segment(text, node) or "")
        previous = node
    return "".join(text_parts) + "\n"


def needed_names(module: ModuleType, *roots: str) -> list[str]:
    """``roots`` and every top-level name of ``module`` they use, directly or through others,
    in the order the module defines them: what a script copies for ``roots`` to run."""
    text = module_text(module.__name__)
    found = _top_level(ast.parse(text))
    missing = [name for name in roots if name not in found]
    if missing:
        raise LookupError(f"{module.__name__} defines no {', '.join(missing)}")
    wanted: set[str] = set()
    queue = list(roots)
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted.add(name)
        used = {node.id for node in ast.walk(found[name]) if isinstance(node, ast.Name)}
        queue.extend(sorted(used & set(found) - wanted))
    return [name for name in found if name in wanted]
