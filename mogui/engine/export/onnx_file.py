"""The ONNX file of an export: the inference model's graph with every value frozen in.

Keras' own ONNX export leaves values the model holds as constants rather than variables (a
``Normalization`` layer's mean and variance, a standardized head's scale) as inputs of the
graph, which onnxruntime then asks for. Here the traced function is frozen first
(``convert_variables_to_constants_v2``), so the file takes the model's inputs only; inputs and
outputs keep the model's names (its inputs', and each head's).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def write_onnx(plain: Any, path: Path) -> None:
    """Write ``plain`` (a model with dict outputs keyed by head) as ONNX to ``path``."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    names = [t.name.split(":")[0] for t in plain.inputs]
    spec = [tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=name)
            for t, name in zip(plain.inputs, names, strict=True)]
    heads: list[str] = []
    output_tensors: list[str] = []

    @tf.function(input_signature=spec)
    def serve(*args: Any) -> list[Any]:
        out = plain(dict(zip(names, args, strict=True)), training=False)
        heads[:] = list(out)
        tensors = [tf.identity(out[head], name=f"{head}_output") for head in heads]
        output_tensors[:] = [t.name for t in tensors]
        return tensors

    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())
    with warnings.catch_warnings():  # tf2onnx's own deprecation notices
        warnings.simplefilter("ignore")
        import tf2onnx

        proto, _ = tf2onnx.convert.from_graph_def(
            frozen.graph.as_graph_def(), input_names=[t.name for t in frozen.inputs],
            output_names=output_tensors)
    renames = {t.name: name for t, name in zip(frozen.inputs, names, strict=True)}
    renames.update(zip(output_tensors, heads, strict=True))
    _rename(proto.graph, renames)
    path.write_bytes(proto.SerializeToString())


def _rename(graph: Any, renames: dict[str, str]) -> None:
    """Give the graph's inputs and outputs their model names, wherever they are used."""
    for value in (*graph.input, *graph.output):
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)
        for i, name in enumerate(node.output):
            node.output[i] = renames.get(name, name)


__all__ = ["write_onnx"]
