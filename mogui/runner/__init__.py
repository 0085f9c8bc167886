"""Jobs that may run user code, each in a child process the caller can always stop.

:mod:`.parent` starts a ``spawn`` child (:mod:`.child`), hands it one job by name, streams its
events back over a pipe, and stops it — cooperatively, then by signal — whatever the job is
doing. :mod:`.jobs` holds the jobs (training, dry run, loss contract, export), plain functions
of the engine. Never imports Qt; the app wraps :class:`~mogui.runner.parent.ChildProcess` in
its job mechanism, the command line uses it directly.
"""

from mogui.runner.parent import ChildProcess, ChildProcessError, JobOutcome, run_to_end

__all__ = ["ChildProcess", "ChildProcessError", "JobOutcome", "run_to_end"]
