"""Train the demo on the first GPU and on the CPU; print the device used and samples/second.

    python benchmarks/gpu_check.py [--epochs 3] [--samples 2048] [--batch-size 64]

Throughput leaves out the first epoch (graph tracing and compilation). Without a visible GPU it
says so and exits with status 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure(device: str, project, data, epochs: int) -> dict[str, float | str]:
    """Train under ``tf.device(device)``; return throughput and where the weights lived."""
    import tensorflow as tf

    from mogui.core.events import EpochEnded, TrainingStarted
    from mogui.engine.training import run_training

    events: list = []
    start = time.perf_counter()
    with tf.device(device):
        result = run_training(project, data, events.append, epochs=epochs)
    total = time.perf_counter() - start
    started = next(e for e in events if isinstance(e, TrainingStarted))
    ends = [e.elapsed for e in events if isinstance(e, EpochEnded)]
    if len(ends) >= 2:
        rate = started.train_samples * (len(ends) - 1) / (ends[-1] - ends[0])
    else:
        rate = started.train_samples * len(ends) / max(total, 1e-9)
    placed = result.model.weights[0].value.device if result.model is not None else "?"
    return {"device": device, "placed": placed, "samples_per_second": rate, "seconds": total,
            "final_loss": result.history["loss"][-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    from mogui.engine.training.devices import configure_devices, device_description, list_gpus

    configure_devices()
    gpus = list_gpus()
    if not gpus:
        print("No GPU is visible to TensorFlow, so there is nothing to compare. Install the GPU "
              "build with  pip install -e \".[gpu]\"  and check the NVIDIA driver with "
              "nvidia-smi.")
        return 0

    from mogui.core.io import load_example
    from mogui.engine.data import load_data

    project = load_example("bbox_classification")
    project.data.samples = args.samples
    project.training.batch_size = args.batch_size
    data = load_data(project)
    print(f"GPUs visible: {', '.join(gpus)}; default device: {device_description()}")
    print(f"Demo: {args.samples} samples of {project.data.image_size}x{project.data.image_size}, "
          f"batch {args.batch_size}, {args.epochs} epochs (first epoch not timed)")

    rows = [measure("/GPU:0", project, data, args.epochs),
            measure("/CPU:0", project, data, args.epochs)]
    for row in rows:
        print(f"{row['device']:>7}: {row['samples_per_second']:>10.0f} samples/s   "
              f"weights on {row['placed']}   {row['seconds']:.1f} s in all   "
              f"final loss {row['final_loss']:.4f}")
    ratio = rows[0]["samples_per_second"] / rows[1]["samples_per_second"]
    print(f"GPU/CPU throughput ratio: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
