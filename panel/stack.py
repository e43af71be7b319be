"""`make run`: the whole development stack in one terminal.

Starts the embedded Redis (unless REDIS_URL is set) and owns it, so the web, worker and
scheduler processes share one server; migrates the database; seeds the demo data; then runs the
Procfile with honcho and prints the URL and the demo logins once the panel answers. Ctrl-C stops
everything, Redis included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from panel import PROJECT_ROOT
from panel.cli import DEMO_USERS
from panel.embedded_redis import EmbeddedRedis

BIN = Path(sys.executable).parent


def _run(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=PROJECT_ROOT, env=env, check=True)


def _announce_when_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    else:
        return
    logins = "\n".join(f"    {username:<9} senha: {password:<18}({role.label})" for username, _, role, password in DEMO_USERS)
    print(
        f"\n{'=' * 64}\n  Painel SVA rodando em {url}\n  Logins de demonstração:\n{logins}\n"
        f"  Fila de tarefas (admin): {url}/rq/\n  Ctrl-C encerra tudo.\n{'=' * 64}\n",
        flush=True,
    )


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PANEL_HOST", "127.0.0.1")
    env.setdefault("PANEL_PORT", "5000")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    instance = Path(env.get("PANEL_INSTANCE_PATH") or PROJECT_ROOT / "instance")

    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis(instance)
        env["REDIS_URL"] = redis_server.ensure_running()
    try:
        _run(env, "db", "upgrade")
        _run(env, "seed-demo")
        honcho = subprocess.Popen([str(BIN / "honcho"), "start", "-f", "Procfile"], cwd=PROJECT_ROOT, env=env)
        url = f"http://{env['PANEL_HOST']}:{env['PANEL_PORT']}"
        threading.Thread(target=_announce_when_up, args=(url, honcho), daemon=True).start()
        # Ctrl-C reaches honcho too (same process group); on SIGTERM we pass it on ourselves.
        signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
        while True:
            try:
                return honcho.wait()
            except KeyboardInterrupt:
                continue  # honcho is shutting its processes down; wait for it
    finally:
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
