"""User loss code compiles in a fresh namespace and fails at the user's own line numbers."""

from __future__ import annotations

import linecache
import traceback

import numpy as np
import pytest

from mogui.core.errors import CustomCodeError
from mogui.engine.losses.user_code import call_user_code, compile_loss_source, return_lineno

LABEL = "bbox loss"


def test_compiled_loss_runs_with_preimported_ops_and_numpy():
    fn = compile_loss_source("def loss(y_true, y_pred):\n"
                             "    return ops.mean(ops.square(y_true - y_pred)) + np.float32(1)\n",
                             LABEL)
    value = float(fn(np.ones((2, 2), "float32"), np.zeros((2, 2), "float32")))
    assert value == pytest.approx(2.0)


def test_each_compile_gets_a_fresh_namespace():
    first = compile_loss_source("state = []\ndef loss(a, b):\n    return 0.0\n", LABEL)
    first.__globals__["state"].append(1)
    second = compile_loss_source("state = []\ndef loss(a, b):\n    return 0.0\n", LABEL)
    assert second.__globals__["state"] == []


def test_syntax_error_reports_the_user_line():
    with pytest.raises(CustomCodeError) as info:
        compile_loss_source("def loss(y_true, y_pred):\n    x = (1 +\n    return x\n", LABEL)
    err = info.value
    assert err.lineno == 2
    assert err.label == LABEL
    assert "syntax error" in str(err) and "(line 2)" in str(err)


def test_missing_or_non_callable_loss_is_explained():
    with pytest.raises(CustomCodeError, match="no function named 'loss'"):
        compile_loss_source("def my_loss(y_true, y_pred):\n    return 0\n", LABEL)
    with pytest.raises(CustomCodeError, match="not a function"):
        compile_loss_source("loss = 3\n", LABEL)
    with pytest.raises(CustomCodeError, match="empty"):
        compile_loss_source("   \n", LABEL)


def test_wrong_signature_points_at_the_def_line():
    with pytest.raises(CustomCodeError, match="exactly the arguments") as info:
        compile_loss_source("import math\n\ndef loss(y_true):\n    return 0\n", LABEL)
    assert info.value.lineno == 3


def test_joint_loss_may_take_a_mask_argument():
    source = "def loss(y_true, y_pred, mask):\n    return 0.0\n"
    assert compile_loss_source(source, "joint loss", allow_mask=True)(1, 2, 3) == 0.0
    with pytest.raises(CustomCodeError, match="y_pred, mask"):
        compile_loss_source(source, LABEL)


def test_error_while_module_loads_reports_its_line():
    with pytest.raises(CustomCodeError, match="ZeroDivisionError") as info:
        compile_loss_source("x = 1\ny = x / 0\ndef loss(a, b):\n    return 0\n", LABEL)
    assert info.value.lineno == 2


def test_runtime_error_maps_to_the_innermost_user_line():
    source = ("def helper(t):\n"
              "    return t[10]\n"
              "\n"
              "def loss(y_true, y_pred):\n"
              "    return helper([1, 2])\n")
    fn = compile_loss_source(source, LABEL)
    with pytest.raises(CustomCodeError) as info:
        call_user_code(fn, LABEL, None, None)
    err = info.value
    assert err.lineno == 2
    assert "IndexError" in err.reason
    assert "return t[10]" in err.details


def test_linecache_lets_tracebacks_show_user_lines():
    fn = compile_loss_source("def loss(y_true, y_pred):\n    raise ValueError('boom')\n",
                             "my label")
    assert linecache.getline("<my label>", 2).strip() == "raise ValueError('boom')"
    try:
        fn(None, None)
    except ValueError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "raise ValueError('boom')" in text


def test_return_line_is_the_last_return_of_loss_not_of_nested_functions():
    source = ("def loss(y_true, y_pred):\n"
              "    def inner():\n"
              "        return 1\n"
              "    if y_true is None:\n"
              "        return 0\n"
              "    return inner()\n")
    assert return_lineno(source) == 6
    assert return_lineno("def loss(a, b):\n    pass\n") == 1
