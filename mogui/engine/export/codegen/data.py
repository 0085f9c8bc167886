"""Code generation, data part: loading, missing labels, target preparation and the split.

The demo generator, the masking of missing labels and the split are the engine's own code
(:mod:`mogui.engine.plain_keras`), copied as written; the rest mirrors
:func:`mogui.engine.data.load_data` and :func:`mogui.engine.data.prepare_targets`, so the
exported script sees identical arrays.
"""

from __future__ import annotations

from pathlib import Path

from mogui.core.demo_targets import demo_head_targets
from mogui.core.project import (
    CsvData,
    DemoShapesData,
    HeadSpec,
    ImageFolderData,
    NpzData,
    Project,
)
from mogui.core.tasks import Task
from mogui.engine.data import classification_heads, heads_needing_targets, one_hot_heads
from mogui.engine.export.codegen.literals import banner, lit
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.plain_keras import demo_shapes, images, masking, split, table_columns

#: The table reader's definitions, copied into the script of a CSV project.
TABLE_DEFINITIONS = ("EMPTY_CELLS", "is_empty", "read_table", "column_numbers", "class_ids",
                     "one_hot_rows", "one_hot_numbers", "table_arrays")

#: The image decoder's definitions, copied into the script of an image-folder project.
IMAGE_DEFINITIONS = ("decode_pixels", "scale_pixels", "decode_image")

#: The demo generator's definitions, copied into the script.
DEMO_DEFINITIONS = ("SHAPE_CLASSES", "NOISE_AMPLITUDE", "_shape_masks", "_bounding_boxes",
                    "draw_shapes", "make_demo_arrays", "demo_target")


def resolve_npz_path(project: Project, project_dir: Path | None) -> Path | None:
    """Absolute path of the project's ``.npz`` data, or ``None`` for the demo data."""
    if not isinstance(project.data, NpzData):
        return None
    path = Path(project.data.path)
    if not path.is_absolute() and project_dir is not None:
        path = Path(project_dir) / path
    return path.resolve()


def data_section(project: Project, project_dir: Path | None, *,
                 data_snapshot: bool = False) -> str:
    """Constants and functions that load the data: the demo generator, the CSV table or the
    image folder itself (unless ``data_snapshot``: then the ``data.npz`` the export writes) or
    an npz file."""
    if isinstance(project.data, DemoShapesData):
        return _demo_section(project, project.data)
    if isinstance(project.data, CsvData) and not data_snapshot:
        return _csv_section(project, project.data, project_dir)
    if isinstance(project.data, ImageFolderData) and not data_snapshot:
        return _image_section(project, project.data, project_dir)
    path = resolve_npz_path(project, project_dir)
    return _npz_section(project, path)


def _absolute(path: str, project_dir: Path | None) -> Path:
    """A path as the project stores it (relative to the project file) made absolute."""
    candidate = Path(path)
    if not candidate.is_absolute() and project_dir is not None:
        candidate = Path(project_dir) / candidate
    return candidate.resolve()


def resolve_table_path(source: CsvData, project_dir: Path | None) -> Path:
    """Absolute path of a CSV project's table."""
    return _absolute(source.path, project_dir)


def _target_columns(project: Project, source: CsvData | ImageFolderData) -> dict:
    """Head -> (columns, class names, units of a one-hot target), as ``table_arrays`` takes
    them."""
    targets = {}
    for m in source.targets:
        head = project.head(m.name)
        one_hot = head.task == Task.MULTICLASS_ONEHOT and (
            bool(m.classes) or (len(m.columns) == 1 and head.units > 1))
        targets[m.name] = (list(m.columns), list(m.classes), head.units if one_hot else None)
    return targets


def _image_section(project: Project, source: ImageFolderData,
                   project_dir: Path | None) -> str:
    spec = project.inputs[project.input_names.index(source.input)]
    folder, labels = (_absolute(path, project_dir) for path in (source.folder, source.labels))
    return (
        banner("data") + "\n"
        "# The project's image folder and label table, read the way mogui reads them: each\n"
        "# row names an image file and its targets (empty cells are rows without a label);\n"
        "# images are decoded by mogui's own functions, converted to the input's channels,\n"
        "# resized and scaled. Every image is held in memory. Change IMAGE_FOLDER and\n"
        "# LABELS_FILE if you move them.\n\n"
        f"IMAGE_FOLDER = Path({lit(str(folder))})\n"
        f"LABELS_FILE = Path({lit(str(labels))})\n"
        f"DELIMITER = {lit(source.delimiter)}\n"
        f"FILE_COLUMN = {lit(source.file_column)}\n"
        f"IMAGE_INPUT = {lit(spec.name)}\n"
        f"IMAGE_SHAPE = {lit(tuple(spec.shape))}\n"
        f"RESIZE = {lit(source.resize)}\n"
        f"SCALE = {lit(source.scale)}\n"
        "# Head -> (columns, class names, units of a one-hot target)\n"
        f"TARGET_COLUMNS = {lit(_target_columns(project, source))}\n\n\n"
        + definitions(table_columns, *TABLE_DEFINITIONS) + "\n\n"
        + definitions(images, *IMAGE_DEFINITIONS) + "\n\n"
        "def load_data():\n"
        '    """Inputs keyed by input name and targets keyed by head name."""\n'
        "    header, rows = read_table(LABELS_FILE, DELIMITER)\n"
        "    _, y = table_arrays(header, rows, {}, TARGET_COLUMNS)\n"
        "    column = header.index(FILE_COLUMN)\n"
        "    pixels = [\n"
        "        decode_image(\n"
        "            tf.io.read_file(str(IMAGE_FOLDER / row[column].strip())),\n"
        "            IMAGE_SHAPE, RESIZE, SCALE,\n"
        "        ).numpy()\n"
        "        for row in rows\n"
        "    ]\n"
        f"    x = {{IMAGE_INPUT: np.stack(pixels).astype({lit(spec.dtype)})}}\n"
        "    return x, y\n"
    )


def _csv_section(project: Project, source: CsvData, project_dir: Path | None) -> str:
    specs = {spec.name: spec for spec in project.inputs}
    inputs = {}
    for m in source.inputs:
        spec = specs[m.name]
        shape = spec.sized(len(m.columns)) or list(spec.shape)
        inputs[m.name] = (list(m.columns), list(m.classes), shape)
    targets = _target_columns(project, source)
    dtypes = {spec.name: spec.dtype for spec in project.inputs}
    path = resolve_table_path(source, project_dir)
    return (
        banner("data") + "\n"
        "# The project's CSV table, read the way mogui reads it: empty cells in a head's\n"
        "# columns are rows without a label, category names become class ids (their position\n"
        "# in the class list). Change DATA_FILE if you move the table.\n\n"
        f"DATA_FILE = Path({lit(str(path))})\n"
        f"DELIMITER = {lit(source.delimiter)}\n"
        "# Input -> (columns, class names, shape of one sample)\n"
        f"INPUT_COLUMNS = {lit(inputs)}\n"
        "# Head -> (columns, class names, units of a one-hot target)\n"
        f"TARGET_COLUMNS = {lit(targets)}\n"
        f"INPUT_DTYPES = {lit(dtypes)}\n\n\n"
        + definitions(table_columns, *TABLE_DEFINITIONS) + "\n\n"
        "def load_data():\n"
        '    """Inputs keyed by input name and targets keyed by head name."""\n'
        "    header, rows = read_table(DATA_FILE, DELIMITER)\n"
        "    x, y = table_arrays(header, rows, INPUT_COLUMNS, TARGET_COLUMNS)\n"
        "    x = {name: x[name].astype(dtype) for name, dtype in INPUT_DTYPES.items()}\n"
        "    return x, y\n"
    )


def _demo_section(project: Project, source: DemoShapesData) -> str:
    spec = project.inputs[0]
    return (
        banner("data") + "\n"
        "# The synthetic shapes data, generated by the same functions mogui uses.\n\n"
        f"{definitions(demo_shapes, *DEMO_DEFINITIONS)}\n\n"
        "def load_data():\n"
        '    """Inputs keyed by input name and targets keyed by head name."""\n'
        "    images, boxes, labels = make_demo_arrays(\n"
        f"        samples={source.samples}, image_size={source.image_size}, "
        f"seed={source.seed}\n"
        "    )\n"
        f'    x = {{"{spec.name}": images.astype("{spec.dtype}")}}\n'
        f"    y = {_demo_targets(project)}\n"
        "    return x, y\n"
    )


def _demo_targets(project: Project) -> str:
    """The dict of targets: each head's demo quantity, one entry per line."""
    mapping = demo_head_targets(project)
    if not mapping:
        return "{}"
    lines = [f"        {lit(head)}: demo_target({lit(quantity)}, boxes, labels),"
             for head, quantity in mapping.items()]
    return "{\n" + "\n".join(lines) + "\n    }"


#: File name of the arrays an export writes for data the script cannot read itself.
EXPORTED_DATA = "data.npz"


def _npz_section(project: Project, path: Path | None) -> str:
    dtypes = {spec.name: spec.dtype for spec in project.inputs}
    if path is None:  # CSV or image folder with a snapshot: mogui exports the arrays it read
        where = (f"# The arrays mogui read from the project's {project.data.kind} data, "
                 "saved beside\n# this script by the export, named after inputs and heads.\n\n"
                 f'DATA_FILE = Path(__file__).parent / "{EXPORTED_DATA}"\n')
    else:
        where = ("# Arrays named after the model's inputs and heads. Change DATA_FILE if you "
                 f"move it.\n\nDATA_FILE = Path({lit(str(path))})\n")
    return (
        banner("data") + "\n" + where +
        f"INPUT_DTYPES = {lit(dtypes)}\n"
        f"HEAD_NAMES = {lit(project.head_names)}\n\n\n"
        "def load_data():\n"
        '    """Inputs keyed by input name and targets keyed by head name."""\n'
        "    with np.load(DATA_FILE, allow_pickle=False) as npz:\n"
        "        x = {name: npz[name].astype(dtype) for name, dtype in INPUT_DTYPES.items()}\n"
        "        y = {name: npz[name] for name in HEAD_NAMES if name in npz.files}\n"
        "    return x, y\n"
    )


def _target_expression(head: HeadSpec, needed: bool) -> str:
    array = f'y["{head.name}"]'
    if head.task == Task.MULTICLASS:
        expr = f'{array}.reshape(-1, 1).astype("int32")'
    elif head.task == Task.MULTICLASS_ONEHOT:
        expr = f'{array}.astype("float32")'
    elif head.units == 1:
        expr = f'as_column({array}).astype("float32")'
    else:
        expr = f'{array}.astype("float32")'
    if needed:
        return expr
    dtype, width = ("int32", 1) if head.task == Task.MULTICLASS else ("float32", head.units)
    return f'{expr} if "{head.name}" in y else np.zeros((samples, {width}), "{dtype}")'


def targets_section(project: Project) -> str:
    """``prepare_targets(y)``: each head's target in the shape and dtype its loss expects."""
    needed = {h.name for h in heads_needing_targets(project)}
    column = any(h.units == 1 and h.task not in (Task.MULTICLASS, Task.MULTICLASS_ONEHOT)
                 for h in project.heads)
    optional = any(h.name not in needed for h in project.heads)
    lines = []
    if column:
        lines += [
            "def as_column(array):",
            '    """(samples,) becomes (samples, 1), the shape of a one-unit output."""',
            "    return array.reshape(-1, 1) if array.ndim == 1 else array",
            "",
            "",
        ]
    lines += [
        "def prepare_targets(y):",
        '    """One target per head, keyed by head name, shaped like that head\'s output."""',
    ]
    if optional:
        lines += [
            "    # Heads trained by no loss still need a (placeholder) target so that y",
            "    # mirrors the model's outputs.",
            "    samples = len(next(iter(y.values())))",
        ]
    lines.append("    return {")
    for head in project.heads:
        lines.append(f'        "{head.name}": {_target_expression(head, head.name in needed)},')
    lines.append("    }")
    return "\n".join(lines) + "\n"


def split_section() -> str:
    """``split_rows`` and ``split_arrays``: the same rows for inputs, targets and weights."""
    return definitions(split, "split_rows", "split_arrays")


def masking_section(project: Project) -> str:
    """``mask_missing``: unlabelled rows get a placeholder target and sample weight 0."""
    return (
        f"CLASSIFICATION_HEADS = {lit(classification_heads(project))}\n"
        f"ONE_HOT_HEADS = {lit(one_hot_heads(project))}\n\n"
        + definitions(masking, "MISSING_LABEL", "missing_rows", "fill_missing", "mask_missing")
    )
