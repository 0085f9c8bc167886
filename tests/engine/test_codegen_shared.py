"""The generated script carries the engine's own code, so a fix reaches both."""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest

from mogui.core.io import load_example
from mogui.engine.data import Dataset
from mogui.engine.export.codegen import generate_script
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.plain_keras import (
    batches,
    demo_shapes,
    head_loss,
    head_trackers,
    history,
    masking,
    multi_head,
    reduction,
    split,
)
from mogui.engine.training import history_columns

CUSTOM = textwrap.dedent('''
    def loss(y_true, y_pred):
        return ops.mean(ops.abs(y_true - y_pred), axis=-1)
''').lstrip()

#: What every script copies from the engine, and what each kind of project adds.
ALWAYS = [
    (masking, ("MISSING_LABEL", "missing_rows", "fill_missing", "mask_missing")),
    (split, ("split_rows", "split_arrays")),
    (head_loss, ("MASKED_MEAN", "LOGIT_METRICS", "head_metrics")),
    (history, ("history_columns", "history_csv")),
    (batches, ("needed_weights", "packed_weights", "epoch_batches")),
    (head_trackers, ("as_number", "HeadMeans", "HeadWeights")),
    (reduction, ("replica_count", "sum_over_replicas", "reduce_term", "reduce_terms")),
    (multi_head, ("MultiHeadModel",)),
]
DEMO = [(demo_shapes, ("SHAPE_CLASSES", "NOISE_AMPLITUDE", "_shape_masks", "_bounding_boxes",
                       "draw_shapes", "make_demo_arrays", "demo_target"))]
JOINT = [(multi_head, ("as_float32", "JointLossModel"))]
PER_HEAD = [(multi_head, ("HeadLossModel",))]
CUSTOM_HEAD = [(head_loss, ("HeadLoss",))]


def _custom_head_project():
    project = load_example("bbox_classification")
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = CUSTOM
    return project


CASES = {
    "per-head built-in losses, demo data": (load_example("bbox_classification"),
                                            ALWAYS + DEMO + PER_HEAD),
    "joint loss": (load_example("bbox_classification_joint"), ALWAYS + DEMO + JOINT),
    "npz data": (load_example("multi_input"), ALWAYS + PER_HEAD),
    "custom head loss": (_custom_head_project(), ALWAYS + DEMO + PER_HEAD + CUSTOM_HEAD),
}


@pytest.mark.parametrize("case", list(CASES))
def test_script_holds_the_engine_text_of_every_shared_definition(case):
    project, shared = CASES[case]
    script = generate_script(project)
    for module, names in shared:
        for name in names:
            text = definitions(module, name)
            assert text.strip() in script, f"{module.__name__}.{name} is not copied as written"


@pytest.mark.parametrize("case", list(CASES))
def test_script_defines_each_shared_name_once(case):
    project, shared = CASES[case]
    tree = ast.parse(generate_script(project))
    defined = [node.name for node in tree.body
               if isinstance(node, ast.FunctionDef | ast.ClassDef)]
    defined += [t.id for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)]
    defined += [node.target.id for node in tree.body
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)]
    for _module, names in shared:
        for name in names:
            assert defined.count(name) == 1, name


def test_definitions_are_the_module_text():
    text = definitions(masking, "fill_missing")
    assert text.startswith("def fill_missing(target, missing, one_hot):")
    assert 'rows[:, 0] = 1' in text
    with pytest.raises(LookupError, match="defines no nothing_here"):
        definitions(masking, "nothing_here")


# -- the shared code against independent computations ------------------------------------------

def test_mask_missing_by_hand():
    y = {"reg": np.array([[1.0, 2.0], [np.nan, 0.0], [3.0, 4.0]]),
         "cls": np.array([[2], [-1], [0]]),
         "hot": np.array([[0, 1, 0], [-1, -1, -1], [1, 0, 0]]),
         "ints": np.array([[-1], [5], [-1]])}  # not a classification head: -1 is a value
    targets, weights = masking.mask_missing(y, ["cls", "hot"], ["hot"])
    np.testing.assert_array_equal(weights["reg"], [1, 0, 1])
    np.testing.assert_array_equal(weights["cls"], [1, 0, 1])
    np.testing.assert_array_equal(weights["hot"], [1, 0, 1])
    np.testing.assert_array_equal(weights["ints"], [1, 1, 1])
    np.testing.assert_array_equal(targets["reg"], [[1, 2], [0, 0], [3, 4]])
    np.testing.assert_array_equal(targets["cls"], [[2], [0], [0]])
    np.testing.assert_array_equal(targets["hot"], [[0, 1, 0], [1, 0, 0], [1, 0, 0]])
    assert weights["reg"].dtype == np.float32
    assert np.isnan(y["reg"][1, 0])  # the caller's arrays are left alone


def test_split_arrays_is_the_dataset_split():
    rng = np.random.default_rng(3)
    x = {"a": rng.normal(size=(23, 2))}
    y = {"h": np.arange(23)}
    train, val = Dataset(x=x, y=y).split(0.25, seed=7)
    x_train, x_val = split.split_arrays(x, 0.25, 7)
    y_train, y_val = split.split_arrays(y, 0.25, 7)
    np.testing.assert_array_equal(train.x["a"], x_train["a"])
    np.testing.assert_array_equal(val.y["h"], y_val["h"])
    assert len(y_val["h"]) == round(23 * 0.25)
    assert sorted([*y_train["h"], *y_val["h"]]) == list(range(23))
    assert split.split_arrays(x, 0.0, 7) == (x, None)


def test_history_csv_by_hand():
    hist = {"val_loss": [3.0, 2.0], "a_loss": [1.5, 1.0], "loss": [2.5, 1.5],
            "a_mae": [0.5, 0.25], "val_a_mae": [0.75, 0.5]}
    assert history_columns(hist, ["a"]) == ["loss", "a_loss", "val_loss", "a_mae", "val_a_mae"]
    assert history.history_csv(hist, ["a"]).splitlines() == [
        "epoch,loss,a_loss,val_loss,a_mae,val_a_mae",
        "1,2.5,1.5,3.0,0.5,0.75",
        "2,1.5,1.0,2.0,0.25,0.5",
    ]
