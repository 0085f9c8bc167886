"""Plain words for the errors user loss code hits: TensorFlow's texts from eager runs and from
compiled training steps, a per-head loss reaching for another head, a misspelt head."""

from __future__ import annotations

from mogui.core.project import Project
from mogui.engine.losses.code_errors import explain, plain_text, shape_pair, user_code_failure

EAGER = ("{{function_node __wrapped__Sub_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
         "Incompatible shapes: [8,4] vs. [8,3] [Op:Sub] name: ")
TRACED = ("Dimensions must be equal, but are 4 and 3 for '{{node sub}} = Sub[T=DT_FLOAT](a, b)' "
          "with input shapes: [?,4], [?,3].")
COMPILED = ("Graph execution error:\n\nDetected at node StatefulPartitionedCall/kind_loss/MatMul "
            "defined at (most recent call last):\n<stack traces unavailable>\nMatrix "
            "size-incompatible: In[0]: [8,1], In[1]: [8,3]\n\t [[{{node StatefulPartitionedCall/"
            "kind_loss/MatMul}}]] [Op:__inference_multi_step_on_iterator_1487]")
WITH_STACK = ('Graph execution error:\n\nDetected at node kind_loss/Reshape defined at (most '
              'recent call last):\n  File "<kind loss>", line 4, in loss\n\n  File "/x/numpy.py"'
              ', line 9, in reshape\n\nInput to reshape is a tensor with 24 values, but the '
              'requested shape requires a multiple of 5\n\t [[{{node kind_loss/Reshape}}]] '
              '[Op:__inference_multi_step_on_iterator_1491]')


def project(loss_kind: str = "custom") -> Project:
    return Project.model_validate({
        "inputs": [{"name": "x", "shape": [3]}],
        "heads": [{"name": "size", "task": "regression", "units": 1},
                  {"name": "kind", "task": "multiclass", "units": 3,
                   "loss": {"kind": loss_kind, "source": "def loss(y_true, y_pred):\n    ..."}}]})


def test_shape_pairs_are_read_from_every_wording():
    assert shape_pair(EAGER) == ("(8, 4)", "(8, 3)")
    assert shape_pair(TRACED) == ("(batch, 4)", "(batch, 3)")
    assert shape_pair("Input shapes are: [8, 4] and [3]") == ("(8, 4)", "(3,)")
    assert shape_pair("operands could not be broadcast together with shapes (8,4) (8,3)") == \
        ("(8, 4)", "(8, 3)")
    assert shape_pair("name 'x' is not defined") is None


def test_shape_errors_name_the_shapes_the_operation_and_the_line():
    text = explain(ValueError(TRACED), "    return ops.mean(a - b)\n")
    assert text == ("the shapes (batch, 4) and (batch, 3) do not fit together in a subtraction "
                    "(-) (return ops.mean(a - b)). Make them agree: check the number of units "
                    "or classes against y_true and y_pred, or reshape one side")


def test_a_per_head_loss_reaching_for_another_head():
    error = TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                      "scalar tf.int32/tf.int64 tensors are valid indices, got 'box'")
    text = explain(error, "    box = y_pred['box']", per_head=True)
    assert text is not None and text.startswith("y_pred['box'] fails: a per-head loss sees only "
                                                "its own head's tensors")
    assert "use the joint loss mode to combine heads" in text
    assert explain(error, "    box = y_pred['box']") is None  # a joint loss may index by name
    assert explain(KeyError("a"), "    w = weights['a']", per_head=True) is None


def test_a_misspelt_head_in_a_joint_loss_lists_the_heads():
    text = explain(KeyError("sise"), "", heads=["size", "kind"])
    assert text == ("there is no head named 'sise'; y_true and y_pred hold the heads 'size', "
                    "'kind'. Check the spelling")
    assert explain(KeyError("size"), "", heads=["size", "kind"]) is None


def test_tensorflow_decoration_is_removed():
    assert plain_text(EAGER) == "Incompatible shapes: [8,4] vs. [8,3] (operation Sub)"


def test_a_compiled_step_failure_names_the_head_and_its_line_when_known():
    error = user_code_failure(project(), RuntimeError(COMPILED))
    assert error is not None and error.label == "kind loss" and error.lineno is None
    assert str(error) == ("kind loss: the shapes (8, 1) and (8, 3) do not fit together in a "
                          "matrix product during training. Make the shapes agree; the dry run "
                          "(mogui validate) names the line")
    error = user_code_failure(project(), RuntimeError(WITH_STACK))
    assert error is not None and error.lineno == 4
    assert str(error).startswith("kind loss (line 4): a Reshape failed: Input to reshape is a "
                                 "tensor with 24 values, but the requested shape requires a "
                                 "multiple of 5 during training")


def test_a_compiled_step_failure_outside_custom_code_is_not_claimed():
    assert user_code_failure(project("sparse_categorical_crossentropy"),
                             RuntimeError(COMPILED)) is None
    assert user_code_failure(project(), RuntimeError("Graph execution error: out of memory")) \
        is None
