"""`make run`: the whole development stack in one terminal.

Starts the embedded Redis (unless REDIS_URL is set) and owns it, so the web, worker and
scheduler processes share one server; migrates the database; seeds the demo data; then runs the
Procfile with honcho, plus one sandbox per registered platform adapter. Once everything answers
(panel, sandboxes, worker, scheduler) and the start's jobs are done, it prints the URLs and the
demo logins as the last block, *Tudo pronto*; Enter on the terminal or SIGUSR1 prints them again,
and a WARNING line says when something stops answering (see ``Watch``). The periodic jobs' routine
lines are DEBUG (panel.jobs.worker.RoutineLog; LOG_LEVEL=DEBUG shows them).

Ctrl-C stops everything, Redis included, and exits 0: the stack takes the terminal's foreground
(its own process group, with honcho), so `make` does not get the SIGINT and sees a clean exit.

Sandboxes listen on 127.0.0.1 from SANDBOX_BASE_PORT (5101) in the order of
``panel.providers.ADAPTERS``, each with a token of its own generated once under ``instance/``,
and keep their state in ``instance/sandbox-<kind>.json`` across restarts.
"""

from __future__ import annotations

import contextlib
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

from redis import Redis, RedisError
from rq import Queue

from panel import PROJECT_ROOT
from panel.demo import DEMO_USERS, DemoSandbox, demo_sandboxes
from panel.embedded_redis import EmbeddedRedis
from panel.formats import ngettext
from panel.jobs.health import HEARTBEAT_STALE_AFTER_S, machinery_status
from panel.jobs.queues import QUEUES

BIN = Path(sys.executable).parent
# Everything answers well within this on a laptop; past it, the banner comes with what does not.
READY_WITHIN_S = 120
# How often the stack looks again at what runs, to warn when something stops.
WATCH_EVERY_S = 15
# A pause before the banner, so that the last log lines are above it.
SETTLE_S = 1.0


def _run(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=PROJECT_ROOT, env=env, check=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _say(level: str, message: str) -> None:
    """A line of the stack's own, in honcho's layout."""
    print(f"{time.strftime('%H:%M:%S')} {'stack':<16} | {level} {message}", flush=True)


class Watch:
    """What the terminal shows about the stack: the banner (URL, logins, sandboxes) once
    everything answers — panel, sandboxes, worker, scheduler, and the start's jobs done — as the
    final block *Tudo pronto*; again on demand (Enter, SIGUSR1); and a WARNING when something
    stops answering (and a line when it is back)."""

    def __init__(self, url: str, sandboxes: list[DemoSandbox], redis_url: str, worker_ttl: float) -> None:
        self.url, self.sandboxes, self.worker_ttl = url, sandboxes, worker_ttl
        self.redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.asked = threading.Event()  # the banner, on demand
        self.stopped = threading.Event()

    def problems(self) -> list[str]:
        found = [] if _answers(self.url + "/login") else [f"o painel não responde em {self.url}"]
        found += [
            f"a sandbox {sandbox.label} não responde em {sandbox.url}"
            for sandbox in self.sandboxes
            if not _answers(sandbox.url + "/_sandbox/health")
        ]
        status = machinery_status(self.redis, self.worker_ttl)
        if not status.redis_ok:
            return [*found, "o Redis não responde: nada é enviado às plataformas"]
        if status.workers == 0:
            found.append("nenhum worker está rodando: os pedidos às plataformas ficam pendentes")
        if status.schedulers == 0:
            found.append("o agendador (rq cron) está parado: heartbeat, relay, régua e conciliação não rodam")
        if status.last_heartbeat_age_s is not None and status.last_heartbeat_age_s > HEARTBEAT_STALE_AFTER_S:
            found.append(
                f"o heartbeat não completa há {status.last_heartbeat_age_s:.0f} s: o worker pode estar travado "
                "ou o relay falhando"
            )
        return found

    def queued(self) -> int:
        try:
            return sum(Queue(spec.name, connection=self.redis).count for spec in QUEUES)
        except RedisError:
            return 0

    def banner(self, title: str) -> str:
        platforms = "\n".join(
            f"    {sandbox.label:<12} {sandbox.url}  {sandbox.credentials_label}: {sandbox.token}"
            for sandbox in self.sandboxes
        )
        logins = "\n".join(
            f"    {username:<9} senha: {password:<18}({role.label})" for username, _, role, password in DEMO_USERS
        )
        return (
            f"\n{'=' * 64}\n  {title}\n  Painel SVA rodando em {self.url}\n  Logins de demonstração:\n{logins}\n"
            f"  Fila de tarefas (admin): {self.url}/rq/\n"
            f"  Plataformas de demonstração (sandboxes):\n{platforms}\n"
            f"  Enter (ou kill -USR1 {os.getpid()}) mostra este quadro de novo. Ctrl-C encerra tudo.\n{'=' * 64}\n"
        )

    def run(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + READY_WITHIN_S
        while not self.stopped.is_set() and process.poll() is None:
            # Ready: everything answers, and the start's burst of jobs (the demo's operations,
            # the first ticks) is done, so the banner is the last thing on the screen.
            missing = self.problems()
            if not missing and self.queued() == 0:
                # The access-log lines of our own probes come through honcho a moment later.
                self.stopped.wait(SETTLE_S)
                print(self.banner("Tudo pronto."), flush=True)
                break
            if time.monotonic() > deadline:
                for problem in missing or ["as tarefas do início ainda não terminaram"]:
                    _say("WARNING", f"ainda não está tudo pronto: {problem}")
                print(self.banner("Nem tudo respondeu (veja os avisos acima)."), flush=True)
                break
            self.stopped.wait(0.5)
        shown: list[str] = []
        while not self.stopped.is_set() and process.poll() is None:
            asked = self.asked.wait(WATCH_EVERY_S)
            if self.stopped.is_set() or process.poll() is not None:
                return
            self.asked.clear()
            problems = self.problems()
            for problem in problems:
                if problem not in shown:
                    _say("WARNING", problem)
            if shown and not problems:
                _say("INFO", "tudo respondendo de novo")
            shown = problems
            if asked:
                title = "Tudo pronto." if not problems else "Atenção: " + "; ".join(problems) + "."
                print(self.banner(title), flush=True)

    def read_enter(self) -> None:
        """Enter on the terminal asks for the banner."""
        with contextlib.suppress(OSError, ValueError):
            for _ in sys.stdin:
                self.asked.set()


def _take_the_terminal() -> int | None:
    """Make the stack the terminal's foreground process group, so that Ctrl-C reaches the stack
    (and honcho, in its group) but not `make`: the stack stops everything and exits 0, and make
    sees a clean exit instead of dying of the SIGINT itself ("make: *** Error 130"). Returns the
    group to give the terminal back to, or None when stdin is not our terminal's foreground."""
    try:
        terminal = sys.stdin.fileno()
        if not os.isatty(terminal) or os.tcgetpgrp(terminal) != os.getpgrp():
            return None
    except (OSError, ValueError):
        return None
    previous = os.getpgrp()
    if previous == os.getpid():
        return None  # already a group of its own (a session leader, or started by a shell's job control)
    try:
        os.setpgid(0, 0)
        os.tcsetpgrp(terminal, os.getpgrp())  # SIGTTOU is ignored (see main)
    except OSError:
        return None
    return previous


def _in_the_foreground() -> bool:
    """Stdin is the terminal and the stack may read it (a background read would stop it)."""
    try:
        terminal = sys.stdin.fileno()
        return os.isatty(terminal) and os.tcgetpgrp(terminal) == os.getpgrp()
    except (OSError, ValueError):
        return False


def _give_the_terminal_back(previous: int | None) -> None:
    if previous is not None:
        with contextlib.suppress(OSError, ValueError):
            os.tcsetpgrp(sys.stdin.fileno(), previous)


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
        ports = ", ".join(map(str, busy))
        print(
            ngettext("Porta já em uso: %(ports)s.", "Portas já em uso: %(ports)s.", len(busy), ports=ports)
            + " Escolha outras com PANEL_PORT=… "
            "(painel) e SANDBOX_BASE_PORT=… (sandboxes), ou pare o que está usando essas portas.",
            file=sys.stderr,
        )
        return 1

    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis(instance)
        env["REDIS_URL"] = redis_server.ensure_running()
    # Ctrl-Z would stop the stack with make waiting on it, and a group that is not the terminal's
    # foreground may not hand the terminal back without SIGTTOU: both ignored (honcho inherits it).
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)  # a read from the background fails instead of stopping us
    terminal_owner = _take_the_terminal()
    foreground = _in_the_foreground()  # then a Ctrl-C reaches honcho (our process group) by itself
    honcho = None
    watch = None
    try:
        _run(env, "db", "upgrade")
        _run(env, "seed-demo")
        procfile = _write_procfile(instance, sandboxes)
        env.update({sandbox.token_variable: sandbox.token for sandbox in sandboxes})
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "-f", str(procfile), "-d", str(PROJECT_ROOT)], cwd=PROJECT_ROOT, env=env
        )
        url = f"http://{env['PANEL_HOST']}:{env['PANEL_PORT']}"
        watch = Watch(url, sandboxes, env["REDIS_URL"], float(env.get("WORKER_TTL") or 60))
        stopping = threading.Event()

        def stop(signum, _frame) -> None:
            stopping.set()
            watch.stopped.set()
            # Ctrl-C on our terminal reached honcho too; anything else we pass on.
            if signum != signal.SIGINT or not foreground:
                honcho.send_signal(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGUSR1, lambda *_: watch.asked.set())
        threading.Thread(target=watch.run, args=(honcho,), daemon=True).start()
        if foreground:
            threading.Thread(target=watch.read_enter, daemon=True).start()
        code = honcho.wait()
        return 0 if stopping.is_set() else code
    except KeyboardInterrupt:  # Ctrl-C before honcho started (migrating, seeding)
        return 0
    finally:
        if watch is not None:
            watch.stopped.set()
        if honcho is not None and honcho.poll() is None:
            honcho.terminate()
            honcho.wait()
        if redis_server is not None:
            redis_server.stop()
        _give_the_terminal_back(terminal_owner)


if __name__ == "__main__":
    sys.exit(main())
