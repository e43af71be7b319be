"""Queues named by purpose, and the one way to enqueue: explicit timeouts and TTLs every time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job


@dataclass(frozen=True)
class QueueSpec:
    name: str
    job_timeout: int  # seconds; longer than any HTTP timeout the job may wait on
    result_ttl: int
    failure_ttl: int


# Listed in the order a worker serves them: operator-visible work first.
QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("provisioning", job_timeout=120, result_ttl=3600, failure_ttl=7 * 86400),
    QueueSpec("sync", job_timeout=900, result_ttl=3600, failure_ttl=7 * 86400),
    QueueSpec("default", job_timeout=1800, result_ttl=600, failure_ttl=7 * 86400),
    # The régua's blocks (thousands in a morning): served after everything an operator waits for.
    QueueSpec("background", job_timeout=120, result_ttl=3600, failure_ttl=7 * 86400),
)
QUEUE_SPECS = {spec.name: spec for spec in QUEUES}


def redis_connection() -> Redis:
    return current_app.extensions["redis"]


def get_queue(name: str, connection: Redis | None = None) -> Queue:
    if name not in QUEUE_SPECS:
        raise KeyError(f"unknown queue {name!r}")
    if connection is not None:
        return Queue(name, connection=connection)
    # One Queue per app and name: a new one asks Redis its version (INFO) at its first enqueue.
    queues = current_app.extensions.setdefault("rq_queues", {})
    if name not in queues:
        queues[name] = Queue(name, connection=redis_connection())
    return queues[name]


def enqueue(
    func: Callable | str,
    *args: int | str,
    queue: str,
    job_id: str | None = None,
    description: str,
    connection: Redis | None = None,
) -> Job:
    """Enqueue ``func(*args)`` (a function or its dotted path). Arguments are ids, never objects;
    ``description`` is shown on the job dashboard, which renders it unescaped, so it must be
    plain and safe."""
    spec = QUEUE_SPECS[queue]
    return get_queue(queue, connection).enqueue(
        func,
        *args,
        job_id=job_id,
        description=description,
        job_timeout=spec.job_timeout,
        result_ttl=spec.result_ttl,
        failure_ttl=spec.failure_ttl,
    )
