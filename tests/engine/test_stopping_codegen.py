"""The generated script stops as mogui does: Keras' callbacks with mogui's direction for one
value, the engine's own criterion callbacks (copied as written) for several."""

from __future__ import annotations

import ast

from mogui.core.io import load_example
from mogui.core.project import CriterionMetric
from mogui.engine.export.codegen import generate_script
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.plain_keras import stopping


def _demo():
    project = load_example("bbox_classification")
    project.training.early_stopping.enabled = True
    return project


def test_one_value_keeps_keras_early_stopping_with_its_direction():
    project = _demo()
    project.training.early_stopping.monitor = "val_classification_sparse_categorical_accuracy"
    project.training.early_stopping.min_delta = 0.001
    script = generate_script(project, format_code=False)
    assert ('monitor="val_classification_sparse_categorical_accuracy", mode="max", '
            "min_delta=0.001, patience=5, restore_best_weights=True") in script
    assert "class CriterionEarlyStopping" not in script and "class Criterion" not in script


def test_several_values_copy_the_engine_s_callbacks():
    project = _demo()
    early = project.training.early_stopping
    early.criterion = "lexicographic"
    early.metrics = [CriterionMetric(metric="val_bbox_loss", tolerance=0.01),
                     CriterionMetric(metric="val_classification_sparse_categorical_accuracy")]
    project.training.checkpointing.enabled = True
    project.training.checkpointing.criterion = "all_heads"
    script = generate_script(project, format_code=False)
    ast.parse(script)
    for name in ("CRITERIA", "Criterion", "stop_summary", "CriterionEarlyStopping",
                 "CriterionCheckpoint"):
        assert definitions(stopping, name) in script, name
    assert ('EARLY_STOPPING_WATCHES = [["val_bbox_loss", "min", 1.0, 0.01], '
            '["val_classification_sparse_categorical_accuracy", "max", 1.0, None]]') in script
    assert ('CHECKPOINT_WATCHES = [["val_bbox_loss", "min", 1.0, None], '
            '["val_classification_loss", "min", 1.0, None]]') in script
    assert 'Criterion("lexicographic", EARLY_STOPPING_WATCHES, min_delta=0.0)' in script
    assert 'CriterionCheckpoint(str(out_dir / "checkpoint.keras"), Criterion("all_heads", ' \
        "CHECKPOINT_WATCHES))" in script
    assert "    print(early_stopping.summary())" in script


def test_no_stopping_code_when_nothing_stops():
    script = generate_script(load_example("bbox_classification"), format_code=False)
    assert "EarlyStopping" not in script and "Criterion" not in script
