"""Samples per second of streamed CSV and image-folder input against the same data in memory.

Writes a table and a folder of PNG images to a temporary folder, then reads one epoch of
batches of ``(x, y, sample_weight)`` through the pipeline training uses, with no model, so the
figures measure input only. Prints samples/second and the streamed/in-memory ratio.

    python benchmarks/data_pipeline.py [--rows 20000] [--images 2000] [--batch 64]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

from mogui.engine.data.dataset import Dataset  # noqa: E402
from mogui.engine.data.masking import prepare_masked_targets  # noqa: E402
from mogui.engine.data.sources import open_source  # noqa: E402
from tests.engine.data_builders import (  # noqa: E402
    csv_source,
    image_project,
    table_project,
    write_image_folder,
    write_table,
)


def in_memory_batches(project, data: Dataset, batch: int):  # noqa: ANN001, ANN201
    """The same data as a tf.data pipeline over arrays already in memory."""
    y, weights = prepare_masked_targets(project, data.y)
    arrays = tf.data.Dataset.from_tensor_slices((data.x, y, weights))
    return arrays.shuffle(min(data.num_samples, 16 * batch), seed=0).batch(batch) \
        .prefetch(tf.data.AUTOTUNE)


def rate(batches, samples: int, repeats: int = 2) -> float:  # noqa: ANN001
    """Best samples/second over ``repeats`` full passes."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        seen = sum(int(next(iter(x.values())).shape[0]) for x, _y, _w in batches)
        best = min(best, time.perf_counter() - start)
        assert seen == samples, (seen, samples)
    return samples / best


def compare(name: str, project, folder: Path, batch: int) -> None:  # noqa: ANN001
    streamed = open_source(project, folder)
    rows, _none = streamed.split(0.0, seed=0)
    memory = streamed.take(streamed.num_samples)
    fast = rate(in_memory_batches(project, memory, batch), memory.num_samples)
    slow = rate(streamed.batches(project, rows, batch, shuffle=True), rows.count)
    print(f"{name:<14} {rows.count:>7} samples  in memory {fast:>10.0f}/s  "
          f"streamed {slow:>10.0f}/s  ratio {slow / fast:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--pixels", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_table(folder, args.rows, missing_size=tuple(range(0, args.rows, 10)))
        compare("CSV", table_project(csv_source(path, streaming="always")), folder,
                args.batch)
        write_image_folder(folder, args.images, pixels=args.pixels)
        project = image_project(args.pixels)
        project.data.streaming = "always"
        compare("image folder", project, folder, args.batch)
    print(f"(CPU threads: {os.cpu_count()}; numbers vary with disk cache and load)")


if __name__ == "__main__":
    main()
