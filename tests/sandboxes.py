"""Platform sandboxes as the tests use them: real processes (``python -m sandbox.<kind>``) on
free ports, reached over a real socket, with their admin endpoints wrapped in a small client."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from panel.domain.kinds import KINDS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunningSandbox:
    kind: str
    url: str
    token: str
    process: subprocess.Popen
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(
            method,
            f"{self.url}/_sandbox{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kwargs,
        )
        assert response.status_code < 400, f"sandbox admin {method} {path}: {response.status_code} {response.text}"
        return response

    def inject(self, kind: str, **spec: Any) -> dict:
        """Queue a fault (see sandbox.common): inject("error", count=3, status=500, match="POST /v1")."""
        return self.admin("POST", "/faults", json={"kind": kind, **spec}).json()

    def pending_faults(self) -> list[dict]:
        return self.admin("GET", "/faults").json()

    def reset(self) -> None:
        self.admin("POST", "/reset")

    def records(self) -> list[dict]:
        """The platform's own stored subscribers (not what our adapter says of them)."""
        return self.admin("GET", "/subscribers").json()

    def edit(self, key: str, **changes: Any) -> dict:
        return self.admin("PATCH", f"/subscribers/{key}", json=changes).json()

    def add_product(self, **product: str) -> None:
        self.admin("POST", "/products", json=product)

    def requests_seen(self) -> list[dict]:
        return self.admin("GET", "/requests").json()

    def writes_seen(self) -> list[dict]:
        return [r for r in self.requests_seen() if r["method"] not in ("GET", "HEAD")]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.session.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_sandbox(
    kind: str, directory: Path, *, token: str | None = None, port: int = 0, extra: tuple[str, ...] = ()
) -> RunningSandbox:
    if token is None:  # one secret per credential the kind declares ("client id:client secret")
        fields = KINDS[kind].credentials
        token = KINDS[kind].pack_credentials({f.name: f"{f.name[:3]}-" + secrets.token_urlsafe(18) for f in fields})
    log_path = directory / f"sandbox-{kind}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        # --token=T: a generated token may start with "-", which argparse would take for an option
        [sys.executable, "-m", f"sandbox.{kind}", "--port", str(port), f"--token={token}", *extra],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        first_line = log_path.read_text(errors="replace").partition("\n")
        if first_line[1] and "http://" in first_line[0]:
            url = first_line[0][first_line[0].index("http://") :].strip()
            return RunningSandbox(kind, url, token, process, log_path)
        if process.poll() is not None:
            raise RuntimeError(f"sandbox {kind} exited: {log_path.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"sandbox {kind} did not start: {log_path.read_text()}")
