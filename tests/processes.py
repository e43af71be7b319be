"""`flask worker` / `flask scheduler` as real processes for the job and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

from tests.conftest import FLASK, PROJECT_ROOT


def wait_until(condition: Callable[[], object], timeout: float = 30.0, message: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def start_flask(panel_env: dict, *args: str) -> subprocess.Popen:
    # A session of its own, so stop() can take down whatever the worker forked.
    return subprocess.Popen(
        [FLASK, *args],
        cwd=PROJECT_ROOT,
        env=panel_env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output or ""
