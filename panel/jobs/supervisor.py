"""Keep `flask worker` and `flask scheduler` running through anything short of a request to stop.

The RQ loop runs in a child process and this parent only watches it. When the child ends without
being asked to (Redis went away in the middle of a job, a crash, a stuck call that the watchdog
ended), the parent waits until Redis answers — with backoff and one WARNING per outage — and starts
a new child, which registers itself afresh. Nothing is lost meanwhile: the database is the truth,
and a run that died is taken up again by its lease and the relay.

Signals: SIGTERM or SIGINT to the parent are passed on, once, to the child — which has a process
group of its own, so a terminal's Ctrl-C or honcho's ``killpg`` reaches it only through the parent
and a warm shutdown (finish the current job) is never turned into a cold one by a second copy of
the same signal. The parent then exits with the child's code. Should the parent be killed outright,
the child is sent SIGTERM by the kernel (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable

from redis import Redis, RedisError

log = logging.getLogger(__name__)

# The exit codes of a child that lost Redis (EX_TEMPFAIL, and one more when the child has already
# logged the outage): the parent waits for Redis, then restarts it.
REDIS_LOST = 75
REDIS_LOST_LOGGED = 76
# The exit code of a child that did its share of jobs and ends so that a fresh one starts.
RECYCLED = 3
_PR_SET_PDEATHSIG = 1


class Supervisor:
    """Run ``target`` in a child process, again and again, until asked to stop."""

    def __init__(
        self,
        name: str,
        target: Callable[[], object],
        connection: Redis,
        *,
        outage_logged: Callable[[], bool] = lambda: False,
        on_child_exit: Callable[[int], None] = lambda code: None,
        min_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
    ) -> None:
        self.name = name
        self.target = target
        self.outage_logged = outage_logged  # in the child: has it already warned of this outage?
        self.on_child_exit = on_child_exit  # in the parent, with the child's exit code
        self.connection = connection
        self.min_delay, self.max_delay, self.stable_after = min_delay, max_delay, stable_after
        self.stopping = False
        self.child_pid: int | None = None
        # How many children it started: the current one's number, set before each fork (so the
        # child and the parent read the same).
        self.generation = 0

    # -- the parent -----------------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._pass_on)
        signal.signal(signal.SIGINT, self._pass_on)
        delay = self.min_delay
        code = 0
        while not self.stopping:
            if not self._wait_for_redis(warned=code == REDIS_LOST_LOGGED):
                break
            started = time.monotonic()
            code = self._run_child()
            try:
                self.on_child_exit(code)
            except Exception:
                log.exception("%s: could not tidy up after its child", self.name)
            if self.stopping:
                break
            if code == RECYCLED:
                log.debug("%s: did its share of jobs; a fresh one starts", self.name)
                delay = self.min_delay
                continue
            if code in (REDIS_LOST, REDIS_LOST_LOGGED):
                log.info("%s: lost its connection to Redis; it starts again when Redis answers", self.name)
                continue  # the wait for Redis says the rest, once
            # Crashing again and again: wait longer each time; a child that ran a while starts afresh.
            delay = self.min_delay if time.monotonic() - started > self.stable_after else min(delay * 2, self.max_delay)
            log.warning("%s: stopped unexpectedly (%s); starting it again in %.0f s", self.name, _describe(code), delay)
            self._sleep(delay)
        return code if isinstance(code, int) and code >= 0 else 1

    def _pass_on(self, signum, _frame) -> None:
        self.stopping = True
        if self.child_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child_pid, signum)

    def _wait_for_redis(self, warned: bool = False) -> bool:
        """Until Redis answers a PING (False if asked to stop meanwhile). ``warned``: the outage
        was already logged (by the child), once is enough."""
        delay = 0.5
        while not self.stopping:
            try:
                self.connection.ping()
            except RedisError as error:
                if not warned:
                    log.warning(
                        "%s: Redis does not answer (%s); waiting for it, and resuming by itself",
                        self.name,
                        type(error).__name__,
                    )
                    warned = True
                self._sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if warned:
                log.info("%s: Redis answers again; resuming", self.name)
            return True
        return False

    def _run_child(self) -> int:
        parent = os.getpid()
        self.generation += 1
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured by the process tests
            os._exit(self._child(parent))
        self.child_pid = pid
        with contextlib.suppress(OSError):  # (a child that already exited, or set it first)
            os.setpgid(pid, pid)  # also done by the child: whichever runs first wins the race
        if self.stopping:  # a stop request that arrived while forking
            self._pass_on(signal.SIGTERM, None)
        _, status = os.waitpid(pid, 0)
        self.child_pid = None
        return os.waitstatus_to_exitcode(status)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    # -- the child ------------------------------------------------------------------------------

    def _child(self, parent: int) -> int:  # pragma: no cover - runs in the child
        code = 1
        try:
            with contextlib.suppress(OSError):
                os.setpgid(0, 0)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            die_with(parent)
            self.target()
            code = 0
        except RedisError:
            code = REDIS_LOST_LOGGED if self.outage_logged() else REDIS_LOST
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            log.exception("%s: crashed", self.name)
        finally:
            # os._exit skips atexit handlers, which belong to the parent (an embedded Redis it
            # started, for one): flush what would otherwise be lost.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        return code


def die_with(parent: int) -> None:  # pragma: no cover - runs in the child
    """Ask the kernel for a SIGTERM should the parent die (Linux); elsewhere, do without."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _describe(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"
