"""The batch enqueue script writes RQ's own job format (pinned here): an RQ upgrade that changes
the format fails these tests instead of losing jobs in production."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from panel.jobs.batch_enqueue import BatchJob, enqueue_batch
from tests.conftest import FLASK, PROJECT_ROOT

RAN_KEY = "tests:batch-enqueue:ran"
OPTIONS = {"timeout": 120, "result_ttl": 0, "failure_ttl": 3600}
# Written at the moment of enqueueing: compared by presence, not value.
TIMESTAMPS = {"created_at", "enqueued_at"}


def record_run(value: int) -> None:
    """The job the tests enqueue: it leaves its argument in Redis (RQ's current job's connection)."""
    from rq import get_current_job

    get_current_job().connection.rpush(RAN_KEY, value)


FUNC = f"{__name__}.record_run"


def _hash(connection, job_id: str) -> dict[str, bytes]:
    return {key.decode(): value for key, value in connection.hgetall(Job.key_for(job_id)).items()}


def test_the_script_writes_what_rqs_own_enqueue_writes(app):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    queue.enqueue_call(FUNC, args=(7,), job_id="by-rq", description="Operação 7", **OPTIONS)
    assert enqueue_batch(queue, FUNC, [BatchJob("by-script", 7, "Operação 7")], **OPTIONS) == 1

    by_rq, by_script = _hash(connection, "by-rq"), _hash(connection, "by-script")
    assert by_script.keys() == by_rq.keys()
    for field in by_rq.keys() - TIMESTAMPS:
        assert by_script[field] == by_rq[field], field
    assert [job_id.decode() for job_id in connection.lrange(queue.key, 0, -1)] == ["by-rq", "by-script"]
    assert queue.key.encode() in connection.smembers(Queue.redis_queues_keys)
    fetched = Job.fetch("by-script", connection=connection)
    assert (fetched.func_name, fetched.args, fetched.kwargs) == (FUNC, (7,), {})
    assert (fetched.origin, fetched.description, fetched.get_status()) == ("default", "Operação 7", "queued")
    assert (fetched.timeout, fetched.result_ttl, fetched.failure_ttl) == (120, 0, 3600)


def test_rqs_own_worker_runs_what_the_script_wrote(app):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    jobs = [BatchJob(f"run-{n}", n, f"Operação {n}") for n in range(3)]
    assert enqueue_batch(queue, FUNC, jobs, **OPTIONS) == 3

    with app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=False)
    assert [int(value) for value in connection.lrange(RAN_KEY, 0, -1)] == [0, 1, 2]
    assert not connection.exists(*(Job.key_for(job.job_id) for job in jobs))  # result_ttl 0: gone once done


def test_the_panels_worker_process_runs_what_the_script_wrote(app, panel_env):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    assert enqueue_batch(queue, FUNC, [BatchJob("in-a-worker", 42, "Operação 42")], **OPTIONS) == 1
    result = subprocess.run(
        [FLASK, "worker", "--burst"], cwd=PROJECT_ROOT, env=panel_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert connection.lrange(RAN_KEY, 0, -1) == [b"42"]


def test_a_later_job_waits_in_rqs_scheduled_registry(app):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    assert enqueue_batch(queue, FUNC, [BatchJob("later", 1, "Operação 1", at=at)], **OPTIONS) == 1

    registry = ScheduledJobRegistry(queue=queue)
    assert registry.get_job_ids() == ["later"]
    assert registry.get_scheduled_time("later") == at
    assert Job.fetch("later", connection=connection).get_status() == "scheduled"
    assert "enqueued_at" not in _hash(connection, "later")
    assert queue.count == 0


def test_a_job_on_its_way_is_left_alone_and_an_ended_one_is_written_anew(app):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    assert enqueue_batch(queue, FUNC, [BatchJob("twice", 1, "Primeira")], **OPTIONS) == 1
    assert enqueue_batch(queue, FUNC, [BatchJob("twice", 2, "Segunda")], **OPTIONS) == 0
    assert queue.job_ids == ["twice"] and Job.fetch("twice", connection=connection).args == (1,)

    # An ended run of the same id (kept because it failed): written again, without its old fields.
    connection.lpop(queue.key)
    connection.hset(Job.key_for("twice"), mapping={"status": "failed", "exc_info": b"old traceback"})
    assert enqueue_batch(queue, FUNC, [BatchJob("twice", 3, "Terceira")], **OPTIONS) == 1
    assert queue.job_ids == ["twice"]
    written = _hash(connection, "twice")
    assert written["status"] == b"queued" and "exc_info" not in written
    assert Job.fetch("twice", connection=connection).args == (3,)


def test_a_large_batch_goes_in_slices_and_every_job_arrives(app):
    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    jobs = [BatchJob(f"many-{n}", n, f"Operação {n}") for n in range(2500)]
    assert enqueue_batch(queue, FUNC, jobs, **OPTIONS) == 2500
    assert queue.job_ids == [job.job_id for job in jobs]
