"""The job engine on PostgreSQL: Procrastinate carries each Atelier job to a worker.

`marketplace.jobs.submit_job` writes the `jobs` row and, in the same transaction, a
Procrastinate task naming it (locked and queueing-locked per job, so one job's tasks never run
side by side or wait twice in the queue). An engine worker (`atelier worker`) is woken by
LISTEN/NOTIFY, takes the task with SKIP LOCKED, claims the row with the same conditional UPDATE
the in-process runner uses, and runs the job's handler; progress, heartbeat and result go to
the row, where the pages and the CLI read them. Cancelling a job sets `cancel_requested` and
asks the engine to abort the task; the handler sees either. The maintenance worker (below)
also publishes the transparency log's new tiles to the blob store every few seconds.

A worker that is killed stops sending its engine heartbeat. A maintenance worker in every
worker process (its own queue, so a long training job never keeps it waiting) retries every
few seconds the tasks whose worker fell silent; the retried task waits until the job row's
own heartbeat is `stale_after` old, takes the row over and the handler resumes from its last
checkpoint in the blob store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from db.models import Job
from marketplace.jobs import (
    ENGINE_QUEUE,
    ENGINE_TASK,
    STALE_AFTER,
    Handler,
    claim_job,
    run_job,
)

MAINTENANCE_QUEUE = "atelier-maintenance"
RETRY_STALLED_TASK = "atelier.retry_stalled"
RETRY_STALLED_CRON = "* * * * * */5"  # every 5 seconds (croniter's sixth field)
PUBLISH_LOG_TASK = "atelier.publish_log"
PUBLISH_LOG_CRON = "* * * * * */5"
SWEEP_MARKET_TASK = "atelier.sweep_market"
SWEEP_MARKET_CRON = "* * * * * */5"  # auctions settle within about 5 s of their end
HEARTBEAT_SECONDS = 2.0  # how often an engine worker tells the database it is alive


def conninfo(database_url: str) -> str:
    """A psycopg connection string for a SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"the job engine needs PostgreSQL, got a {url.get_backend_name()} URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class EngineWorker:
    """One `atelier worker` process on the engine: a job worker and a maintenance worker.

    Args:
        database_url: the PostgreSQL database (the one `sessions` opens).
        sessions: a session factory for the job rows.
        handlers: job kind -> handler (`marketplace.jobs.Handler`).
        services: passed to handlers through `JobContext.services`.
        stale_after: how long a running job's row may go without a heartbeat before another
            worker takes it over.
        publish_log: called every few seconds by the maintenance worker, to publish the
            transparency log's new tiles to the blob store (`marketplace.log_publishing`).
        sweep_market: called every few seconds by the maintenance worker, to settle ended
            auctions and refund expired offers (`marketplace.settlement`).
    """

    def __init__(
        self,
        database_url: str,
        sessions: sessionmaker,
        handlers: Mapping[str, Handler],
        services: Mapping[str, Any] | None = None,
        *,
        stale_after: timedelta = STALE_AFTER,
        publish_log: Callable[[], object] | None = None,
        sweep_market: Callable[[], object] | None = None,
    ) -> None:
        import procrastinate

        self.sessions = sessions
        self.handlers = dict(handlers)
        self.services = dict(services or {})
        self.stale_after = stale_after
        self.name = f"{socket.gethostname()}:{os.getpid()}:engine"
        self.ran: list[int] = []
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
        )
        self.app.task(name=ENGINE_TASK, queue=ENGINE_QUEUE, pass_context=True)(self._run)
        retry = self.app.task(
            name=RETRY_STALLED_TASK,
            queue=MAINTENANCE_QUEUE,
            queueing_lock=RETRY_STALLED_TASK,
            pass_context=True,
        )(self._retry_stalled)
        self.app.periodic(cron=RETRY_STALLED_CRON, periodic_id="retry-stalled")(retry)
        if publish_log is not None:
            publish = self.app.task(
                name=PUBLISH_LOG_TASK, queue=MAINTENANCE_QUEUE, queueing_lock=PUBLISH_LOG_TASK
            )(lambda timestamp: publish_log() and None)
            self.app.periodic(cron=PUBLISH_LOG_CRON, periodic_id="publish-log")(publish)
        if sweep_market is not None:
            sweep = self.app.task(
                name=SWEEP_MARKET_TASK, queue=MAINTENANCE_QUEUE, queueing_lock=SWEEP_MARKET_TASK
            )(lambda timestamp: sweep_market() and None)
            self.app.periodic(cron=SWEEP_MARKET_CRON, periodic_id="sweep-market")(sweep)

    def _run(self, context, job_id: int) -> str:
        """The engine task: claim Atelier job `job_id` and run it, or wait while another
        worker that still reports has it; returns how it ended."""
        poll = max(1.0, min(10.0, self.stale_after.total_seconds() / 4))
        while True:
            with self.sessions() as s, s.begin():
                job = claim_job(s, job_id, self.name, stale_after=self.stale_after)
                status = None if job else s.scalar(select(Job.status).where(Job.id == job_id))
            if job is not None:
                self.ran.append(job_id)
                return run_job(
                    self.sessions,
                    job_id,
                    self.handlers,
                    self.services,
                    abort_requested=context.should_abort,
                )
            if status != "running" or context.should_abort():
                return status or "no such job"  # ended, cancelled, or gone with a reset
            time.sleep(poll)

    async def _retry_stalled(self, context, timestamp: int) -> int:
        """Put back in the queue the tasks whose worker stopped sending heartbeats."""
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(
            task_name=ENGINE_TASK, seconds_since_heartbeat=self.stale_after.total_seconds()
        )
        for job in stalled:
            await manager.retry_job(job)
        return len(stalled)

    def run_once(self) -> int | None:
        """Run what the queue holds, then stop; the id of the last job run, or None."""
        before = len(self.ran)
        self.run(once=True)
        return self.ran[-1] if len(self.ran) > before else None

    def run(self, *, once: bool = False) -> None:
        """Work until stopped (SIGINT/SIGTERM: the job in hand finishes first), or with `once`
        until the queue is empty."""

        async def both() -> None:
            options = {
                "update_heartbeat_interval": HEARTBEAT_SECONDS,
                "stalled_worker_timeout": self.stale_after.total_seconds(),
                "wait": not once,
                "name": self.name,
                # the row in `jobs` is the record; finished engine tasks would only pile up
                # (the maintenance tasks alone make two every 5 seconds)
                "delete_jobs": "successful",
            }
            async with self.app.open_async():
                jobs = self.app.run_worker_async(queues=[ENGINE_QUEUE], concurrency=1, **options)
                if once:
                    await jobs
                    return
                maintenance = asyncio.create_task(
                    self.app.run_worker_async(
                        queues=[MAINTENANCE_QUEUE],
                        concurrency=1,
                        install_signal_handlers=False,
                        **{**options, "name": self.name + ":maintenance"},
                    )
                )
                try:
                    await jobs  # until a signal stops it
                finally:
                    maintenance.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await maintenance

        asyncio.run(both())
