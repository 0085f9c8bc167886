"""Targets are checked against each head's task before Keras sees them (case 7)."""

from __future__ import annotations

import numpy as np
import pytest

from mogui.core.errors import DataError
from mogui.engine.data.targets import prepare_targets
from mogui.engine.losses import compile_model
from tests.engine.loss_models import hand_model, head, tiny_data, tiny_project

LABELS = np.array([0, 2, 1, 5, 3, 4])
ONE_HOT = np.eye(6, dtype="float32")[LABELS]


def _project(*heads):
    return tiny_project(list(heads))


def test_shapes_and_dtypes_per_task():
    project = _project(head("reg", units=1), head("bin", "binary", 1),
                       head("tags", "multilabel", 3), head("cls", "multiclass", 6),
                       head("hot", "multiclass_onehot", 6))
    y = prepare_targets(project, {
        "reg": np.arange(6, dtype="float64"),
        "bin": np.array([0, 1, 1, 0, 1, 0]),
        "tags": np.array([[0, 1, 1]] * 6),
        "cls": LABELS.astype("float64"),
        "hot": ONE_HOT.astype("int64"),
    })
    assert (y["reg"].shape, y["reg"].dtype) == ((6, 1), np.float32)
    assert (y["bin"].shape, y["bin"].dtype) == ((6, 1), np.float32)
    assert (y["tags"].shape, y["tags"].dtype) == ((6, 3), np.float32)
    assert (y["cls"].shape, y["cls"].dtype) == ((6, 1), np.int32)
    assert (y["hot"].shape, y["hot"].dtype) == ((6, 6), np.float32)
    np.testing.assert_array_equal(y["cls"][:, 0], LABELS)


def test_one_hot_given_to_a_sparse_head_names_the_task_to_pick():
    project = _project(head("cls", "multiclass", 6))
    with pytest.raises(DataError, match="one-hot rows") as info:
        prepare_targets(project, {"cls": ONE_HOT})
    assert "multiclass_onehot" in str(info.value)
    assert "argmax" in str(info.value)


def test_integer_labels_given_to_a_one_hot_head_names_the_task_to_pick():
    project = _project(head("cls", "multiclass_onehot", 6))
    for labels in (LABELS, LABELS.reshape(-1, 1)):
        with pytest.raises(DataError, match="integer class ids") as info:
            prepare_targets(project, {"cls": labels})
        assert "'multiclass'" in str(info.value)
        assert "sparse_categorical_crossentropy" in str(info.value)


def test_label_out_of_range_message():
    project = _project(head("classification", "multiclass", 6))
    with pytest.raises(DataError) as info:
        prepare_targets(project, {"classification": np.array([0, 7, 2])})
    assert str(info.value) == ("classification: label 7 found but the head has 6 units; "
                               "labels must be 0..5")
    with pytest.raises(DataError, match="label -1 found"):
        prepare_targets(project, {"classification": np.array([0, -1, 2])})


def test_fractional_labels_and_wrong_columns_are_refused():
    project = _project(head("cls", "multiclass", 3), head("box", units=4))
    with pytest.raises(DataError, match="fractions"):
        prepare_targets(project, {"cls": np.array([0.5, 1.0]), "box": np.zeros((2, 4))})
    with pytest.raises(DataError, match=r"box: .*\(samples, 4\), got \(2, 3\)"):
        prepare_targets(project, {"cls": np.array([0, 1]), "box": np.zeros((2, 3))})


def test_binary_head_with_class_ids_suggests_multiclass():
    project = _project(head("b", "binary", 1))
    with pytest.raises(DataError, match=r"0/1 labels.*'multiclass' with 4 units"):
        prepare_targets(project, {"b": np.array([0, 3, 1])})


def test_missing_and_non_finite_targets():
    project = _project(head("a"), head("b"))
    with pytest.raises(DataError, match=r"No target for head\(s\) 'b': the data holds "):
        prepare_targets(project, {"a": np.zeros((4, 2))})
    with pytest.raises(DataError, match="NaN"):
        prepare_targets(project, {"a": np.zeros((4, 2)), "b": np.full((4, 2), np.nan)})
    with pytest.raises(DataError, match="different numbers of samples"):
        prepare_targets(project, {"a": np.zeros((4, 2)), "b": np.zeros((5, 2))})


def test_untrained_head_without_data_gets_a_placeholder():
    project = _project(head("a"), head("idle", "multiclass", 3, enabled=False))
    y = prepare_targets(project, {"a": np.zeros((4, 2))})
    assert y["idle"].shape == (4, 1)


def test_checked_targets_fit_where_raw_mismatch_would_crash_deep_in_keras():
    """The sparse head trains on checked labels; the mismatch never reaches TensorFlow."""
    project = _project(head("cls", "multiclass", 6))
    model = compile_model(hand_model(project), project)
    data = tiny_data({"cls": np.tile(LABELS, 2)}, n=12)
    history = model.fit(data.x, prepare_targets(project, data.y), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(DataError):
        prepare_targets(project, {"cls": np.tile(ONE_HOT, (2, 1))})
