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

# KEYS[1] the slots sorted set (member: operation id, score: when its hold expires);
# ARGV: now, limit, member, expiry. Returns 1 when the slot is taken (or already held).
# Holds that ran out are pruned, and the holder looked for, only when the set is full: they can
# only change the answer then, and every command here runs once per job (bench/provisioning.py
# counts them).
_ACQUIRE_SCRIPT = """
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) and not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
    return 0
  end
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) - tonumber(ARGV[1])) + 60)
return 1
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
    script = _connection(connection).register_script(_FAILURE_SCRIPT)
    until = float(
        script(
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
    script = _connection(connection).register_script(_SUCCESS_SCRIPT)
    return bool(script(keys=[CIRCUIT_KEY.format(platform_id=platform_id)]))


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


def acquire_slot(
    platform_id: int, limit: int, holder: str, hold_seconds: float, *, connection: Redis | None = None
) -> bool:
    """Take one of the platform's ``limit`` call slots for ``holder`` (until released or
    ``hold_seconds`` pass: a killed worker's slot frees itself)."""
    now = time.time()
    script = _connection(connection).register_script(_ACQUIRE_SCRIPT)
    return bool(script(keys=[SLOTS_KEY.format(platform_id=platform_id)], args=[now, limit, holder, now + hold_seconds]))


def release_slot(platform_id: int, holder: str, *, connection: Redis | None = None) -> None:
    _connection(connection).zrem(SLOTS_KEY.format(platform_id=platform_id), holder)
