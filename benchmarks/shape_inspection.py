"""Shape inspection after an edit: the incremental inspector against a full rebuild.

Builds a chain of N Dense layers (and a model with many heads), inspects it once, then changes
one layer in the middle and inspects again, as the app does after an edit. Prints the
milliseconds of the full inspection and of the one after the edit, median of ``--repeats``.

    python benchmarks/shape_inspection.py [--layers 200] [--heads 100] [--repeats 5]

Target: an inspection after an edit of a 200-layer model in <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mogui.core.project import HeadSpec, InputSpec, LayerSpec, Project  # noqa: E402
from mogui.engine.model.build import StepCache  # noqa: E402
from mogui.engine.model.shapes import inspect_project  # noqa: E402


def chain(layers: int, heads: int) -> Project:
    return Project(
        name="chain",
        inputs=[InputSpec(name="x", shape=[32])],
        trunk=[LayerSpec(name=f"d{i}", kind="Dense", params={"units": 32})
               for i in range(layers)],
        heads=[HeadSpec(name=f"h{i}", task="regression", units=1) for i in range(heads)],
        data={"kind": "npz", "path": "unused.npz"})


def timed(project: Project, cache: StepCache | None) -> float:
    start = time.perf_counter()
    inspection = inspect_project(project, cache)
    elapsed = time.perf_counter() - start
    assert inspection.ok, inspection.error
    return elapsed * 1000


def measure(layers: int, heads: int, repeats: int) -> tuple[float, float]:
    full, edit = [], []
    for r in range(repeats):
        project = chain(layers, heads)
        cache = StepCache()
        full.append(timed(project, None))
        timed(project, cache)  # the first inspection fills the cache
        if heads > 1:  # an edit of one head, as typed in the property form
            project.heads[heads // 2].units = 2 + r
        else:  # an edit of a layer in the middle of the trunk
            project.trunk[layers // 2].params["units"] = 33 + r
        edit.append(timed(project, cache))
    return statistics.median(full), statistics.median(edit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--heads", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    timed(chain(2, 1), None)  # import and warm Keras
    print(f"{'model':>24}  {'full ms':>8}  {'after an edit ms':>16}  {'ratio':>6}")
    for layers, heads in ((args.layers, 1), (1, args.heads)):
        full, edit = measure(layers, heads, args.repeats)
        label = f"{layers} layers, {heads} head{'s' if heads > 1 else ''}"
        print(f"{label:>24}  {full:>8.0f}  {edit:>16.0f}  {full / edit:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
