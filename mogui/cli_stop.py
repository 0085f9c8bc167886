"""``mogui train --stop-on/--checkpoint-on/--patience``: what early stopping and checkpoints
watch in one run, without changing the project file; and how ``validate`` and ``train`` say it.

A criterion is written ``KIND[:VALUES]`` (:data:`mogui.core.criteria.SPEC_EXAMPLES`):
``monitor:val_loss``, ``weighted:val_a_loss=1,val_b_loss=0.5``,
``lexicographic:val_a_loss~0.01,val_b_loss`` or ``all-heads`` (each loss head's validation
loss, or the values named after a colon).
"""

from __future__ import annotations

import argparse
from typing import Any

from mogui.core.criteria import SPEC_EXAMPLES, criterion_problems, describe_setting, parse_criterion
from mogui.core.events import TrainingFinished
from mogui.core.project import Project

#: The options, the settings they change and what each turns on.
_OPTIONS = (("stop_on", "--stop-on", "early_stopping"),
            ("checkpoint_on", "--checkpoint-on", "checkpointing"))


def add_stop_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stop-on``, ``--patience`` and ``--checkpoint-on``."""
    parser.add_argument("--stop-on", metavar="CRITERION",
                        help="early stopping for this run, on: " + SPEC_EXAMPLES.replace(
                            "%", "%%") + " (see docs/experiments.md)")
    parser.add_argument("--patience", metavar="N",
                        help="epochs without improvement before early stopping ends the run "
                        "(default: the project's)")
    parser.add_argument("--checkpoint-on", metavar="CRITERION",
                        help="keep the best epoch's model in checkpoint.keras, best by the "
                        "same kind of criterion as --stop-on")


def apply_stop_options(project: Project, args: argparse.Namespace) -> str | None:
    """Put ``--stop-on``, ``--patience`` and ``--checkpoint-on`` into ``project`` (this run's
    copy); what is wrong with them, or ``None``."""
    for attribute, option, name in _OPTIONS:
        text = getattr(args, attribute, None)
        if text is None:
            continue
        try:
            kind, monitor, metrics = parse_criterion(text)
        except ValueError as exc:
            return f"{option} {exc}."
        setting = getattr(project.training, name)
        setting.enabled = True
        setting.criterion = kind
        if kind == "monitor":
            setting.monitor = monitor
        else:
            setting.metrics = metrics
        if name == "checkpointing":
            setting.save_best_only = True
    patience = getattr(args, "patience", None)
    if patience is not None:
        if not patience.isdigit() or int(patience) < 1:
            return (f"--patience '{patience}' must be a whole number of 1 or more: the epochs "
                    "without improvement before early stopping ends the run.")
        if not project.training.early_stopping.enabled:
            return ("--patience needs early stopping: give --stop-on too (e.g. --stop-on "
                    "all-heads) or switch early stopping on in the project.")
        project.training.early_stopping.patience = int(patience)
    for path, message in criterion_problems(project):
        for attribute, option, name in _OPTIONS:
            if getattr(args, attribute, None) is not None and f".{name}." in f"{path}.":
                return f"{option}: {_value_of(path)}{message}."
    return None


def _value_of(path: str) -> str:
    """``the 2nd value `` for ``…metrics[1].metric``; "" for another path."""
    if "[" not in path:
        return "it "
    index = int(path[path.index("[") + 1:path.index("]")])
    return f"value {index + 1} "


def describe_stopping(project: Project) -> list[str]:
    """``early stopping: …`` and ``checkpoints: …`` lines for settings that are on."""
    lines = []
    for name, title in (("early_stopping", "early stopping"), ("checkpointing", "checkpoints")):
        if getattr(project.training, name).enabled:
            lines.append(f"{title}: {describe_setting(project, name)}")
    return lines


def early_stop_line(event: Any) -> str | None:
    """What early stopping did, from the run's last event (``None``: it was off)."""
    if isinstance(event, TrainingFinished) and event.early_stop is not None:
        return event.early_stop.summary
    return None
