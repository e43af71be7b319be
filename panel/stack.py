"""`make run`: the whole development stack in one terminal.

Starts the embedded Redis (unless REDIS_URL is set) and owns it, so the web, worker and
scheduler processes share one server; migrates the database; seeds the demo data; then runs the
Procfile with honcho, plus one sandbox per registered platform adapter, and prints the URLs and
the demo logins once everything answers. Ctrl-C stops everything, Redis included.

Sandboxes listen on 127.0.0.1 from SANDBOX_BASE_PORT (5101) in the order of
``panel.providers.ADAPTERS``, each with a token of its own generated once under ``instance/``,
and keep their state in ``instance/sandbox-<kind>.json`` across restarts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from panel import PROJECT_ROOT
from panel.demo import DEMO_USERS, DemoSandbox, demo_sandboxes
from panel.embedded_redis import EmbeddedRedis

BIN = Path(sys.executable).parent


def _run(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=PROJECT_ROOT, env=env, check=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _announce_when_up(url: str, sandboxes: list[DemoSandbox], process: subprocess.Popen) -> None:
    probes = [url + "/login"] + [sandbox.url + "/_sandbox/health" for sandbox in sandboxes]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if all(_answers(probe) for probe in probes):
            break
        time.sleep(0.5)
    else:
        return
    platforms = "\n".join(
        f"    {sandbox.label:<12} {sandbox.url}  {sandbox.credentials_label}: {sandbox.token}" for sandbox in sandboxes
    )
    logins = "\n".join(
        f"    {username:<9} senha: {password:<18}({role.label})" for username, _, role, password in DEMO_USERS
    )
    print(
        f"\n{'=' * 64}\n  Painel SVA rodando em {url}\n  Logins de demonstração:\n{logins}\n"
        f"  Fila de tarefas (admin): {url}/rq/\n"
        f"  Plataformas de demonstração (sandboxes):\n{platforms}\n  Ctrl-C encerra tudo.\n{'=' * 64}\n",
        flush=True,
    )


def _write_procfile(instance: Path, sandboxes: list[DemoSandbox]) -> Path:
    """The project's Procfile plus a line per sandbox, so a new platform needs no edit here."""
    instance.mkdir(parents=True, exist_ok=True)
    procfile = instance / "Procfile.run"
    base = (PROJECT_ROOT / "Procfile").read_text().rstrip("\n")
    procfile.write_text(base + "\n" + "\n".join(sandbox.procfile_line() for sandbox in sandboxes) + "\n")
    return procfile


def _busy_ports(host: str, ports: list[int]) -> list[int]:
    busy = []
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy.append(port)
    return busy


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PANEL_HOST", "127.0.0.1")
    env.setdefault("PANEL_PORT", "5000")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    instance = Path(env.get("PANEL_INSTANCE_PATH") or PROJECT_ROOT / "instance")
    sandboxes = demo_sandboxes(instance, env)
    busy = _busy_ports(env["PANEL_HOST"], [int(env["PANEL_PORT"])]) + _busy_ports(
        "127.0.0.1", [sandbox.port for sandbox in sandboxes]
    )
    if busy:
        print(
            f"Porta(s) já em uso: {', '.join(map(str, busy))}. Escolha outras com PANEL_PORT=… "
            "(painel) e SANDBOX_BASE_PORT=… (sandboxes), ou pare o que está usando essas portas.",
            file=sys.stderr,
        )
        return 1

    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis(instance)
        env["REDIS_URL"] = redis_server.ensure_running()
    try:
        _run(env, "db", "upgrade")
        _run(env, "seed-demo")
        procfile = _write_procfile(instance, sandboxes)
        env.update({sandbox.token_variable: sandbox.token for sandbox in sandboxes})
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "-f", str(procfile), "-d", str(PROJECT_ROOT)], cwd=PROJECT_ROOT, env=env
        )
        url = f"http://{env['PANEL_HOST']}:{env['PANEL_PORT']}"
        threading.Thread(target=_announce_when_up, args=(url, sandboxes, honcho), daemon=True).start()
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
