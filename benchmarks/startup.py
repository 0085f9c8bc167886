"""How long the desktop app takes to start: to a visible window, and to a filled shape table.

Launches ``python -m mogui [PROJECT]`` ``--runs`` times (5 by default), each in a fresh process
with throwaway settings (so no last project is reopened) and ``MOGUI_STARTUP_TIMING=quit``: the
app writes a marker when its window is first exposed and when the shape table first holds the
project's rows (TensorFlow loaded, shapes computed), then closes. Times count from just before
the process is started. Runs on a real X server when ``Xvfb`` is installed (one server, started
before the launches, so its own start is not counted), else with ``QT_QPA_PLATFORM=offscreen``
(``--offscreen`` forces that).

    python benchmarks/startup.py [--runs 5] [--offscreen] [PROJECT]

Prints each launch, the medians, the CPU time the app had used by then (which other jobs on
the machine change less than the wall time), and the load average before and after (the
machine may be shared: compare figures taken at a similar load). Target: median to the
window <= 1.0 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

PREFIX = "mogui-startup"
TIMEOUT_S = 180


@contextmanager
def x_server() -> Iterator[str]:
    """An Xvfb server for the launches; yields its display (``:N``)."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1440x900x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            raise SystemExit("Xvfb did not start; run with --offscreen")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def launch(project: str | None, display: str | None) -> dict[str, float]:
    """Start the app once on X ``display`` (``None``: offscreen); seconds from the start of
    the process to each marker."""
    with tempfile.TemporaryDirectory(prefix="mogui-startup-") as tmp:
        env = {**os.environ, "MOGUI_STARTUP_TIMING": "quit", "TF_CPP_MIN_LOG_LEVEL": "2",
               "MOGUI_SETTINGS_DIR": str(Path(tmp) / "settings"),
               "MOGUI_DATA_DIR": str(Path(tmp) / "data")}
        command = [sys.executable, "-m", "mogui", *([project] if project else [])]
        if display is not None:
            env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        started = time.time()
        # A session of its own: a launch that hangs is ended with everything it started.
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
    marks = {}
    for line in stderr.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == PREFIX and parts[1] in ("window", "shapes"):
            marks[parts[1]] = float(parts[2]) - started
            marks[f"{parts[1]}_cpu"] = float(parts[3])
    if process.returncode != 0 or {"window", "shapes"} - set(marks):
        raise SystemExit(f"the app did not report its start (exit {process.returncode}):\n"
                         f"{stderr[-3000:]}")
    return marks


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} CPUs)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", help="project file (default: the demo)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--offscreen", action="store_true",
                        help="use Qt's offscreen platform even when xvfb-run is installed")
    args = parser.parse_args()
    use_x = not args.offscreen and shutil.which("Xvfb") is not None
    print(f"display: {'Xvfb' if use_x else 'offscreen'}; load average before: "
          f"{load_average()}")
    launches = []
    with x_server() if use_x else nullcontext(None) as display:
        for run in range(1, args.runs + 1):
            marks = launch(args.project, display)
            launches.append(marks)
            print(f"launch {run}: window {marks['window']:.2f} s "
                  f"(CPU {marks['window_cpu']:.2f} s), shape table {marks['shapes']:.2f} s "
                  f"(CPU {marks['shapes_cpu']:.2f} s)", flush=True)
    for key, what in (("window", "the window shown"), ("shapes", "the filled shape table")):
        times = [m[key] for m in launches]
        cpu = statistics.median(m[f"{key}_cpu"] for m in launches)
        print(f"median to {what}: {statistics.median(times):.2f} s (min {min(times):.2f}, "
              f"max {max(times):.2f}; the app's CPU time until then: {cpu:.2f} s)")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
