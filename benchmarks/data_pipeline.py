"""Samples per second of streamed CSV and image-folder input against the same data in memory.

Writes a table and a folder of PNG (or JPEG) images to a temporary folder, then reads epochs of
batches of ``(x, y, sample_weight)`` through the pipelines training uses, streamed and in memory
(``epoch_batches``), with no model, so the figures measure input only. Batches are read
inside a ``tf.function``, as Keras' training function reads them, so Python's per-batch cost
of an eager loop is not counted.

Prints samples/second and the streamed/in-memory ratio: the best of ``--repeats`` epochs,
taken in turn with the other pipelines' epochs, and for image folders with a cache
(``memory``, ``disk``) the first epoch (which decodes and fills the cache) and the best of the
next ``--repeats`` (which read it), and what decoding alone costs, with the images' bytes
already in memory: its processor time per image bounds the rate every core together can
decode. The machine's load average is printed before and after:
the figures mean little on a busy machine. The CPU time per sample (all threads of this
process) is printed too; it depends far less on what else the machine runs, and divided by
the cores it bounds what the pipeline can reach. As in training, the objects alive when
measuring starts are kept out of Python's garbage collections (``frozen_heap``). Each kind of
input is measured in a process of its own, as each run trains in its own: a pipeline that ran
before in the same process can slow the next one down (a streamed CSV before an image folder
doubled the images' CPU time per sample).

    python benchmarks/data_pipeline.py [--rows 20000] [--images 2000] [--batch 64] [--repeats 5]
                                       [--format png|jpeg] [--section csv|images]
"""

from __future__ import annotations

import argparse
import os
import subprocess
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
from mogui.engine.plain_keras.batches import epoch_batches, needed_weights  # noqa: E402
from mogui.engine.plain_keras.images import decode_pixels  # noqa: E402
from mogui.engine.training.runner import frozen_heap  # noqa: E402
from tests.engine.data_builders import (  # noqa: E402
    csv_source,
    image_project,
    table_project,
    write_image_folder,
    write_table,
)


def in_memory_batches(project, data: Dataset, batch: int):  # noqa: ANN001, ANN201
    """The same data held in memory, in the batches training makes of it (``epoch_batches``:
    a new row order every epoch, each batch gathered from the arrays in one step)."""
    y, weights = prepare_masked_targets(project, data.y)
    return epoch_batches(data.x, y, needed_weights(weights), batch, seed=0)


@tf.function
def read_all(batches):  # noqa: ANN001, ANN201
    """Rows in one pass over ``batches``, read in the graph as a training function reads."""
    rows = tf.constant(0, tf.int64)
    for batch in batches:  # (x, y, sample_weight), or (x, y) where no label is missing
        rows += tf.cast(tf.shape(next(iter(batch[0].values())))[0], tf.int64)
    return rows


def one_epoch(batches, samples: int) -> tuple[float, float]:  # noqa: ANN001
    """Samples/second and CPU microseconds per sample of one full pass over ``batches``."""
    start, cpu = time.perf_counter(), time.process_time()
    seen = int(read_all(batches))
    wall = time.perf_counter() - start
    assert seen == samples, (seen, samples)
    return samples / wall, (time.process_time() - cpu) / samples * 1e6


def interleaved(pipelines: dict[str, tuple[object, int]], repeats: int
                ) -> dict[str, tuple[float, float]]:
    """The best of ``repeats`` epochs of each pipeline (samples/second, and the CPU
    microseconds per sample of that epoch), taking one epoch of each in turn, so that a busy
    moment of the machine slows them alike."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, (batches, samples) in pipelines.items():
            measured = one_epoch(batches, samples)
            if name not in best or measured[0] > best[name][0]:
                best[name] = measured
    return best


def compare(name: str, project, folder: Path, batch: int,  # noqa: ANN001
            caches: tuple[str, ...] = (), repeats: int = 5) -> float:
    """Print the streamed (and cached) rates against the same data in memory; return the
    in-memory rate (samples/second)."""
    streamed = open_source(project, folder)
    rows, _none = streamed.split(0.0, seed=0)
    memory = streamed.take(streamed.num_samples)
    pipelines = {"in memory": (in_memory_batches(project, memory, batch), memory.num_samples),
                 "streamed": (streamed.batches(project, rows, batch, shuffle=True), rows.count)}
    first: dict[str, tuple[float, float]] = {}
    for cache in caches:
        project.data.cache = cache
        cached = open_source(project, folder).batches(project, rows, batch, shuffle=True)
        read_all.get_concrete_function(cached)  # traced before, so epoch 1 is reading only
        first[cache] = one_epoch(cached, rows.count)  # decodes and fills the cache
        pipelines[f"cache {cache}"] = (cached, rows.count)
        project.data.cache = "none"
    best = interleaved(pipelines, repeats)
    fast = best["in memory"][0]
    print(f"{name:<14} {rows.count:>7} samples  in memory {fast:>10.0f}/s  "
          f"streamed {best['streamed'][0]:>10.0f}/s  ratio {best['streamed'][0] / fast:.2f}  "
          f"(CPU µs/sample: in memory {best['in memory'][1]:.1f}, streamed "
          f"{best['streamed'][1]:.1f})")
    for cache in caches:
        later = best[f"cache {cache}"]
        print(f"{'  cache ' + cache:<14} {rows.count:>7} samples  epoch 1 {first[cache][0]:>10.0f}"
              f"/s (ratio {first[cache][0] / fast:.2f})  epochs 2-{repeats + 1} "
              f"{later[0]:>10.0f}/s (ratio {later[0] / fast:.2f}; CPU µs/sample "
              f"{later[1]:.1f})")
    return fast


def decoding_alone(folder: Path, shape: tuple[int, int, int], batch: int, repeats: int,
                   in_memory: float) -> None:
    """Print what decoding the images costs without reading their files: the bytes of every
    image held in memory, decoded a batch per call as the streamed pipeline decodes them.
    Its processor time per image, spread over every core, bounds what decoding can reach on
    this machine."""
    raw = [path.read_bytes() for path in sorted((folder / "images").iterdir())]

    def decode(images):  # noqa: ANN001, ANN202
        pixels = tf.map_fn(lambda one: tf.ensure_shape(decode_pixels(one, shape), shape),
                           images, fn_output_signature=tf.TensorSpec(shape, tf.uint8))
        return {"image": pixels}, pixels

    batches = tf.data.Dataset.from_tensor_slices(raw).batch(batch).map(
        decode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    rate, cpu = interleaved({"decode": (batches, len(raw))}, repeats)["decode"]
    cores = usable_cores()
    bound = cores * 1e6 / cpu
    print(f"{'  decode only':<14} {len(raw):>7} images   {rate:>10.0f}/s (ratio "
          f"{rate / in_memory:.2f}; CPU µs/image {cpu:.1f}: {cores} cores busy with nothing "
          f"else would decode {bound:.0f}/s, ratio {bound / in_memory:.2f})")


def usable_cores() -> int:
    """The CPU threads this process may run on (fewer than the machine's under ``taskset``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not offered on every system
        return os.cpu_count() or 1


def _load() -> str:
    """The 1-minute load average (``?`` where the system does not say)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--pixels", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--format", choices=("png", "jpeg"), default="png",
                        help="how the benchmark's images are written")
    parser.add_argument("--repeats", type=int, default=5,
                        help="passes measured per pipeline (the best counts)")
    parser.add_argument("--section", choices=("csv", "images"),
                        help="measure one kind of input only (in this process)")
    args = parser.parse_args()
    if args.section is None:
        load_before = _load()
        for section in ("csv", "images"):
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--section", section],
                           check=True)
        print(f"(CPU threads usable: {usable_cores()} of {os.cpu_count()}; load average "
              f"before {load_before}, after {_load()}; numbers vary with disk cache and load)")
        return
    # As in training (``run_training``): the objects alive now stay out of Python's garbage
    # collections, which would otherwise walk TensorFlow's heap every few chunks read.
    with tempfile.TemporaryDirectory() as tmp, frozen_heap():
        folder = Path(tmp)
        if args.section == "csv":
            path = write_table(folder, args.rows, missing_size=tuple(range(0, args.rows, 10)))
            compare("CSV", table_project(csv_source(path, streaming="always")), folder,
                    args.batch, repeats=args.repeats)
            return
        write_image_folder(folder, args.images, pixels=args.pixels, image_format=args.format)
        project = image_project(args.pixels)
        project.data.streaming = "always"
        in_memory = compare("image folder", project, folder, args.batch,
                            caches=("memory", "disk"), repeats=args.repeats)
        decoding_alone(folder, (args.pixels, args.pixels, 1), args.batch, args.repeats,
                       in_memory)

if __name__ == "__main__":
    main()
