"""The login throttle: an attempt is counted before its password is checked.

Three moving windows per attempt, kept in Redis so that they hold across processes (usernames
appear there only hashed):
  - username + address: "five wrong passwords in a row" slow down that user at that address;
  - username alone: a looser limit against guesses spread over many addresses;
  - address alone: a looser limit against one address trying many usernames.

An attempt takes a place in each window with the ``limits`` library's ``hit``, one Lua script in
Redis that checks and adds in a single step. Of many attempts sent at once, only as many as a
window holds get a place and have their password checked; the others are refused (429) without
a check. (Testing the limit first and counting a failure afterwards, as Flask-Limiter's
``deduct_when`` does, let every attempt of a parallel burst pass the test.)

A good login then ends the run of its username (the first two windows), but not its address's:
it took its place there like any attempt and keeps it, so one valid account cannot launder
guesses at others from the same place.

If Redis does not answer, per-process counters (the same windows, in memory) take over for
a while rather than locking everyone out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis
from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from panel.domain.users import normalise_username

log = logging.getLogger(__name__)

# Once Redis has failed to answer, the per-process counters are used this long before Redis is
# tried again (a Redis that hangs would otherwise cost every login its socket timeout).
REDIS_RETRY_SECONDS = 30

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    limit: RateLimitItem
    identifiers: tuple[str, ...]
    of_username: bool  # ended by a good login


def windows_for(username: str, address: str) -> list[Window]:
    """The three windows a login attempt counts in, narrowest first."""
    config = current_app.config
    prefix = config.get("LOGIN_THROTTLE_KEY_PREFIX") or "painel:limits"
    user = hashlib.sha256(normalise_username(username).encode()).hexdigest()[:32]

    def window(setting: str, key: str, of_username: bool) -> Window:
        return Window(parse(config[setting]), (prefix, key, "login"), of_username)

    return [
        window("LOGIN_LIMIT_PER_USER_AND_IP", f"user-ip:{user}:{address}", True),
        window("LOGIN_LIMIT_PER_USER", f"user:{user}", True),
        window("LOGIN_LIMIT_PER_IP", f"ip:{address}", False),
    ]


class LoginThrottle:
    """One per app, at ``app.extensions["login_throttle"]``; safe to share between threads."""

    def __init__(self, app: Flask) -> None:
        # The app's own Redis connections (their timeouts, and closed with the app).
        pool = app.extensions["redis"].connection_pool
        self._shared = MovingWindowRateLimiter(RedisStorage("redis://", connection_pool=pool))
        self._local = MovingWindowRateLimiter(MemoryStorage())
        # limits' memory storage may drop a key's lock while a thread holds it: one lock of our
        # own keeps each step on the per-process counters atomic.
        self._local_lock = threading.Lock()
        self._redis_retry_at = 0.0

    def count_attempt(self, windows: list[Window]) -> int | None:
        """Give this attempt a place in every window: None if it got them, otherwise the whole
        seconds until it would (for Retry-After)."""
        return self._run(lambda strategy: _take_places(strategy, windows))

    def end_username_run(self, windows: list[Window]) -> None:
        """After a good login: the username's windows start again; the address's does not."""
        of_username = [window for window in windows if window.of_username]

        def clear(strategy: MovingWindowRateLimiter) -> None:
            for window in of_username:
                strategy.clear(window.limit, *window.identifiers)

        with self._local_lock:  # (failures counted there while Redis was down)
            clear(self._local)
        self._run(clear)

    def _run(self, step: Callable[[MovingWindowRateLimiter], T]) -> T:
        if time.monotonic() >= self._redis_retry_at:
            try:
                return step(self._shared)
            except redis.RedisError as error:
                log.warning(
                    "login throttle: Redis does not answer (%s); per-process counters for %d s",
                    type(error).__name__,
                    REDIS_RETRY_SECONDS,
                )
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
        with self._local_lock:
            return step(self._local)


def _take_places(strategy: MovingWindowRateLimiter, windows: list[Window]) -> int | None:
    # A look first, so that an attempt refused by one window is not counted in the others...
    full = [window for window in windows if not strategy.test(window.limit, *window.identifiers)]
    if not full:
        # ...then the atomic step, which alone decides. An attempt that loses a race here keeps
        # the places it took in the narrower windows before (never more than they hold).
        for window in windows:
            if not strategy.hit(window.limit, *window.identifiers):
                full = [window]
                break
    if not full:
        return None
    return max(_seconds_until_a_place(strategy, window) for window in full)


def _seconds_until_a_place(strategy: MovingWindowRateLimiter, window: Window) -> int:
    reset_at, _remaining = strategy.get_window_stats(window.limit, *window.identifiers)
    return max(1, math.ceil(reset_at - time.time()))


def wait_text(seconds: int) -> str:
    """A wait as an operator reads it: "40 s" under a minute, otherwise whole minutes rounded up
    ("4 min" for 3 min 10 s), so that trying again at that time works."""
    return f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


def init_app(app: Flask) -> None:
    app.extensions["login_throttle"] = LoginThrottle(app)


def throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]
