"""A redis-server of a benchmark's own, so that what it counts and flushes is nobody else's."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


class PrivateRedis:
    """A redis-server of the bench's own (no persistence, noeviction), so INFO commandstats counts
    nothing but this run."""

    def __init__(self, directory: Path, port: int) -> None:
        from panel.embedded_redis import find_redis_server

        self.port = port
        self.process = subprocess.Popen(
            [
                find_redis_server(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
                "--dir",
                str(directory),
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {port} (in use?)") from None
                time.sleep(0.05)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
