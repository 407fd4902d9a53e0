"""Jobs on PostgreSQL go through the job engine (Procrastinate): a task per job, written in
the job's own transaction, cancelled with it, and run by an engine worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from db.models import Job
from marketplace.job_engine import EngineWorker
from marketplace.jobs import engine_lock, request_cancel, submit_job
from tests.conftest import ON_POSTGRES
from tests.integration.helpers import new_user

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="the job engine runs on PostgreSQL; SQLite has the in-process runner"
)


def tasks(sessions, job_id: int) -> list[str]:
    with sessions() as s:
        return list(
            s.scalars(
                text("SELECT status FROM procrastinate_jobs WHERE lock = :lock ORDER BY id"),
                {"lock": engine_lock(job_id)},
            )
        )


def test_a_job_and_its_engine_task_are_written_together_or_not_at_all(sessions):
    ada = new_user(sessions, "ada")
    with sessions() as s, s.begin():
        kept = submit_job(s, "echo", ada, {"n": 1}).id
    assert tasks(sessions, kept) == ["todo"]
    with pytest.raises(RuntimeError, match="changed my mind"), sessions() as s, s.begin():
        dropped = submit_job(s, "echo", ada, {"n": 2}).id
        raise RuntimeError("changed my mind")
    assert tasks(sessions, dropped) == []


def test_cancelling_a_queued_job_cancels_its_task(sessions):
    ada = new_user(sessions, "ada")
    with sessions() as s, s.begin():
        job_id = submit_job(s, "echo", ada, {}).id
    with sessions() as s, s.begin():
        request_cancel(s, job_id, ada)
    assert tasks(sessions, job_id) == ["cancelled"]


def test_an_engine_worker_runs_the_job_and_records_it_on_the_row(engine, sessions):
    ada = new_user(sessions, "ada")
    with sessions() as s, s.begin():
        job_id = submit_job(s, "echo", ada, {"word": "hello"}).id
    seen = []

    def echo(ctx):
        seen.append(ctx.job_id)
        ctx.report({"step": 1}, force=True)
        return {"said": ctx.params["word"]}

    worker = EngineWorker(
        engine.url.render_as_string(hide_password=False),
        sessions,
        {"echo": echo},
        stale_after=timedelta(seconds=30),
    )
    worker.run(once=True)
    assert seen == [job_id] and worker.ran == [job_id]
    with sessions() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.result, job.worker) == ("done", {"said": "hello"}, worker.name)
    assert tasks(sessions, job_id) == []  # a finished task is deleted: the row is the record


def test_a_task_for_a_job_someone_else_is_running_waits_and_then_takes_it_over(engine, sessions):
    """A retried task (its worker died) finds the row still running: it waits until the row's
    heartbeat is stale, then claims it, and the job runs to its end."""
    ada = new_user(sessions, "ada")
    with sessions() as s, s.begin():
        job_id = submit_job(s, "echo", ada, {}).id
        s.execute(
            text(
                "UPDATE jobs SET status = 'running', worker = 'dead:1:engine', "
                "heartbeat_at = now() - interval '2 seconds' WHERE id = :id"
            ),
            {"id": job_id},
        )
    worker = EngineWorker(
        engine.url.render_as_string(hide_password=False),
        sessions,
        {"echo": lambda ctx: {"ok": True}},
        stale_after=timedelta(seconds=3),
    )
    worker.run(once=True)
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "done" and job.worker == worker.name
