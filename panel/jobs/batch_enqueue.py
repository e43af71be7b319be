"""Enqueueing a batch of RQ jobs in one server-side script: the existence check and the writes in
one atomic step, at the speed of a raw pipeline.

Why not RQ's ``enqueue_many``: it builds a ``Job`` object per job and queues 17 hash fields and
their replies one by one (the régua's 15,000 operations spent most of their enqueue there), and
its check for a job already on its way has to be a separate round trip before it — another
request could enqueue the same job between the two. Here one ``EVALSHA`` per batch looks at each
job's status and, unless the job is already queued, scheduled or running, writes its hash and
pushes its id (or schedules it), exactly as RQ would have: a worker cannot tell the difference.

The format is RQ's, pinned: the hash fields come from one prototype ``Job.to_dict()`` per batch
(RQ's own serialisation), and only three things are written per job — ``data`` (the call,
serialised and compressed as ``Job.data``/``to_dict`` do), ``description`` and ``status`` (with
``enqueued_at`` for a job queued now). The keys are RQ's (``Job.key_for``, ``Queue.key``,
``rq:queues``, the scheduled registry). ``tests/test_batch_enqueue.py`` compares the hash with
what RQ's ``enqueue`` writes and has a real worker fetch and run what this wrote, so an RQ
upgrade that changes any of it fails CI instead of losing jobs. The trade-off: this file knows
RQ's storage, which RQ does not promise to keep; the alternative (one RQ job waking a batch of
operations) would have kept RQ's API but lost the one-job-per-operation view on the dashboard
and the per-operation timeouts.
"""

from __future__ import annotations

import calendar
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from redis.commands.core import Script
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.serializers import DefaultSerializer
from rq.utils import now, utcformat

# A job in one of these states is on its way: enqueuing it again would run it twice.
ON_ITS_WAY = frozenset(
    {JobStatus.QUEUED.value, JobStatus.SCHEDULED.value, JobStatus.STARTED.value, JobStatus.DEFERRED.value}
)

# KEYS: 1 the queue's list, 2 the set of queues, 3 the queue's scheduled registry, 4.. the jobs' hashes
# ARGV: 1 the queue's key (member of the set of queues), 2 now (enqueued_at), 3 how many common
# field/value pairs follow, then the pairs, then per job: id, description, data, at ('' = now;
# else the Unix time it is due).
_SCRIPT = """
local on_its_way = {%(on_its_way)s}
local pairs_count = tonumber(ARGV[3])
local common = {}
for i = 4, 3 + 2 * pairs_count do
    common[#common + 1] = ARGV[i]
end
local first = 4 + 2 * pairs_count
local sent = 0
redis.call('SADD', KEYS[2], ARGV[1])
for j = 4, #KEYS do
    local key = KEYS[j]
    local status = redis.call('HGET', key, 'status')
    if not (status and on_its_way[status]) then
        local a = first + (j - 4) * 4
        local id, at = ARGV[a], ARGV[a + 3]
        local fields = {unpack(common)}
        fields[#fields + 1] = 'description'
        fields[#fields + 1] = ARGV[a + 1]
        fields[#fields + 1] = 'data'
        fields[#fields + 1] = ARGV[a + 2]
        fields[#fields + 1] = 'status'
        if at == '' then
            fields[#fields + 1] = 'queued'
            fields[#fields + 1] = 'enqueued_at'
            fields[#fields + 1] = ARGV[2]
        else
            fields[#fields + 1] = 'scheduled'
        end
        if status then
            redis.call('DEL', key)  -- a finished or failed run of the same id: no stale fields
        end
        redis.call('HSET', key, unpack(fields))
        if at == '' then
            redis.call('RPUSH', KEYS[1], id)
        else
            redis.call('ZADD', KEYS[3], tonumber(at), id)
        end
        sent = sent + 1
    end
end
return sent
"""
_SCRIPT %= {"on_its_way": ", ".join(f"{status} = true" for status in sorted(ON_ITS_WAY))}
# Called by its SHA (EVALSHA); a server that does not know it yet is sent the text once.
_ENQUEUE = Script(None, _SCRIPT.encode())

# Written per job (or by the script), not taken from the prototype.
_PER_JOB = frozenset({"data", "description", "status", "enqueued_at"})
# Jobs per script call: each call blocks Redis while it runs, so a batch of thousands goes in
# slices of a few milliseconds each.
SLICE = 1000


@dataclass(frozen=True)
class BatchJob:
    """One call to enqueue: ``func(arg)`` under ``job_id``, now (``at`` None) or at ``at``."""

    job_id: str
    arg: int | str
    description: str
    at: datetime | None = None


def enqueue_batch(
    queue: Queue, func: str, jobs: Sequence[BatchJob], *, timeout: int, result_ttl: int, failure_ttl: int
) -> int:
    """Enqueue each job whose id is not already queued, scheduled or running (one atomic step per
    slice of SLICE jobs). Returns how many were enqueued."""
    if not jobs:
        return 0
    connection: Redis = queue.connection
    common = _common_fields(queue, func, timeout=timeout, result_ttl=result_ttl, failure_ttl=failure_ttl)
    head_keys = [queue.key, Queue.redis_queues_keys, ScheduledJobRegistry(queue=queue).key]
    dumps = DefaultSerializer.dumps
    sent = 0
    for start in range(0, len(jobs), SLICE):
        part = jobs[start : start + SLICE]
        args: list = [queue.key, utcformat(now()), len(common) // 2, *common]
        for job in part:
            args += (
                job.job_id,
                job.description,
                zlib.compress(dumps((func, None, (job.arg,), {}))),
                "" if job.at is None else calendar.timegm(job.at.utctimetuple()),
            )
        sent += _ENQUEUE(keys=[*head_keys, *(Job.key_for(job.job_id) for job in part)], args=args, client=connection)
    return sent


def _common_fields(queue: Queue, func: str, **options: int) -> list:
    """The hash fields every job of the batch shares, as RQ's own serialisation writes them."""
    prototype = queue.create_job(func, args=(0,), status=JobStatus.QUEUED, **options)
    fields = []
    for name, value in prototype.to_dict().items():
        if name not in _PER_JOB:
            fields += (name, value)
    return fields
