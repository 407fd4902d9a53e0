"""The job interface: long work (training a model, a big render) runs outside the request.

A request submits a job (a row in `jobs`); a worker claims queued jobs in id order, runs the
handler registered for the job's kind, and writes its progress, result or error back to the
row. On PostgreSQL each row also gets a task in the job engine, Procrastinate
(`marketplace.job_engine`), in the same transaction: `atelier worker` processes take tasks
from it (LISTEN/NOTIFY, SKIP LOCKED, worker heartbeats) and claim the row the task names.
All state is in the database (and the blob store), none in process memory, so the
in-process worker thread the app starts by default (`Worker`) can be replaced by worker
processes on other machines (`atelier worker`) without changing callers:
- claiming is one conditional UPDATE (`status = 'queued'` -> `'running'`), so two workers
  never run the same job;
- cancelling sets `cancel_requested`, which the running handler polls through its
  `JobContext`; a queued job is cancelled at once;
- a worker that dies leaves a running job whose heartbeat stops; `requeue_stale_jobs` puts
  it back in the queue (on the engine: its task is retried and re-claims the row), and
  handlers resume from their last checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import Job, User, is_row_id, utcnow
from marketplace.errors import InvalidInput, MarketplaceError, NotFound

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
MAX_ACTIVE_PER_USER = 2  # queued or running jobs one user may have at a time
PROGRESS_EVERY_SECONDS = 1.0  # how often a handler's progress reaches the row
STALE_AFTER = timedelta(minutes=5)  # a running job without a heartbeat this long is orphaned


class JobCancelled(Exception):
    """Raised inside a handler (by `JobContext.check_cancelled`) when its job was cancelled."""


@dataclass
class JobContext:
    """What a handler gets: its job's parameters and a way to report and to stop.

    Attributes:
        job_id: the job's row id.
        owner_id: the user who submitted it.
        params: the parameters it was submitted with.
        sessions: a session factory for the handler's own units of work.
        services: whatever the worker was given (blob store, settings, ...).
    """

    job_id: int
    owner_id: int
    params: dict[str, Any]
    sessions: sessionmaker
    services: Mapping[str, Any] = field(default_factory=dict)
    abort_requested: Callable[[], bool] | None = None
    _last_write: float = 0.0
    _cancelled: bool = False

    def report(self, progress: dict[str, Any], *, force: bool = False) -> None:
        """Store `progress` (JSON) on the job row, at most once a second unless `force`; the
        same write refreshes the heartbeat and picks up a cancel request."""
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_EVERY_SECONDS:
            return
        self._last_write = now
        with self.sessions() as s, s.begin():
            job = s.get(Job, self.job_id)
            job.progress = dict(progress)
            job.heartbeat_at = utcnow()
            self._cancelled = job.cancel_requested

    def cancelled(self) -> bool:
        """True once somebody asked to cancel the job (as of the last report, or now if
        nothing was reported in the last second), or the job engine asked to abort it."""
        if self.abort_requested is not None and self.abort_requested():
            self._cancelled = True
        if time.monotonic() - self._last_write >= PROGRESS_EVERY_SECONDS:
            with self.sessions() as s:
                self._cancelled = bool(
                    s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
                )
            self._last_write = time.monotonic()
        return self._cancelled

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` if the job was cancelled."""
        if self.cancelled():
            raise JobCancelled(f"job #{self.job_id} was cancelled")


Handler = Callable[[JobContext], dict[str, Any]]


def submit_job(session: Session, kind: str, owner_id: int, params: dict[str, Any]) -> Job:
    """Queue a job for a worker.

    Raises:
        InvalidInput: an unknown kind, or the user already has MAX_ACTIVE_PER_USER jobs
            queued or running.
        NotFound: an unknown user.
    """
    if not isinstance(kind, str) or not kind or len(kind) > 32:
        raise InvalidInput(f"`kind` must be a job kind, got {kind!r}")
    if not is_row_id(owner_id) or session.get(User, owner_id) is None:
        raise NotFound(f"user #{owner_id} does not exist")
    active = session.scalars(
        select(Job.id).where(Job.owner_id == owner_id, Job.status.in_(ACTIVE))
    ).all()
    if len(active) >= MAX_ACTIVE_PER_USER:
        raise InvalidInput(
            f"you already have {len(active)} jobs queued or running "
            f"(#{', #'.join(map(str, active))}); wait for one to finish or cancel it"
        )
    job = Job(kind=kind, owner_id=owner_id, params=dict(params), status="queued")
    session.add(job)
    session.flush()
    if uses_job_engine(session):
        enqueue_engine_task(session, job.id)
    return job


ENGINE_QUEUE = "atelier"
ENGINE_TASK = "atelier.run_job"


def uses_job_engine(session: Session) -> bool:
    """True where jobs also go through the job engine: on PostgreSQL (migration 0008)."""
    return session.get_bind().dialect.name == "postgresql"


def engine_lock(job_id: int) -> str:
    """The engine's lock and queueing lock for one Atelier job: its tasks run one at a time,
    and at most one waits in the queue."""
    return f"atelier-job-{job_id}"


def enqueue_engine_task(session: Session, job_id: int) -> None:
    """Give the job engine a task for job `job_id`, in the caller's transaction: the task
    exists exactly when the row does (no task for a rolled-back job, no job without one)."""
    session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(CAST(:queue AS varchar), "
            "CAST(:task AS varchar), 0, CAST(:lock AS text), CAST(:lock AS text), "
            "CAST(:args AS jsonb), CAST(NULL AS timestamptz))::procrastinate_job_to_defer_v1])"
        ),
        {
            "queue": ENGINE_QUEUE,
            "task": ENGINE_TASK,
            "lock": engine_lock(job_id),
            "args": json.dumps({"job_id": job_id}),
        },
    )


def get_job(session: Session, job_id: int, user_id: int) -> Job:
    """A job its owner may see.

    Raises:
        NotFound: no such job, or it belongs to someone else (not revealed).
    """
    job = session.get(Job, job_id) if is_row_id(job_id) else None
    if job is None or job.owner_id != user_id:
        raise NotFound(f"job #{job_id} does not exist")
    return job


def list_jobs(session: Session, owner_id: int, *, kind: str | None = None, limit: int = 20):
    """A user's newest jobs, newest first."""
    query = select(Job).where(Job.owner_id == owner_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return session.scalars(query.order_by(Job.id.desc()).limit(max(1, min(limit, 100)))).all()


def request_cancel(session: Session, job_id: int, user_id: int) -> Job:
    """Cancel a job: a queued one at once, a running one when its handler next looks.

    Raises:
        NotFound: no such job of this user.
        InvalidInput: the job has already ended.
    """
    job = get_job(session, job_id, user_id)
    if job.status not in ACTIVE:
        raise InvalidInput(f"job #{job_id} has already ended ({job.status})")
    job.cancel_requested = True
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", utcnow()
    if uses_job_engine(session):
        # the engine drops a waiting task and tells a running one's worker to abort it
        session.execute(
            text(
                "SELECT procrastinate_cancel_job_v1(id, true, false) FROM procrastinate_jobs "
                "WHERE lock = :lock AND status IN ('todo', 'doing')"
            ),
            {"lock": engine_lock(job.id)},
        )
    return job


def claim_next_job(session: Session, worker: str, kinds: tuple[str, ...]) -> Job | None:
    """Take the oldest queued job of `kinds` for `worker`, or None. Safe with many workers:
    the claim is a conditional UPDATE, and a lost race just tries the next job."""
    candidates = session.scalars(
        select(Job.id).where(Job.status == "queued", Job.kind.in_(kinds)).order_by(Job.id).limit(5)
    ).all()
    for job_id in candidates:
        job = _claim(session, job_id, worker, Job.status == "queued")
        if job is not None:
            return job
    return None


def claim_job(
    session: Session, job_id: int, worker: str, *, stale_after: timedelta = STALE_AFTER
) -> Job | None:
    """Take job `job_id` for `worker` if it is queued, or running under a worker that stopped
    reporting `stale_after` ago (it died); None if it is not to be run now."""
    stale = (Job.status == "running") & (Job.heartbeat_at < utcnow() - stale_after)
    return _claim(session, job_id, worker, (Job.status == "queued") | stale)


def _claim(session: Session, job_id: int, worker: str, claimable) -> Job | None:
    """The one conditional UPDATE that hands job `job_id` to `worker` while `claimable`
    holds of its row; the job, or None if another worker (or its state) got there first."""
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable)
        .values(status="running", worker=worker, started_at=now, heartbeat_at=now)
    ).rowcount
    return session.get(Job, job_id, populate_existing=True) if claimed else None


def requeue_stale_jobs(session: Session, *, older_than: timedelta = STALE_AFTER) -> list[int]:
    """Put back in the queue the running jobs whose worker stopped reporting (it died)."""
    cutoff = utcnow() - older_than
    stale = session.scalars(
        select(Job).where(Job.status == "running", Job.heartbeat_at < cutoff)
    ).all()
    for job in stale:
        job.status, job.worker = "queued", None
    return [job.id for job in stale]


def run_job(
    sessions: sessionmaker,
    job_id: int,
    handlers: Mapping[str, Handler],
    services: Mapping[str, Any] | None = None,
    abort_requested: Callable[[], bool] | None = None,
) -> str:
    """Run one claimed job to its end and record how it ended; returns the final status.

    A handler returns its result (JSON); `JobCancelled` ends it as cancelled; a
    `MarketplaceError` or `ValueError` as failed with its message; anything else as failed
    with a generic message (the traceback goes to the log, not to the user).
    """
    with sessions() as s:
        job = s.get(Job, job_id)
        context = JobContext(
            job.id,
            job.owner_id,
            dict(job.params),
            sessions,
            services or {},
            abort_requested=abort_requested,
        )
        kind = job.kind
        handler = handlers.get(kind)
    status, result, error = "done", {}, None
    try:
        if handler is None:
            raise InvalidInput(f"no worker here runs jobs of kind {kind!r}")
        result = handler(context) or {}
    except JobCancelled:
        status = "cancelled"
    except (MarketplaceError, ValueError, OSError) as exc:
        status, error = "failed", str(exc)
    except Exception:
        log.exception("job #%s (%s) crashed", job_id, kind)
        status, error = "failed", "the job stopped on an internal error; it has been logged"
    with sessions() as s, s.begin():
        row = s.get(Job, job_id)
        row.status, row.result, row.error = status, result, error
        row.finished_at = row.heartbeat_at = utcnow()
    return status


class Worker:
    """Runs queued jobs one at a time in a background thread (the app's built-in worker;
    `atelier worker` runs the same loop in its own process).

    Args:
        sessions: a session factory.
        handlers: job kind -> handler.
        services: passed to handlers through `JobContext.services`.
        poll_seconds: how long to sleep when the queue is empty.
        periodic: called between jobs at most every `periodic_seconds` (the market sweep,
            `marketplace.settlement.sweep_market`); its failures are logged, not raised.
    """

    def __init__(
        self,
        sessions: sessionmaker,
        handlers: Mapping[str, Handler],
        services: Mapping[str, Any] | None = None,
        poll_seconds: float = 1.0,
        stale_after: timedelta = STALE_AFTER,
        periodic: Callable[[], object] | None = None,
        periodic_seconds: float = 5.0,
    ) -> None:
        self.periodic = periodic
        self.periodic_seconds = periodic_seconds
        self._last_periodic = float("-inf")
        self.sessions = sessions
        self.stale_after = stale_after
        self.handlers = dict(handlers)
        self.services = dict(services or {})
        self.poll_seconds = poll_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Claim and run one job; its id, or None when the queue was empty."""
        with self.sessions() as s, s.begin():
            requeue_stale_jobs(s, older_than=self.stale_after)
            job = claim_next_job(s, self.name, tuple(self.handlers))
            job_id = job.id if job else None
        if job_id is not None:
            run_job(self.sessions, job_id, self.handlers, self.services)
        return job_id

    def run_periodic(self) -> None:
        """Run the periodic task if it is due."""
        now = time.monotonic()
        if self.periodic is None or now - self._last_periodic < self.periodic_seconds:
            return
        self._last_periodic = now
        try:
            self.periodic()
        except Exception:  # the next round tries again; a job must not wait on it
            log.exception("periodic task failed")

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self.run_periodic()
            try:
                if self.run_once() is None:
                    self._stop.wait(self.poll_seconds)
            except Exception:  # the database went away for a moment: keep serving
                log.exception("job worker iteration failed")
                self._stop.wait(self.poll_seconds)

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run_forever, name="atelier-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
