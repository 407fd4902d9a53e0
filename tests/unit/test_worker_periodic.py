"""The in-process worker's periodic task (the market sweep): at most once per period, and
a failing round neither stops the worker nor skips the next period."""

from marketplace.jobs import Worker


def test_the_periodic_task_runs_at_most_once_a_period_and_survives_failures(monkeypatch):
    calls = []

    def sweep():
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the database went away for a moment")

    clock = [1000.0]
    monkeypatch.setattr("marketplace.jobs.time.monotonic", lambda: clock[0])
    worker = Worker(None, {}, periodic=sweep, periodic_seconds=5.0)
    worker.run_periodic()  # runs, fails, logged
    worker.run_periodic()  # not due yet
    clock[0] += 5.0
    worker.run_periodic()  # due again: runs
    assert calls == [0, 1]
    Worker(None, {}).run_periodic()  # no periodic task: nothing to do
