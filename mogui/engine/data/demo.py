"""The demo data set: synthetic shapes with a target per head (see :mod:`.plain_keras`)."""

from __future__ import annotations

from collections.abc import Mapping

from mogui.engine.data.dataset import Dataset
from mogui.engine.plain_keras.demo_shapes import demo_target, make_demo_arrays

#: What :func:`make_demo_shapes` returns when no targets are asked for.
DEFAULT_TARGETS = {"bbox": "bbox", "classification": "classification"}


def make_demo_shapes(samples: int, image_size: int, seed: int,
                     targets: Mapping[str, str] | None = None) -> Dataset:
    """The demo data set: input ``image`` and one target per entry of ``targets``.

    ``targets`` maps a head name to the demo quantity it trains on (see :func:`demo_target`);
    by default ``bbox`` ((x_min, y_min, x_max, y_max) of the drawn pixels divided by the image
    size) and ``classification`` (the index into :data:`SHAPE_CLASSES`). Same seed, same data.
    """
    images, boxes, labels = make_demo_arrays(samples, image_size, seed)
    wanted = DEFAULT_TARGETS if targets is None else targets
    y = {head: demo_target(quantity, boxes, labels) for head, quantity in wanted.items()}
    return Dataset(x={"image": images}, y=y)
