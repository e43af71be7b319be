"""The access tokens platforms issue (OAuth), shared by every job and worker in
Redis: one key per account (the adapter's key: a hash of server and credentials, never the
credentials themselves) whose TTL is the token's own lifetime, so an expired token is simply gone.
Never in the database; the value is the bearer token the platform gave, which lives an hour or
so, and it never reaches a log line. A Redis lock keeps concurrent jobs from all asking for a
new token at once (the adapter asks again inside it, then stores the answer for the others).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis import Redis
from redis.exceptions import LockError

from panel.jobs.queues import redis_connection

KEY = "painel:platform-token:{key}"
LOCK_TIMEOUT_S = 30  # the lock frees itself if its holder dies while asking
LOCK_WAIT_S = 20  # longer than two token calls at the default timeouts

# Deletes the key only if it still holds the refused token (another job may have renewed it).
_DISCARD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class RedisTokenCache:
    def __init__(self, connection: Redis | None = None) -> None:
        self.redis = connection if connection is not None else redis_connection()

    def get(self, key: str) -> str | None:
        value = self.redis.get(KEY.format(key=key))
        return value.decode() if isinstance(value, bytes) else value

    def put(self, key: str, token: str, ttl: float) -> None:
        self.redis.set(KEY.format(key=key), token, px=max(1, int(ttl * 1000)))

    def discard(self, key: str, token: str) -> None:
        self.redis.eval(_DISCARD, 1, KEY.format(key=key), token)

    @contextmanager
    def lock(self, key: str) -> Iterator[object]:
        lock = self.redis.lock(KEY.format(key=key) + ":lock", timeout=LOCK_TIMEOUT_S, thread_local=False)
        # Waited on for a while; past that the job goes on without it (at worst, one more token
        # request) rather than failing because another job is slow to get its token.
        acquired = lock.acquire(blocking=True, blocking_timeout=LOCK_WAIT_S)
        try:
            yield lock
        finally:
            if acquired:
                with suppress(LockError):  # it expired meanwhile (LOCK_TIMEOUT_S): someone else's now
                    lock.release()
