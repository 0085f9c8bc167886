"""Evaluation: what a trained run gets right and wrong, per head, and its predictions for new
data.

The public face: :func:`evaluate_run` / :func:`evaluate_model` (per head: confusion matrix with
per-class precision and recall, predicted-versus-true pairs and residuals, the worst rows),
:func:`predict_run` / :func:`predict_with` (a table with one column per head, class names for
classification heads) and the result types.
"""

from mogui.engine.evaluation.evaluate import Evaluation, Rows, evaluate_model, evaluate_run
from mogui.engine.evaluation.metrics import (
    ClassStats,
    HeadEvaluation,
    WorstRow,
    class_stats,
    confusion_matrix,
    evaluate_head,
    regression_summary,
)
from mogui.engine.evaluation.predict import PredictionTable, predict_run, predict_with

__all__ = [
    "ClassStats",
    "Evaluation",
    "HeadEvaluation",
    "PredictionTable",
    "Rows",
    "WorstRow",
    "class_stats",
    "confusion_matrix",
    "evaluate_head",
    "evaluate_model",
    "evaluate_run",
    "predict_run",
    "predict_with",
    "regression_summary",
]
