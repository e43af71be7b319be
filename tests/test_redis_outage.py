"""Redis goes away and comes back; a work horse dies under its worker. `flask worker` and
`flask scheduler` run as real processes against a real redis-server of this test's own, which the
test stops and starts (the shared Redis of the other tests is never touched)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import redis
from rq import Queue

from panel.embedded_redis import find_redis_server
from panel.jobs.health import live_workers, machinery_status
from tests.processes import start_flask, stop, wait_until
from tests.provisioning import act, operation, platform_at, subscription
from tests.test_provisioning_faults import FAST, contracts_for, kill_hard, wait_for_all

WORKER_TTL = 20  # an idle worker beats every 5 s; one silent for 20 s is dead to the banner


class PrivateRedis:
    """A redis-server on a unix socket under the test's directory. ``persistent`` keeps its data
    across a restart (an append-only file), as a production Redis would; without it a restart
    comes back empty, like a FLUSHALL."""

    def __init__(self, directory, *, persistent: bool) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [
                find_redis_server(),
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory),
                "--save",
                "",
                *aof,
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5)
        try:
            wait_until(lambda: _pings(client), timeout=10, message="redis-server to answer")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def outage(request, app, make_app, panel_env, tmp_path):
    """An app and `flask` processes on a private Redis the test can stop: ``outage.start("worker")``,
    ``outage.redis.stop()`` / ``.start()``. Settings: FAST (short retries, leases, a relay every
    second) unless the test says otherwise with ``@pytest.mark.parametrize("settings", [...])``."""
    settings = {**FAST, "WORKER_TTL": WORKER_TTL, **getattr(request, "param", {})}
    server = PrivateRedis(tmp_path, persistent=getattr(request, "param", {}).get("persistent", False))
    server.start()
    settings.pop("persistent", None)
    private = make_app(REDIS_URL=server.url, **settings)
    env = {**panel_env, "REDIS_URL": server.url, **{key: str(value) for key, value in settings.items()}}
    started: list[subprocess.Popen] = []

    class Outage:
        app = private
        redis = server
        connection = private.extensions["redis"]

        @staticmethod
        def start(*args: str) -> subprocess.Popen:
            process = start_flask(env, *args)
            started.append(process)
            return process

        @staticmethod
        def outputs() -> dict[int, str]:
            return {process.pid: stop(process) for process in started}

    yield Outage
    for process in started:
        output = stop(process)
        print(f"--- {' '.join(process.args[1:])} (pid {process.pid}) ---\n{output[-30000:]}")
    server.stop()


def _status(outage):
    return machinery_status(outage.connection, WORKER_TTL)


def test_worker_and_scheduler_ride_out_a_redis_outage_and_send_what_waited(outage, sandbox_for):
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts = contracts_for(app, ittv, 3)
    worker, scheduler = outage.start("worker"), outage.start("scheduler")
    first = act(app, contracts[0], "sync")
    wait_for_all(app, [first], timeout=60, what="the first sync")

    outage.redis.stop()  # a Redis without persistence: it comes back empty
    time.sleep(3)  # the scheduler's next tick and the idle worker both meet the dead Redis
    during = [act(app, contract_id, "sync") for contract_id in contracts[1:]]
    assert {operation(app, op_id).status for op_id in during} == {"pending"}  # recorded, not lost
    time.sleep(10)
    assert worker.poll() is None and scheduler.poll() is None  # still there, waiting
    outage.redis.start()

    wait_for_all(app, during, timeout=60, what="what was asked during the outage (the relay, under rq cron)")
    assert {operation(app, op_id).status for op_id in during} == {"done"}
    assert len(ittv.sandbox.records()) == 3
    wait_until(
        lambda: _status(outage).workers == 1 and _status(outage).schedulers == 1,
        timeout=30,
        message="the worker and the scheduler to register again",
    )
    assert not _status(outage).problems
    after = act(app, contracts[0], "block")  # the fast path works again
    wait_for_all(app, [after], timeout=30, what="a block after the outage")
    assert subscription(app, contracts[0]).remote_status == "blocked"

    logs = outage.outputs()
    for process in (worker, scheduler):
        # One WARNING for the outage, not one per retry, and no traceback.
        assert logs[process.pid].count("Redis does not answer") == 1, logs[process.pid]
        assert "Traceback" not in logs[process.pid]


def test_a_worker_that_loses_redis_in_the_middle_of_a_job_comes_back_and_nothing_doubles(outage, sandbox_for):
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id, other = contracts_for(app, ittv, 2)
    worker = outage.start("worker")
    outage.start("scheduler")
    ittv.sandbox.inject("slow", delay=4, match="POST /alpha/reseller/customer")
    sync = act(app, contract_id, "sync")
    wait_until(lambda: operation(app, sync).status == "running", timeout=30, message="the sync to start")

    outage.redis.stop()  # while the platform is still answering the job
    time.sleep(6)
    outage.redis.start()

    wait_for_all(app, [sync], timeout=60, what="the sync caught by the outage")
    assert operation(app, sync).status == "done"
    assert len(ittv.sandbox.records()) == 1
    assert len([r for r in ittv.sandbox.writes_seen() if r["method"] == "POST"]) == 1  # created once
    assert worker.poll() is None  # its supervisor started the RQ worker again
    wait_until(lambda: _status(outage).workers == 1, timeout=30, message="the worker to register again")
    later = act(app, other, "sync")
    wait_for_all(app, [later], timeout=30, what="a sync after the outage")
    assert operation(app, later).status == "done"


@pytest.mark.parametrize(
    "outage", [{"persistent": True, "RELAY_INTERVAL": 600, "PROVISIONING_RETRY_BASE": 1.0}], indirect=True
)
def test_after_a_redis_blip_a_backoff_retry_runs_on_time(outage, sandbox_for):
    """RQ's scheduler process (the worker's, which moves delayed retries to the queue) dies with
    Redis; the worker starts it again, so a retry does not wait for the relay (here: 10 min)."""
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id, other = contracts_for(app, ittv, 2)
    outage.start("worker")
    outage.start("scheduler")
    first = act(app, contract_id, "sync")
    wait_for_all(app, [first], timeout=60, what="the first sync")

    outage.redis.stop()
    time.sleep(3)  # the scheduler process ticks every second: it meets the dead Redis
    outage.redis.start()  # with its data: a blip
    time.sleep(2)

    ittv.sandbox.inject("error", status=500, count=1, match="POST /alpha/reseller/customer")
    retried = act(app, other, "sync")
    wait_for_all(app, [retried], timeout=25, what="the retry, moved to the queue by RQ's scheduler")
    done = operation(app, retried)
    assert done.status == "done" and done.attempts == 2


def test_the_banner_counts_live_workers_only_through_a_flush_and_a_kill(outage):
    worker = outage.start("worker")
    wait_until(lambda: live_workers(outage.connection, WORKER_TTL) == 1, timeout=30, message="the worker")
    outage.connection.flushdb()  # Redis loses the worker's registration
    assert live_workers(outage.connection, WORKER_TTL) == 0
    wait_until(
        lambda: live_workers(outage.connection, WORKER_TTL) == 1,
        timeout=WORKER_TTL + 10,
        message="the worker to register again after the flush",
    )

    kill_hard(worker)  # killed outright: it never says it died
    wait_until(
        lambda: live_workers(outage.connection, WORKER_TTL) == 0,
        timeout=WORKER_TTL + 15,
        message="the killed worker to stop counting",
    )
    assert any("nenhum worker rodando" in problem for problem in _status(outage).problems)


@pytest.mark.parametrize("outage", [{"PROVISIONING_LEASE": 120.0}], indirect=True)
def test_a_job_whose_worker_died_goes_again_at_once(outage, sandbox_for):
    """The RQ worker (the supervisor's child, which runs the jobs in its own process) is killed
    in the middle of a call: its supervisor hands the operation back at once and starts a new
    worker, long before the 120 s lease would let the relay see it."""
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    [contract_id] = contracts_for(app, ittv, 1)
    supervisor = outage.start("worker")
    sync = act(app, contract_id, "sync")
    wait_for_all(app, [sync], timeout=60, what="the sync")

    ittv.sandbox.inject("slow", delay=3, match="PUT /alpha/reseller/customer")
    block = act(app, contract_id, "block")
    wait_until(lambda: operation(app, block).status == "running", timeout=30, message="the block to start")
    [worker] = _children(supervisor.pid)
    os.kill(worker, signal.SIGKILL)

    wait_for_all(app, [block], timeout=30, what="the block whose worker died")
    done = operation(app, block)
    assert done.status == "done" and done.attempts == 2
    assert "parou inesperadamente" in done.last_error  # handed back, not found by the relay
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "INACTIVE"
    assert supervisor.poll() is None and _children(supervisor.pid) != [worker]


@pytest.mark.parametrize("outage", [{"PROVISIONING_LEASE": 120.0, "WORKER_MAX_JOBS": 2}], indirect=True)
def test_a_worker_starts_afresh_after_its_share_of_jobs_and_nothing_waits(outage, sandbox_for):
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts = contracts_for(app, ittv, 4)
    supervisor = outage.start("worker")
    ops = [act(app, contract_id, "sync") for contract_id in contracts]
    wait_for_all(app, ops, timeout=60, what="four syncs through workers of two jobs each")
    assert {operation(app, op_id).status for op_id in ops} == {"done"}
    assert supervisor.poll() is None
    logs = outage.outputs()[supervisor.pid]
    assert logs.count("started with PID") >= 2 and "stopped unexpectedly" not in logs


def _children(pid: int) -> list[int]:
    return [child for child in _descendants(pid) if _parent(child) == pid]


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
                        pending.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def stuck_in_c(seconds: float) -> None:
    """A job stuck where RQ's SIGALRM cannot reach it, as a call blocked in C code would be."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)


@pytest.mark.parametrize("outage", [{"WORKER_WATCHDOG_GRACE": 2.0}], indirect=True)
def test_a_job_stuck_past_its_timeout_ends_its_worker_and_a_fresh_one_goes_on(outage, sandbox_for):
    app = outage.app
    ittv = platform_at(app, sandbox_for("ittv"))
    [contract_id] = contracts_for(app, ittv, 1)
    supervisor = outage.start("worker")
    wait_until(lambda: live_workers(outage.connection, WORKER_TTL) == 1, timeout=30, message="the worker")
    [stuck_worker] = _children(supervisor.pid)

    Queue("default", connection=outage.connection).enqueue(stuck_in_c, 600, job_timeout=1)
    wait_until(lambda: _children(supervisor.pid) not in ([], [stuck_worker]), timeout=30, message="a fresh worker")
    sync = act(app, contract_id, "sync")
    wait_for_all(app, [sync], timeout=60, what="the sync, on the fresh worker")
    assert operation(app, sync).status == "done"
    logs = outage.outputs()[supervisor.pid]
    assert "a job outlived its timeout by 2 s: ending the worker" in logs
    assert "stopped unexpectedly (exit code 70)" in logs
