"""Training data: sources, checks, the split, missing labels and targets shaped per head.

The public face: :func:`load_data` (open and check a project's data), :func:`check_data` (a
report without raising), :func:`summarize_data` (a data file's columns, before any project),
:func:`project_labels` (each head's class names), :class:`Dataset` and
:class:`StreamingDataset` (what training reads),
:func:`prepare_masked_targets` (targets and per-head sample weights) and
:func:`predict_mean_baseline` (the figure training should beat).
"""

from mogui.engine.data.baseline import predict_mean_baseline
from mogui.engine.data.builtin import check_dataset, load_npz
from mogui.engine.data.checks import (
    DataProblem,
    DataReport,
    TargetSummary,
    check_data,
    load_checked,
    load_data,
)
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.demo import make_demo_shapes
from mogui.engine.data.labels import project_labels
from mogui.engine.data.masking import (
    classification_heads,
    missing_rows,
    one_hot_heads,
    prepare_masked_targets,
)
from mogui.engine.data.sources import RowSelection, StreamingDataset, open_source
from mogui.engine.data.sources.image_folder import IMAGE_SUFFIXES
from mogui.engine.data.sources.table import read_header
from mogui.engine.data.summary import summarize_data
from mogui.engine.data.targets import heads_needing_targets, prepare_targets
from mogui.engine.plain_keras.demo_shapes import SHAPE_CLASSES

__all__ = [
    "IMAGE_SUFFIXES",
    "SHAPE_CLASSES",
    "DataProblem",
    "DataReport",
    "Dataset",
    "RowSelection",
    "StreamingDataset",
    "TargetSummary",
    "check_data",
    "check_dataset",
    "classification_heads",
    "heads_needing_targets",
    "load_checked",
    "load_data",
    "load_npz",
    "make_demo_shapes",
    "missing_rows",
    "one_hot_heads",
    "open_source",
    "predict_mean_baseline",
    "prepare_masked_targets",
    "prepare_targets",
    "project_labels",
    "read_header",
    "summarize_data",
]
