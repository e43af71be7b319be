"""`make run` (python -m panel.stack): the whole demo stack comes up, says where everything is
(again on demand), keeps the periodic jobs' routine out of the terminal, and goes away on
SIGTERM and on Ctrl-C (exit 0, make included)."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from panel.providers import ADAPTERS
from panel.stack import Watch
from tests.conftest import PROJECT_ROOT, csrf_token_from


def free_port_run(length: int) -> int:
    """The first of ``length`` consecutive free ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + length > 65535:
            continue
        try:
            holders = []
            for port in range(first, first + length):
                holder = socket.socket()
                holders.append(holder)
                holder.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for holder in holders:
                holder.close()
    raise RuntimeError("no run of free ports")


@pytest.mark.slow
def test_make_run_starts_the_panel_and_every_sandbox_and_prints_their_urls(tmp_path):
    panel_port, sandbox_port = free_port_run(1), free_port_run(len(ADAPTERS))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_URL", "TEST_DATABASE_URL")  # its own Redis and SQLite, as on a laptop
    }
    env.update(
        {
            "PANEL_PORT": str(panel_port),
            "SANDBOX_BASE_PORT": str(sandbox_port),
            "PANEL_INSTANCE_PATH": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
        }
    )
    output = tmp_path / "run.out"
    with output.open("wb") as sink:
        stack = subprocess.Popen(
            [sys.executable, "-m", "panel.stack"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C encerra tudo" not in output.read_text(errors="replace"):
            assert stack.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.5)
        text = output.read_text()
        sandboxes = []

        assert f"Painel SVA rodando em http://127.0.0.1:{panel_port}" in text
        assert requests.get(f"http://127.0.0.1:{panel_port}/login", timeout=10).status_code == 200
        # Query strings (searches carry CPFs and e-mails) stay out of the access log.
        requests.get(f"http://127.0.0.1:{panel_port}/login?q=52998224725", timeout=10).close()
        for index, adapter in enumerate(ADAPTERS):
            line = re.search(rf"{re.escape(adapter.label)}\s+(http://127\.0\.0\.1:(\d+))\s+[\w:]+: (\S+)", text)
            assert line, f"{adapter.label} missing from:\n{text}"
            url, port, token = line.group(1), int(line.group(2)), line.group(3)
            assert port == sandbox_port + index
            with adapter(url, token) as provider:
                assert provider.test_connection().product_count > 0
            sandboxes.append((adapter, url, token))
        # The demo's contracts go all the way: Sincronizar in the panel, the stack's worker creates
        # the subscriber at each sandbox.
        base = f"http://127.0.0.1:{panel_port}"
        with requests.Session() as browser:
            login = browser.get(f"{base}/login", timeout=10).text
            browser.post(
                f"{base}/login",
                timeout=10,
                data={
                    "username": "operador",
                    "password": "painel-operador",
                    "csrf_token": csrf_token_from(login),
                },
            ).raise_for_status()
            for contract_id in (1, 2, 3):  # one demo contract per platform
                url = f"{base}/financeiro/painel-do-cliente/contratos/{contract_id}"
                token = csrf_token_from(browser.get(url, timeout=10).text)
                browser.post(f"{url}/sincronizar", data={"csrf_token": token}, timeout=10).raise_for_status()
        for adapter, url, token in sandboxes:
            deadline = time.monotonic() + 30
            with adapter(url, token) as provider:
                while not list(provider.list_subscribers()):
                    assert time.monotonic() < deadline, (
                        f"{adapter.label}: no subscriber after Sincronizar\n{output.read_text()}"
                    )
                    time.sleep(0.5)
        deadline = time.monotonic() + 10
        while '"GET /login HTTP/1.1" 200' not in output.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)
        logged = output.read_text(errors="replace")
        assert '"GET /login HTTP/1.1" 200' in logged and "52998224725" not in logged
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=60)
    for port in [panel_port] + [sandbox_port + i for i in range(len(ADAPTERS))]:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after the stack stopped"


def test_make_run_says_which_port_is_taken_instead_of_failing_later(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "PANEL_PORT": str(free_port_run(1)),
            "SANDBOX_BASE_PORT": str(port),
            "PANEL_INSTANCE_PATH": str(tmp_path),
        }
        result = subprocess.run(
            [sys.executable, "-m", "panel.stack"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert f"Porta já em uso: {port}." in result.stderr
    assert "SANDBOX_BASE_PORT" in result.stderr


class Terminal:
    """A pseudo-terminal with `make run` in the foreground, as on a developer's screen."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        # setsid -c: a session of its own whose controlling terminal is the pty, so Ctrl-C
        # (\x03) is turned into SIGINT for the foreground process group by the terminal itself.
        self.process = subprocess.Popen(
            ["setsid", "-c", *command], cwd=PROJECT_ROOT, env=env, stdin=slave, stdout=slave, stderr=slave
        )
        os.close(slave)
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every process holding the pty is gone
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_until(self, condition, what: str, within: float = 150) -> None:
        deadline = time.monotonic() + within
        while not condition(self.text):
            assert self.process.poll() is None, self.text
            assert time.monotonic() < deadline, f"{what} never came:\n{self.text}"
            time.sleep(0.3)

    def wait_for(self, needle: str, count: int = 1) -> None:
        self.wait_until(lambda text: text.count(needle) >= count, f"{needle!r} (×{count})")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)


@pytest.mark.slow
def test_make_run_says_tudo_pronto_shows_the_banner_on_demand_and_ctrl_c_exits_0(tmp_path):
    panel_port, sandbox_port = free_port_run(1), free_port_run(len(ADAPTERS))
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {
            "PANEL_PORT": str(panel_port),
            "SANDBOX_BASE_PORT": str(sandbox_port),
            "PANEL_INSTANCE_PATH": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
            "TERM": "dumb",
        }
    )
    # The Makefile's own recipe, without its `install` prerequisite (the venv is there already).
    recipe = re.search(r"^run: install\n\t(.+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M).group(1)
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"BIN := {Path(sys.executable).parent}\nrun:\n\t{recipe}\n")
    terminal = Terminal(["make", "--no-print-directory", "-f", str(makefile), "run"], env)
    try:
        terminal.wait_for("Tudo pronto.")
        terminal.wait_until(lambda text: "=" * 64 in text.rsplit("Tudo pronto.", 1)[1], "the banner's last line")
        ready = terminal.text
        # The banner is the last block: after it, at most the access log of the stack's own probes.
        after = ready.rstrip().rsplit("=" * 64, 1)[1]
        assert [line for line in after.splitlines() if line.strip() and "_sandbox/health" not in line] == [], ready[
            -3000:
        ]
        assert f"Painel SVA rodando em http://127.0.0.1:{panel_port}" in ready
        assert "senha: painel-admin" in ready
        # The periodic jobs' comings and goings are DEBUG, out of the terminal.
        for routine in ("panel.jobs.maintenance.heartbeat()", "panel.jobs.relay.relay()", "Enqueued job heartbeat"):
            assert routine not in ready, routine

        terminal.type(b"\n")  # Enter: the banner again
        terminal.wait_for("Painel SVA rodando em", count=2)
        stack_pid = int(re.search(r"kill -USR1 (\d+)", ready).group(1))
        os.kill(stack_pid, signal.SIGUSR1)
        terminal.wait_for("Painel SVA rodando em", count=3)

        terminal.type(b"\x03")  # Ctrl-C
        assert terminal.process.wait(timeout=60) == 0, terminal.text[-3000:]
    finally:
        if terminal.process.poll() is None:
            os.killpg(terminal.process.pid, signal.SIGTERM)
            terminal.process.wait(timeout=60)
    terminal.reader.join(timeout=10)
    text = terminal.text
    assert "Traceback" not in text, text[-5000:]
    assert "Error 130" not in text and "make: ***" not in text, text[-2000:]
    for port in [panel_port] + [sandbox_port + i for i in range(len(ADAPTERS))]:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after Ctrl-C"


def test_make_run_warns_when_the_panel_the_worker_or_the_scheduler_is_missing(app, redis_url):
    """What the stack's watch says (as WARNING lines) when nothing answers: no panel on its port,
    no worker and no scheduler registered in Redis (the app fixture emptied it)."""
    url = f"http://127.0.0.1:{free_port_run(1)}"
    problems = Watch(url, [], redis_url, worker_ttl=60).problems()
    assert problems == [
        f"o painel não responde em {url}",
        "nenhum worker está rodando: os pedidos às plataformas ficam pendentes",
        "o agendador (rq cron) está parado: heartbeat, relay, régua e conciliação não rodam",
    ]
