"""The job interface: submit, claim, progress, cancel, failure and recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.models import Job, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.jobs import (
    MAX_ACTIVE_PER_USER,
    Worker,
    claim_next_job,
    get_job,
    request_cancel,
    requeue_stale_jobs,
    submit_job,
)
from tests.integration.helpers import new_user


@pytest.fixture
def ada(sessions):
    return new_user(sessions, "ada")


def submit(sessions, owner, kind="echo", **params):
    with sessions() as s, s.begin():
        return submit_job(s, kind, owner, params).id


def job(sessions, job_id) -> Job:
    with sessions() as s:
        return s.get(Job, job_id)


def echo(ctx):
    ctx.report({"step": 1, "of": 1}, force=True)
    return {"echo": ctx.params["word"], "owner": ctx.owner_id}


def test_a_worker_runs_a_queued_job_and_records_its_result(sessions, ada):
    job_id = submit(sessions, ada, word="hello")
    assert job(sessions, job_id).status == "queued"
    worker = Worker(sessions, {"echo": echo})
    assert worker.run_once() == job_id
    done = job(sessions, job_id)
    assert done.status == "done" and done.result == {"echo": "hello", "owner": ada}
    assert done.progress == {"step": 1, "of": 1}
    assert done.started_at is not None and done.finished_at is not None
    assert worker.run_once() is None  # the queue is empty


def test_two_workers_never_claim_the_same_job(sessions, ada):
    job_id = submit(sessions, ada, word="x")
    with sessions() as s, s.begin():
        first = claim_next_job(s, "w1", ("echo",))
    with sessions() as s, s.begin():
        second = claim_next_job(s, "w2", ("echo",))
    assert first.id == job_id and first.worker == "w1" and second is None


def test_a_queued_job_is_cancelled_at_once_and_never_runs(sessions, ada):
    job_id = submit(sessions, ada, word="x")
    with sessions() as s, s.begin():
        request_cancel(s, job_id, ada)
    assert job(sessions, job_id).status == "cancelled"
    assert Worker(sessions, {"echo": echo}).run_once() is None
    with sessions() as s, s.begin(), pytest.raises(InvalidInput, match="already ended"):
        request_cancel(s, job_id, ada)


def test_a_running_job_sees_its_cancel_request_and_stops(sessions, ada):
    steps = []

    def long(ctx):
        for step in range(1000):
            steps.append(step)
            if step == 3:  # somebody presses Cancel while it runs
                with sessions() as s, s.begin():
                    request_cancel(s, ctx.job_id, ctx.owner_id)
            ctx.report({"step": step}, force=True)
            ctx.check_cancelled()
        return {}

    job_id = submit(sessions, ada, kind="long")
    Worker(sessions, {"long": long}).run_once()
    ended = job(sessions, job_id)
    assert ended.status == "cancelled" and steps == [0, 1, 2, 3]


def test_failures_are_recorded_with_a_message_a_person_can_read(sessions, ada):
    def refuses(ctx):
        raise ValueError("`steps` must be positive, got -1")

    def crashes(ctx):
        raise RuntimeError("tensor shape mismatch at layer 7")

    bad, broken = submit(sessions, ada, kind="refuses"), submit(sessions, ada, kind="crashes")
    worker = Worker(sessions, {"refuses": refuses, "crashes": crashes})
    worker.run_once(), worker.run_once()
    assert job(sessions, bad).status == "failed"
    assert job(sessions, bad).error == "`steps` must be positive, got -1"
    assert job(sessions, broken).status == "failed"
    assert "internal error" in job(sessions, broken).error
    assert "tensor" not in job(sessions, broken).error


def test_a_job_whose_worker_died_goes_back_to_the_queue(sessions, ada):
    job_id = submit(sessions, ada, word="again")
    with sessions() as s, s.begin():
        claim_next_job(s, "dead-worker", ("echo",))
    with sessions() as s, s.begin():
        assert requeue_stale_jobs(s) == []  # its heartbeat is fresh
        s.get(Job, job_id).heartbeat_at = utcnow() - timedelta(hours=1)
    with sessions() as s, s.begin():
        assert requeue_stale_jobs(s) == [job_id]
    assert Worker(sessions, {"echo": echo}).run_once() == job_id
    assert job(sessions, job_id).result["echo"] == "again"


def test_one_person_cannot_flood_the_queue(sessions, ada):
    for _ in range(MAX_ACTIVE_PER_USER):
        submit(sessions, ada, word="x")
    with sessions() as s, s.begin(), pytest.raises(InvalidInput, match="wait for one"):
        submit_job(s, "echo", ada, {})
    with sessions() as s:
        assert s.query(Job).count() == MAX_ACTIVE_PER_USER


def test_jobs_are_private_to_their_owner(sessions, ada):
    bob = new_user(sessions, "bob")
    job_id = submit(sessions, ada, word="x")
    with sessions() as s:
        assert get_job(s, job_id, ada).id == job_id
        with pytest.raises(NotFound):
            get_job(s, job_id, bob)
    with sessions() as s, s.begin(), pytest.raises(NotFound):
        request_cancel(s, job_id, bob)
    with sessions() as s, s.begin(), pytest.raises(NotFound, match="does not exist"):
        submit_job(s, "echo", 999, {})
