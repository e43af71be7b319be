"""Where adapters keep the access tokens a platform issues (OAuth), so that every job and every
worker reuses one until it expires instead of asking for a new one per call.

The adapter only sees this small interface; the jobs layer injects the shared one (Redis, with
the token's own expiry as the key's TTL: panel.jobs.token_cache). ``LocalTokenCache`` is the
fallback for an adapter built without one (a single process: a script, a test). Tokens are kept
in memory or in Redis only, never in the database, and never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class TokenCache(Protocol):
    def get(self, key: str) -> str | None:
        """The token kept under ``key``, unless it expired."""

    def put(self, key: str, token: str, ttl: float) -> None:
        """Keep ``token`` for ``ttl`` seconds."""

    def discard(self, key: str, token: str) -> None:
        """Forget ``token`` (refused by the platform) — only if it is still the one kept, so a
        job does not throw away the fresh token another job just stored."""

    def lock(self, key: str) -> AbstractContextManager[object]:
        """Held while a new token is asked for: the other jobs wait and then take that one,
        instead of all asking the platform at once."""


class LocalTokenCache:
    """A TokenCache for one process."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> str | None:
        with self._guard:
            kept = self._tokens.get(key)
        return kept[0] if kept and kept[1] > time.monotonic() else None

    def put(self, key: str, token: str, ttl: float) -> None:
        with self._guard:
            self._tokens[key] = (token, time.monotonic() + ttl)

    def discard(self, key: str, token: str) -> None:
        with self._guard:
            if self._tokens.get(key, ("",))[0] == token:
                del self._tokens[key]

    @contextmanager
    def lock(self, key: str) -> Iterator[object]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield lock
