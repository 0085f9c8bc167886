"""A sweep's Optuna study: its storage, which trials count, and how a worker claims the next
trial so that a sweep has exactly its number of trials, however many workers and machines
share the storage.

**Storage.** By default a journal file in the sweep's folder (:data:`JOURNAL_FILE`; Optuna's
``JournalStorage``, which appends each change under a file lock, so several processes, also on
other machines through a shared disk, can write it at once); ``--storage`` gives an RDB URL
(``postgresql://…``, ``mysql+pymysql://…``, ``sqlite:///…``) or another journal file's path.

**Which trials count.** A trial counts unless it was *interrupted* (its worker was stopped or
died: it is failed and its parameters queued again as a new trial), *surplus* (claimed by a
worker that found the sweep already full) or *retried* (a failed trial whose parameters
``--retry-failed`` queued again). ``trials.csv`` lists the trials that count.

**Exactly N.** Trial numbers are handed out atomically by the storage. A worker that claims a
trial counts the trials that count and have a lower number; when there are already N, the
claimed trial is surplus and the worker stops. Counting only shrinks for the trials that exist
(interruptions), so no N+1 trials can ever all count.

**Stale trials.** A running trial whose worker is gone is interrupted by the next worker that
looks: at once when the worker ran on this machine (its process has ended), or when its
heartbeat (written every :data:`HEARTBEAT_S` seconds) is older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, Trial, TrialState

from mogui.core.recovery import pid_alive
from mogui.core.sweep_results import SweepTrial
from mogui.runner.sweep_plan import SearchSpace, SweepError, SweepPlan, masked

#: The default storage: a journal file in the sweep's folder.
JOURNAL_FILE = "sweep.journal"
#: The study's user attribute that records what it searches.
SEARCH_ATTR = "mogui_sweep"
#: How often a running trial's worker writes its heartbeat, and when a trial of another
#: machine whose heartbeat is older counts as abandoned (seconds).
HEARTBEAT_S = 15.0
STALE_AFTER_S = 120.0
#: Trial user attributes.
HOST, PID, HEARTBEAT, RUN, ERROR, OUTCOME, RETRY_OF = (
    "host", "pid", "heartbeat", "run", "error", "outcome", "retry_of")
INTERRUPTED, SURPLUS = "interrupted", "surplus"


class StudyMismatch(SweepError):
    """The study in the storage searches something else than this sweep."""


def quiet_optuna() -> None:
    """No INFO lines per trial and no warnings about experimental features from Optuna."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def storage_path(spec: str, folder: Path) -> Path | None:
    """The journal file ``spec`` names (``None`` for an RDB URL)."""
    if "://" in spec:
        return None
    return Path(spec).expanduser().absolute() if spec else Path(folder) / JOURNAL_FILE


def open_storage(spec: str, folder: Path) -> BaseStorage:
    """The storage ``spec`` names (``""``: the journal file in ``folder``); :class:`SweepError`
    saying why when Optuna cannot open it."""
    quiet_optuna()
    path = storage_path(spec, folder)
    try:
        if path is None:
            return RDBStorage(spec, engine_kwargs={"pool_pre_ping": True})
        if path.is_dir():
            raise SweepError(f"'{path}' is a folder")
        return JournalStorage(JournalFileBackend(str(path)))
    except SweepError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - drivers raise anything; the reason is shown
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    raise SweepError(f"The storage '{masked(spec) or path}' cannot be opened ({reason}). Give "
                     "an Optuna RDB URL (sqlite:///sweep.db, postgresql://user:password@host/"
                     "db, with its database driver installed) or the path of a journal file, "
                     "or leave --storage out for a journal file in --out.")


def existing_search(storage: BaseStorage, study: str) -> dict[str, Any] | None:
    """What the study ``study`` in ``storage`` searches (``None`` when there is no such study;
    ``{}`` for a study that is not a mogui sweep)."""
    try:
        study_id = storage.get_study_id_from_name(study)
    except KeyError:
        return None
    record = storage.get_study_user_attrs(study_id).get(SEARCH_ATTR)
    return record if isinstance(record, dict) else {}


def check_search(storage: BaseStorage, plan: SweepPlan, where: str) -> None:
    """:class:`StudyMismatch` when the study in ``storage`` holds another search than
    ``plan``'s; nothing when it holds the same or does not exist yet."""
    record = existing_search(storage, plan.study)
    if record is None or record == plan.search_record():
        return
    if not record:
        raise StudyMismatch(f"The study '{plan.study}' in {where} is not a mogui sweep. Give "
                            "another --study name, or another --storage.")
    raise StudyMismatch(
        f"The study '{plan.study}' in {where} holds another sweep ({_describe(record)}); this "
        f"command asks for {_describe(plan.search_record())}. Give the options that sweep "
        "was started with to resume it, or another --study name (or --out folder) for a new "
        "sweep.")


def _describe(record: Mapping[str, Any]) -> str:
    space = record.get("space") or {}
    parts = [f"project '{record.get('project')}'",
             "objectives " + ", ".join(record.get("objectives") or []),
             f"epochs {record.get('epochs')}"]
    if space.get("methods"):
        parts.append("methods " + ", ".join(space["methods"]))
    if space.get("learning_rate"):
        low, high = space["learning_rate"]
        parts.append(f"learning rate {low:g}–{high:g}")
    return "; ".join(parts)


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """Optuna's distribution for each parameter of ``space``."""
    low, high = space.weight_range
    result: dict[str, BaseDistribution] = {
        f"weight_{head}": FloatDistribution(low, high, log=True) for head in space.heads}
    if space.methods:
        result["balancing"] = CategoricalDistribution(list(space.methods))
    if space.learning_rate is not None:
        result["learning_rate"] = FloatDistribution(*space.learning_rate, log=True)
    return result


def counting(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """The sweep's trials among ``trials`` (see the module's docstring)."""
    retried = {t.user_attrs.get(RETRY_OF) for t in trials}

    def counts(trial: FrozenTrial) -> bool:
        outcome = trial.user_attrs.get(OUTCOME)
        if trial.state == TrialState.COMPLETE:
            return True
        if trial.state in (TrialState.RUNNING, TrialState.WAITING):
            return outcome != SURPLUS
        return (trial.state == TrialState.FAIL and outcome not in (INTERRUPTED, SURPLUS)
                and trial.number not in retried)

    return [t for t in trials if counts(t)]


def _stale(trial: FrozenTrial, host: str, now: float) -> bool:
    """Whether the worker of running ``trial`` is gone."""
    attrs = trial.user_attrs
    beat = attrs.get(HEARTBEAT)
    if not isinstance(beat, int | float):
        beat = trial.datetime_start.timestamp() if trial.datetime_start else now
    if attrs.get(HOST) == host and isinstance(attrs.get(PID), int):
        pid = attrs[PID]
        if pid != os.getpid() and not pid_alive(pid):
            return True
    return now - beat > STALE_AFTER_S


class SweepStudy:
    """A sweep's study, opened (created the first time) in ``storage``."""

    def __init__(self, storage: BaseStorage, plan: SweepPlan) -> None:
        quiet_optuna()
        self.storage = storage
        self.plan = plan
        sampler = optuna.samplers.TPESampler(constant_liar=True)
        self.study = optuna.create_study(storage=storage, study_name=plan.study,
                                         directions=list(plan.directions), sampler=sampler,
                                         load_if_exists=True)
        self.study_id = storage.get_study_id_from_name(plan.study)
        if SEARCH_ATTR not in storage.get_study_user_attrs(self.study_id):
            self.study.set_user_attr(SEARCH_ATTR, plan.search_record())
        check_search(storage, plan, "the storage")  # also when two started it at once
        self.distributions = distributions(plan.space)
        self.host = socket.gethostname()

    # -- reading ------------------------------------------------------------------------------
    def frozen(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    def trials(self) -> list[SweepTrial]:
        """The trials that count, as ``trials.csv`` lists them."""
        return [self._row(t) for t in counting(self.frozen())]

    def _row(self, trial: FrozenTrial) -> SweepTrial:
        params = dict(trial.params) if trial.state != TrialState.WAITING else \
            dict(trial.system_attrs.get("fixed_params") or {})
        values = trial.values if trial.state == TrialState.COMPLETE and trial.values else []
        objectives = dict(zip(self.plan.objectives, (float(v) for v in values), strict=False))
        return SweepTrial(number=trial.number, state=trial.state.name,  # type: ignore[arg-type]
                          params=params, objectives=objectives,
                          run=str(trial.user_attrs.get(RUN, "")),
                          error=str(trial.user_attrs.get(ERROR, "")))

    def started(self) -> int:
        """How many trials that count have run or are running (not those waiting)."""
        return sum(1 for t in counting(self.frozen()) if t.state != TrialState.WAITING)

    def missing(self) -> int:
        """How many trials are still to run: the sweep's number less those started."""
        return max(0, self.plan.trials - self.started())

    # -- writing ------------------------------------------------------------------------------
    def set_attrs(self, number: int, attrs: Mapping[str, Any]) -> bool:
        """Set user attributes of unfinished trial ``number``; False when it has ended."""
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
        try:
            for key, value in attrs.items():
                self.storage.set_trial_user_attr(trial_id, key, value)
        except (UpdateFinishedTrialError, RuntimeError):
            return False
        return True

    def _fail(self, number: int) -> bool:
        """Fail running trial ``number``; False when it had ended already (another process
        finished or failed it first)."""
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
        try:
            return bool(self.storage.set_trial_state_values(trial_id, TrialState.FAIL))
        except (UpdateFinishedTrialError, ValueError, RuntimeError):
            return False

    def interrupt(self, number: int, params: Mapping[str, Any], reason: str) -> bool:
        """Mark running trial ``number`` interrupted and queue its parameters again (once,
        whoever else tries too); True when this call did it."""
        if not self.set_attrs(number, {OUTCOME: INTERRUPTED, ERROR: reason}) or \
                not self._fail(number):
            return False
        self.study.enqueue_trial(dict(params), user_attrs={RETRY_OF: number})
        return True

    def fail_stale(self) -> list[int]:
        """Interrupt the running trials whose workers are gone; their numbers."""
        now, done = time.time(), []
        for trial in self.frozen():
            if trial.state != TrialState.RUNNING or not _stale(trial, self.host, now):
                continue
            if trial.user_attrs.get(OUTCOME) == SURPLUS:
                self._fail(trial.number)
            elif self.interrupt(trial.number, trial.params,
                                "interrupted: its worker process ended"):
                done.append(trial.number)
        return done

    def retry_failed(self) -> list[int]:
        """Queue the parameters of every failed trial that counts again (the failed trial
        then no longer counts); their numbers."""
        numbers = []
        for trial in counting(self.frozen()):
            if trial.state == TrialState.FAIL:
                self.study.enqueue_trial(dict(trial.params),
                                         user_attrs={RETRY_OF: trial.number})
                numbers.append(trial.number)
        return numbers

    def claim(self, trials: int, stop: Callable[[], bool] = lambda: False) -> Trial | None:
        """The next trial for this worker to run (its parameters sampled or taken from the
        queue), or ``None`` when the sweep has its ``trials`` trials or ``stop()`` is true."""
        while not stop():
            self.fail_stale()
            sweep = counting(self.frozen())
            if len(sweep) >= trials and all(t.state != TrialState.WAITING for t in sweep):
                return None
            trial = self.study.ask(fixed_distributions=self.distributions)
            if not self.set_attrs(trial.number, {HOST: self.host, PID: os.getpid(),
                                                 HEARTBEAT: time.time()}):
                continue  # taken for abandoned at once: claim another
            lower = sum(1 for t in counting(self.frozen()) if t.number < trial.number)
            if lower < trials:
                return trial
            self.set_attrs(trial.number, {OUTCOME: SURPLUS})
            self._fail(trial.number)
        return None

    def complete(self, trial: Trial, values: Sequence[float]) -> bool:
        """Record ``trial``'s objectives; False when it had been failed meanwhile (taken for
        abandoned), so its result is not kept."""
        try:
            self.study.tell(trial, list(values))
        except (UpdateFinishedTrialError, ValueError, RuntimeError):
            return False
        return True

    def failed(self, trial: Trial, error: str) -> None:
        """Record that ``trial`` failed, and why."""
        self.set_attrs(trial.number, {ERROR: " ".join(error.split())[:2000]})
        self._fail(trial.number)

    @contextmanager
    def heartbeat(self, number: int) -> Iterator[None]:
        """Write trial ``number``'s heartbeat every :data:`HEARTBEAT_S` seconds meanwhile."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(HEARTBEAT_S):
                try:
                    self.set_attrs(number, {HEARTBEAT: time.time()})
                except Exception as exc:  # noqa: BLE001 - a storage hiccup: try again later
                    logging.getLogger(__name__).warning("heartbeat not written: %s", exc)

        thread = threading.Thread(target=beat, name="mogui-sweep-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
