"""Code generation, stopping part: early stopping and checkpoints, as the engine makes them.

One watched value gives Keras' own ``EarlyStopping`` / ``ModelCheckpoint`` with mogui's
direction; several give the engine's callbacks (:mod:`mogui.engine.plain_keras.stopping`),
copied as written, so the script stops at the same epoch with the same restored weights.
"""

from __future__ import annotations

from mogui.core.criteria import criterion_spec
from mogui.core.project import Project
from mogui.engine.export.codegen.literals import lit
from mogui.engine.export.codegen.shared import definitions, needed_names
from mogui.engine.plain_keras import stopping


def _early_criterion(project: Project) -> str | None:
    early = project.training.early_stopping
    return criterion_spec(project, early)[0] if early.enabled else None


def _checkpoint_criterion(project: Project) -> str | None:
    checkpoint = project.training.checkpointing
    if not checkpoint.enabled or not checkpoint.save_best_only:
        return None
    return criterion_spec(project, checkpoint)[0]


def _roots(project: Project) -> list[str]:
    roots = []
    if _early_criterion(project) not in (None, "monitor"):
        roots.append("CriterionEarlyStopping")
    if _checkpoint_criterion(project) not in (None, "monitor"):
        roots.append("CriterionCheckpoint")
    return ["Criterion", *roots] if roots else []


def stopping_settings(project: Project) -> list[str]:
    """Settings lines: the values each criterion of several values watches."""
    lines = []
    for name, constant, kind in (
            ("early_stopping", "EARLY_STOPPING_WATCHES", _early_criterion(project)),
            ("checkpointing", "CHECKPOINT_WATCHES", _checkpoint_criterion(project))):
        if kind in (None, "monitor"):
            continue
        watched = criterion_spec(project, getattr(project.training, name))[1]
        what = "Early stopping" if name == "early_stopping" else "The best checkpoint"
        lines.append(f"# {what} watches ({kind}): (value, direction, weight, tolerance).")
        lines.append(f"{constant} = {lit([list(item) for item in watched])}")
    return lines


def stopping_section(project: Project) -> str:
    """The engine's stopping code a criterion of several values needs ("" for none)."""
    roots = _roots(project)
    if not roots:
        return ""
    return definitions(stopping, *needed_names(stopping, *roots))


def stopping_callbacks(project: Project) -> list[str]:
    """Lines of ``main`` that add early stopping and checkpointing to ``callbacks``."""
    settings = project.training
    lines: list[str] = []
    early = settings.early_stopping
    if early.enabled:
        kind, watched = criterion_spec(project, early)
        if kind == "monitor":
            name, direction, _, _ = watched[0]
            delta = f", min_delta={early.min_delta!r}" if early.min_delta else ""
            lines += [
                "    early_stopping = keras.callbacks.EarlyStopping(",
                f"        monitor={lit(name)}, mode={lit(direction)}{delta}, "
                f"patience={early.patience}, restore_best_weights={early.restore_best_weights}",
                "    )",
            ]
        else:
            lines += [
                "    early_stopping = CriterionEarlyStopping(",
                f"        Criterion({lit(kind)}, EARLY_STOPPING_WATCHES, "
                f"min_delta={early.min_delta!r}),",
                f"        patience={early.patience}, "
                f"restore_best_weights={early.restore_best_weights},",
                "    )",
            ]
        lines.append("    callbacks.append(early_stopping)")
    checkpoint = settings.checkpointing
    if checkpoint.enabled:
        kind, watched = criterion_spec(project, checkpoint)
        path = 'str(out_dir / "checkpoint.keras")'
        if kind == "monitor" or not checkpoint.save_best_only:
            name, direction, _, _ = watched[0]
            lines += [
                "    callbacks.append(",
                "        keras.callbacks.ModelCheckpoint(",
                f"            {path}, monitor={lit(name)}, mode={lit(direction)}, "
                f"save_best_only={checkpoint.save_best_only}",
                "        )",
                "    )",
            ]
        else:
            lines += [
                "    callbacks.append(",
                f"        CriterionCheckpoint({path}, Criterion({lit(kind)}, "
                "CHECKPOINT_WATCHES))",
                "    )",
            ]
    return lines


def stopping_report(project: Project) -> list[str]:
    """Lines of ``main``, after training, that say what early stopping of several values did."""
    if _early_criterion(project) in (None, "monitor"):
        return []
    return ["    print(early_stopping.summary())"]
