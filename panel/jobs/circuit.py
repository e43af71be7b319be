"""Per-platform protections kept in Redis, shared by every worker: the circuit breaker (a
platform that keeps failing is left alone for a while, and the pages say so) and the
concurrency limit from Configurações (at most N calls to one platform at a time).

Both are advisory and self-healing: their keys expire, and losing them (Redis emptied) only
lifts a pause or a limit for a moment; the operations themselves live in the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from redis import Redis, RedisError
from redis.commands.core import Script

from panel.formats import local_datetime
from panel.jobs.queues import redis_connection

CIRCUIT_KEY = "painel:circuit:{platform_id}"
SLOTS_KEY = "painel:slots:{platform_id}"
# How long the failure count is remembered without a new failure.
FAILURE_MEMORY_SECONDS = 3600

# KEYS[1] the circuit hash; ARGV: now, threshold, base pause, max pause, memory, message.
# Counts one failure. At the threshold the circuit opens; a failure while it is open changes
# nothing (calls already in flight), and one after the pause (the first calls trying again)
# opens it anew for twice as long. Returns the time it is open until (0 when closed).
_FAILURE_SCRIPT = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_error', ARGV[6])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
if failures < tonumber(ARGV[2]) then
  return '0'
end
local current = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if current > tonumber(ARGV[1]) then
  return tostring(current)
end
local opened = redis.call('HINCRBY', KEYS[1], 'openings', 1)
local pause = math.min(tonumber(ARGV[3]) * 2 ^ (opened - 1), tonumber(ARGV[4]))
local untiltime = tonumber(ARGV[1]) + pause
redis.call('HSET', KEYS[1], 'open_until', tostring(untiltime))
return tostring(untiltime)
"""

# KEYS[1] the circuit hash, KEYS[2] the slots sorted set (member: the run, score: when its hold
# expires); ARGV: now, limit, member, expiry. Returns {open_until, taken, failures_known}: while the
# circuit is open nothing is taken; else one of the platform's call slots is taken (or it was
# held already) unless all are. Holds that ran out are pruned, and the holder looked for, only
# when the set is full: they can only change the answer then, and this runs once per job
# (bench/provisioning.py counts every Redis command). The set has no expiry: holds that a killed
# worker left are pruned the next time the set is full.
_ENTER_SCRIPT = """
local circuit = redis.call('HMGET', KEYS[1], 'open_until', 'failures')
local open_until = tonumber(circuit[1] or '0')
if open_until > tonumber(ARGV[1]) then
  return {tostring(open_until), 0, 1}
end
local known = circuit[2] and 1 or 0
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) and not redis.call('ZSCORE', KEYS[2], ARGV[3]) then
    return {'0', 0, known}
  end
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return {'0', 1, known}
"""

# KEYS[1] the circuit hash. A success forgets the failures, atomically; returns the openings
# the circuit had (nil when it had none). A platform with no failure recorded, the usual case,
# costs one read and no write.
_SUCCESS_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local openings = redis.call('HGET', KEYS[1], 'openings')
redis.call('DEL', KEYS[1])
return openings
"""

# Called by their SHA (EVALSHA); a server that does not know one yet is sent its text once.
_FAILURE = Script(None, _FAILURE_SCRIPT.encode())
_ENTER = Script(None, _ENTER_SCRIPT.encode())
_SUCCESS = Script(None, _SUCCESS_SCRIPT.encode())


@dataclass(frozen=True)
class CircuitState:
    """An open circuit: calls to the platform are paused until ``until``."""

    platform_name: str
    until: datetime
    failures: int
    last_error: str

    @property
    def message(self) -> str:
        text = (
            f"Chamadas à {self.platform_name} pausadas até {local_datetime(self.until, '%H:%M:%S')} após "
            f"{self.failures} falhas seguidas."
        )
        if self.last_error:
            text += f" Último erro: {self.last_error.rstrip('.')}."
        return text + " Os pedidos esperam e seguem sozinhos quando ela voltar a responder."


def _connection(connection: Redis | None) -> Redis:
    return connection if connection is not None else redis_connection()


def record_failure(platform_id: int, message: str, *, connection: Redis | None = None) -> float | None:
    """Count a failure that says the platform is unwell (timeout, connection error, 5xx).
    Returns the epoch time the circuit is open until, or None while it stays closed."""
    config = current_app.config
    until = float(
        _FAILURE(
            client=_connection(connection),
            keys=[CIRCUIT_KEY.format(platform_id=platform_id)],
            args=[
                time.time(),
                config["CIRCUIT_FAILURE_THRESHOLD"],
                config["CIRCUIT_OPEN_SECONDS"],
                config["CIRCUIT_MAX_OPEN_SECONDS"],
                FAILURE_MEMORY_SECONDS,
                message[:300],
            ],
        )
    )
    return until or None


def record_success(platform_id: int, *, connection: Redis | None = None) -> bool:
    """The platform answered: the failure count starts again. True when its circuit had opened
    (the platform is back after an outage)."""
    return bool(_SUCCESS(client=_connection(connection), keys=[CIRCUIT_KEY.format(platform_id=platform_id)]))


def open_until(platform_id: int, *, connection: Redis | None = None) -> float | None:
    """When calls to the platform may resume, if its circuit is open now."""
    raw = _connection(connection).hget(CIRCUIT_KEY.format(platform_id=platform_id), "open_until")
    until = float(raw) if raw else 0.0
    return until if until > time.time() else None


def circuit_state(
    platform_id: int, platform_name: str = "plataforma", *, connection: Redis | None = None
) -> CircuitState | None:
    """For the pages: the open circuit of a platform, or None (closed, or Redis unavailable)."""
    try:
        values = _connection(connection).hgetall(CIRCUIT_KEY.format(platform_id=platform_id))
    except RedisError:
        return None
    values = {key.decode(): value.decode() for key, value in values.items()}
    until = float(values.get("open_until") or 0)
    if until <= time.time():
        return None
    return CircuitState(
        platform_name=platform_name,
        until=datetime.fromtimestamp(until, UTC),
        failures=int(values.get("failures") or 0),
        last_error=values.get("last_error") or "",
    )


@dataclass(frozen=True)
class Entry:
    """A job's way in to a platform: paused (its circuit is open until ``paused_until``), or a
    call slot taken (``slot``), or none free. ``failures_known``: the platform failed lately, so
    an answer from it is news (``record_success``); else a success needs no write."""

    paused_until: float | None
    slot: bool
    failures_known: bool


def enter(platform_id: int, limit: int, holder: str, hold_seconds: float, *, connection: Redis | None = None) -> Entry:
    """Look at the platform's circuit and take one of its ``limit`` call slots for ``holder``
    (until released or ``hold_seconds`` pass: a killed worker's slot frees itself), in one step."""
    now = time.time()
    until, taken, known = _ENTER(
        client=_connection(connection),
        keys=[CIRCUIT_KEY.format(platform_id=platform_id), SLOTS_KEY.format(platform_id=platform_id)],
        args=[now, limit, holder, now + hold_seconds],
    )
    until = float(until)
    return Entry(until if until > now else None, bool(taken), bool(known))


def release_slot(platform_id: int, holder: str, *, connection: Redis | None = None) -> None:
    _connection(connection).zrem(SLOTS_KEY.format(platform_id=platform_id), holder)
