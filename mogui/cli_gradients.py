"""``mogui train --grad-diagnostics [--grad-every N]``: gradient diagnostics for one run.

The options turn ``training.gradient_diagnostics`` on in this run's copy of the project (the
project file is left as it is); the run's ``history.csv`` then holds ``gradnorm_<head>`` and
``gradcos_<a>__<b>`` columns. The printed epoch table leaves them out (too wide); the last
lines say where they are.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mogui.core.log_keys import gradient_keys
from mogui.core.project import GradientDiagnostics, Project
from mogui.core.validation import check_project

_PATH = "training.gradient_diagnostics"


def add_gradient_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mogui train`` that turn gradient diagnostics on."""
    parser.add_argument("--grad-diagnostics", action="store_true",
                        help="sample each head's gradient on the shared trunk while training: "
                        "gradnorm_<head> and gradcos_<a>__<b> columns in history.csv (see "
                        "docs/experiments.md)")
    parser.add_argument("--grad-every", metavar="N",
                        help="sample every N training steps (default: the project's setting; "
                        "automatic if it has none: at least 50 steps apart, at most a tenth "
                        "of the training time); implies --grad-diagnostics")


def apply_gradient_options(project: Project, args: argparse.Namespace) -> str | None:
    """Put ``--grad-diagnostics`` and ``--grad-every`` into ``project`` (this run's copy);
    what is wrong with them, or ``None``."""
    every_text = getattr(args, "grad_every", None)
    if not getattr(args, "grad_diagnostics", False) and every_text is None:
        return None
    every = project.training.gradient_diagnostics.every
    if every_text is not None:
        try:
            every = int(every_text.strip())
        except ValueError:
            every = 0
        if every < 1:
            return (f"--grad-every '{every_text}' must be a whole number of at least 1: how "
                    "many training steps pass between two samples of the gradients.")
    project.training.gradient_diagnostics = GradientDiagnostics(enabled=True, every=every)
    problems = [p for p in check_project(project) if p.path.startswith(_PATH)]
    return f"{problems[0]} (--grad-diagnostics)." if problems else None


def describe_gradients(project: Project) -> list[str]:
    """One line when the run samples gradients: how often, on what."""
    settings = project.training.gradient_diagnostics
    if not settings.enabled:
        return []
    return [f"Gradient diagnostics: {settings.describe()}, on a probe batch of "
            f"{project.training.batch_size} training rows"]


def gradient_columns_line(project: Project, history: dict[str, Any], folder: Path
                          ) -> str | None:
    """Where the run's gradient columns are, when it wrote any."""
    heads = [head.name for head in project.loss_heads()]
    written = [key for key in gradient_keys(heads) if key in history]
    if not project.training.gradient_diagnostics.enabled or not written:
        return None
    shown = ", ".join(written[:4]) + (", …" if len(written) > 4 else "")
    return (f"Gradient diagnostics: {len(written)} columns ({shown}) in "
            f"{folder / 'history.csv'}")
