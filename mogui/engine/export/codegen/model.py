"""Code generation, model part: the layer graph as straight-line functional Keras code.

Layers are created and called in exactly the order of :func:`mogui.engine.model.build.plan_graph`,
with the same (validated) parameters, so the script's weights start from the same random
numbers as mogui's model.
"""

from __future__ import annotations

import builtins
import keyword

from mogui.core.layers import LAYER_KINDS, validate_params
from mogui.core.project import Project
from mogui.core.validation import standardized_layer_name
from mogui.engine.export.codegen.literals import lit
from mogui.engine.model import GraphStep, model_name, plan_graph

#: Names the script defines itself; a layer with one of these names gets a trailing ``_``.
SCRIPT_NAMES = frozenset({
    "keras", "np", "ops", "csv", "io", "inspect", "sys", "Path", "inputs", "outputs", "model",
    "x", "y", "main", "load_data", "prepare_targets", "build_model", "compile_model",
    "as_column", "weights", "split_rows", "split_arrays", "missing_rows", "fill_missing",
    "mask_missing", "history_columns", "history_csv", "head_metrics", "as_float32",
    "reduce_term", "reduce_terms", "packed_weights", "make_joint_loss", "make_demo_arrays",
    "draw_shapes", "demo_target",
    "JointLossModel", "HeadLoss", "HeadLossLogger", "MultiHeadModel", "HeadLossModel",
    "epoch_batches", "needed_weights", "tf", "math", "adapt_scaling", "moments", "set_moments",
    "normalization_layers", "layer_values", "labelled", "read_table", "table_arrays",
    "column_numbers", "class_ids", "one_hot_rows", "one_hot_numbers", "EMPTY_CELLS", "is_empty",
    "CLASS_NAMES", "DATA_FILE", "DELIMITER", "INPUT_COLUMNS", "TARGET_COLUMNS", "INPUT_DTYPES",
    "replica_count", "sum_over_replicas", "loss_values", "HeadMeans", "HeadWeights", "as_number",
    "LossWeightSchedule",
    "training_strategy", "training_devices", "GradientBalancing", "strategy",
})


def variable_name(name: str) -> str:
    """A Python variable for a layer or input name that shadows nothing the script needs."""
    if keyword.iskeyword(name) or hasattr(builtins, name) or name in SCRIPT_NAMES \
            or name.isupper():
        return f"{name}_"
    return name


def _layer_call(step: GraphStep, project: Project, mixed_precision: bool) -> str:
    sources = [variable_name(ref) for ref in step.inputs]
    if step.spec is None:  # a head's output layer
        head = project.head(step.name)
        name = standardized_layer_name(head.name) if head.standardize else head.name
        args = [str(head.units), f"activation={lit(head.output_activation)}",
                f"name={lit(name)}"]
        if mixed_precision:
            args.append('dtype="float32"')
        layer = f"keras.layers.Dense({', '.join(args)})"
    else:
        params = validate_params(step.spec.kind, step.spec.params)
        if step.spec.kind == "Bidirectional":
            return f"{_bidirectional(params, step.spec.name)}({sources[0]})"
        args = [f"{key}={lit(value)}" for key, value in params.items()]
        args.append(f"name={lit(step.spec.name)}")
        if mixed_precision and step.spec.kind == "Normalization":
            args.append('dtype="float32"')
        layer = f"keras.layers.{step.spec.kind}({', '.join(args)})"
    if step.kind == "MultiHeadAttention":
        return f"{layer}({_attention_arguments(sources)})"
    merge = LAYER_KINDS[step.kind].is_merge if step.kind in LAYER_KINDS else False
    argument = f"[{', '.join(sources)}]" if merge else sources[0]
    return f"{layer}({argument})"


def _bidirectional(params: dict, name: str) -> str:
    """``keras.layers.Bidirectional(keras.layers.LSTM(...), ...)``, as the engine builds it."""
    recurrent = dict(params)
    kind, merge_mode = recurrent.pop("layer"), recurrent.pop("merge_mode")
    args = [f"{key}={lit(value)}" for key, value in recurrent.items()]
    args.append(f"name={lit(f'{name}_{kind.lower()}')}")
    return (f"keras.layers.Bidirectional(keras.layers.{kind}({', '.join(args)}), "
            f"merge_mode={lit(merge_mode)}, name={lit(name)})")


def _attention_arguments(sources: list[str]) -> str:
    """MultiHeadAttention's inputs in order: query, value (the query itself when there is
    one input: self-attention) and key (left out: the value)."""
    if len(sources) == 1:
        return f"{sources[0]}, {sources[0]}"
    if len(sources) == 2:
        return ", ".join(sources)
    return f"{sources[0]}, {sources[1]}, key={sources[2]}"


def model_section(project: Project) -> str:
    """``build_model()``: inputs, shared trunk, each head, then the (joint) Keras model."""
    steps = plan_graph(project)
    used = {ref for step in steps for ref in step.inputs} | set(project.head_names)
    mixed = project.training.mixed_precision
    lines = [
        "def build_model():",
        '    """The functional model; its outputs are a dict keyed by head name."""',
    ]
    section = None
    for step in steps:
        label = step.head if step.section == "head" else step.section
        if label != section:
            lines.append(_section_comment(step, first_head=step.head == project.heads[0].name))
            section = label
        if step.section == "input":
            spec = next(i for i in project.inputs if i.name == step.name)
            shape, dtype, name = lit(tuple(spec.shape)), lit(spec.dtype), lit(spec.name)
            lines.append(f"    {variable_name(step.name)} = keras.Input(shape={shape}, "
                         f"dtype={dtype}, name={name})")
            continue
        call = _layer_call(step, project, mixed)
        if step.spec is None and project.head(step.name).standardize:
            lines += _standardized_output(step.name, call, mixed)
        elif step.name in used:
            lines.append(f"    {variable_name(step.name)} = {call}")
        else:
            lines.append("    # Not connected to any output, but built so that the random")
            lines.append("    # initial weights of later layers match mogui's.")
            lines.append(f"    {call}")
    inputs = ", ".join(f"{lit(i.name)}: {variable_name(i.name)}" for i in project.inputs)
    outputs = ", ".join(f"{lit(h.name)}: {variable_name(h.name)}" for h in project.heads)
    name = lit(model_name(project))
    lines += [
        "    inputs = {" + inputs + "}",
        "    # A dict of outputs makes every head addressable by name: losses, loss weights,",
        "    # metrics, targets and logs are all keyed by these names, never by position.",
        "    outputs = {" + outputs + "}",
    ]
    if project.loss_mode == "joint":
        lines.append(f"    return JointLossModel(inputs=inputs, outputs=outputs, "
                     f"term_weights=TERM_WEIGHTS, name={name})")
    else:
        lines.append(f"    return HeadLossModel(inputs=inputs, outputs=outputs, name={name})")
    return "\n".join(lines) + "\n"


def _standardized_output(head: str, dense_call: str, mixed_precision: bool) -> list[str]:
    """A standardized head: its Dense layer predicts standard deviations, a Normalization
    layer named after the head (measured on the training rows by adapt_scaling) turns them
    into the target's units."""
    inner = variable_name(standardized_layer_name(head))
    dtype = ', dtype="float32"' if mixed_precision else ""
    return [
        f"    {inner} = {dense_call}",
        "    # Standard deviations -> the target's units (mean and variance of the training rows).",
        f"    {variable_name(head)} = keras.layers.Normalization(axis=-1, invert=True, "
        f"name={lit(head)}{dtype})({inner})",
    ]


def _section_comment(step: GraphStep, first_head: bool) -> str:
    if step.section == "input":
        return "    # Inputs"
    if step.section == "trunk":
        return "    # Shared trunk: every head reads features computed here"
    if not first_head:
        return f'    # Head "{step.head}"'
    return (f'    # Head "{step.head}". Each head ends in a layer named after the head: Keras '
            "names\n    # the head's output, loss and logs after that layer.")
