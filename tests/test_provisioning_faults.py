"""J3 — when things go wrong, nothing is lost and everything is visible. Each fault on the real
parts: `flask worker` processes (RQ's forking worker, with its scheduler for delayed retries),
`flask scheduler` running the relay under rq cron, the database, Redis and the sandboxes."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time

import pytest

from panel.jobs import circuit
from tests.factories import CPFS
from tests.processes import start_flask, stop, wait_until
from tests.provisioning import act, operation, platform_at, statuses, subscription

# Short waits so the faults play out in seconds: retries from 0.3 s, leases of 4 s, a relay
# every second, a circuit that opens after 3 failures for a second.
FAST = {
    "PROVISIONING_RETRY_BASE": 0.3,
    "PROVISIONING_RETRY_MAX": 2.0,
    "PROVISIONING_MAX_ATTEMPTS": 6,
    "PROVISIONING_LEASE": 4.0,
    "RELAY_INTERVAL": 1,
    "CIRCUIT_FAILURE_THRESHOLD": 3,
    "CIRCUIT_OPEN_SECONDS": 1.0,
    "CIRCUIT_MAX_OPEN_SECONDS": 2.0,
}


@pytest.fixture
def fast_env(app, panel_env):
    """The same settings for the processes (environment) and this test's app (config)."""
    app.config.update(FAST)
    return {**panel_env, **{key: str(value) for key, value in FAST.items()}}


@pytest.fixture
def processes(fast_env):
    """start("worker") / start("scheduler"): real processes, stopped after the test."""
    started = []

    def start(*args: str):
        process = start_flask(fast_env, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        output = stop(process)
        print(f"--- {' '.join(process.args[1:])} (pid {process.pid}) ---\n{output[-4000:]}")  # shown if the test failed


def kill_hard(process) -> None:
    """SIGKILL a worker and everything it forked (RQ's work horse runs in a session of its own,
    so killing the process group would spare it): the machine is lost mid-job."""

    def children(pid: int) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                            found.append(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
        return found

    doomed, pending = [], [process.pid]
    while pending:
        pid = pending.pop()
        doomed.append(pid)
        pending.extend(children(pid))
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def report(app) -> str:
    """Where every operation stands, and its job in Redis: the message of a wait that timed out."""
    from panel.extensions import db
    from panel.jobs.dispatch import job_statuses
    from panel.models import Operation

    with app.app_context():
        ops = list(db.session.scalars(db.select(Operation).order_by(Operation.id)))
        jobs = job_statuses([op.job_id for op in ops], app.extensions["redis"])
        return "\n".join(
            f"op {op.id} {op.kind} {op.status} attempts={op.attempts} deliveries={op.deliveries} "
            f"next={op.next_attempt_at} lease={op.lease_until} job={jobs[op.job_id]} error={op.last_error}"
            for op in ops
        )


def wait_for_all(app, op_ids, timeout: float, what: str) -> None:
    try:
        wait_until(lambda: finished(app, *op_ids), timeout=timeout, message=what)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{report(app)}") from None


def finished(app, *op_ids: int) -> bool:
    return all(operation(app, op_id).status in ("done", "failed") for op_id in op_ids)


def contracts_for(app, setup, count: int) -> list[int]:
    return [setup.contract(app, document=cpf, email=f"cliente{i}@example.com.br") for i, cpf in enumerate(CPFS[:count])]


def test_three_500s_then_ok_retry_by_themselves_and_show_their_attempts(app, sandbox_for, processes):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("error", status=500, count=3, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    processes("worker")
    wait_until(lambda: finished(app, op_id), timeout=60, message="the sync to finish")
    done = operation(app, op_id)
    assert done.status == "done" and done.attempts == 4
    assert len(ittv.sandbox.records()) == 1


def test_a_429_is_retried_no_sooner_than_its_retry_after(app, sandbox_for, processes):
    skeelo = platform_at(app, sandbox_for("skeelo"))
    contract_id = skeelo.contract(app, document="11222333000181", name="Empresa Ltda")
    skeelo.sandbox.inject("rate_limit", retry_after=2, match="POST /v1/subscribers")
    op_id = act(app, contract_id, "sync")
    processes("worker")
    wait_until(lambda: finished(app, op_id), timeout=60, message="the sync to finish")
    assert operation(app, op_id).status == "done"
    posts = [r for r in skeelo.sandbox.requests_seen() if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [429, 201]
    assert posts[1]["at"] - posts[0]["at"] >= 2.0


def test_a_4xx_fails_visibly_with_the_platforms_message(app, sandbox_for, processes, login_as, client):
    skeelo = platform_at(app, sandbox_for("skeelo"))
    contract_id = skeelo.contract(app, document="11222333000181", name="Empresa Ltda")
    skeelo.sandbox.inject("error", status=422, match="POST /v1/subscribers")
    op_id = act(app, contract_id, "sync")
    processes("worker")
    wait_until(lambda: finished(app, op_id), timeout=60, message="the sync to fail")
    failed = operation(app, op_id)
    assert failed.status == "failed" and failed.attempts == 1 and "422" in failed.last_error
    login_as("leitura")
    assert failed.last_error in client.get(f"/financeiro/painel-do-cliente/contratos/{contract_id}").get_data(
        as_text=True
    )


def test_redis_emptied_then_the_relay_under_rq_cron_restores_every_pending_operation(app, sandbox_for, processes):
    ittv = platform_at(app, sandbox_for("ittv"))
    ops = [act(app, contract_id, "sync") for contract_id in contracts_for(app, ittv, 4)]
    app.extensions["redis"].flushdb()
    processes("worker")
    processes("scheduler")
    wait_for_all(app, ops, timeout=90, what="every operation to finish after the flush")
    assert {operation(app, op_id).status for op_id in ops} == {"done"}
    assert len(ittv.sandbox.records()) == 4


def test_worker_killed_mid_job_ends_done_after_the_lease(app, sandbox_for, processes):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = ittv.contract(app)
    first = processes("worker")
    op_id = act(app, contract_id, "sync")
    wait_until(lambda: finished(app, op_id), timeout=60, message="the sync")
    # The block's status change hangs at ITTV; the worker dies meanwhile (machine lost).
    ittv.sandbox.inject("slow", delay=3, match="PUT /alpha/reseller/customer")
    block = act(app, contract_id, "block")
    wait_until(lambda: operation(app, block).status == "running", timeout=30, message="the block to start")
    kill_hard(first)
    assert operation(app, block).status == "running"  # nobody knows yet
    processes("worker")
    processes("scheduler")
    wait_until(lambda: finished(app, block), timeout=90, message="the lost block to be taken up again")
    done = operation(app, block)
    assert done.status == "done" and done.attempts == 2
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "INACTIVE"
    assert subscription(app, contract_id).remote_status == "blocked"


def test_a_platform_down_for_a_while_opens_its_circuit_and_everything_completes_once_back(app, sandbox_for, processes):
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts = contracts_for(app, ittv, 5)
    # Five failures in a row open the circuit (threshold 3) and can never exhaust one operation's
    # six attempts, however the retries and the circuit's probes interleave on a loaded machine.
    ittv.sandbox.inject("error", status=503, count=5)
    ops = [act(app, contract_id, "sync") for contract_id in contracts]
    processes("worker")
    with app.app_context():
        wait_until(lambda: circuit.circuit_state(ittv.platform_id, "ITTV"), timeout=30, message="the circuit to open")
    wait_for_all(app, ops, timeout=120, what="every operation to finish once ITTV is back")
    assert {operation(app, op_id).status for op_id in ops} == {"done"}
    records = ittv.sandbox.records()
    assert sorted(r["cpf"] for r in records) == sorted(CPFS[:5])  # one customer per CPF: none duplicated


def test_block_then_unblock_queued_fast_ends_unblocked(app, sandbox_for, processes):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = ittv.contract(app)
    sync = act(app, contract_id, "sync")
    processes("worker")
    processes("worker")
    wait_until(lambda: finished(app, sync), timeout=60, message="the sync")
    block = act(app, contract_id, "block")
    unblock = act(app, contract_id, "unblock")
    wait_until(lambda: finished(app, block, unblock), timeout=60, message="block and unblock")
    assert operation(app, block).status == operation(app, unblock).status == "done"
    [customer] = ittv.sandbox.records()
    assert (customer["status"], customer["product"]) == ("ACTIVE", "PLAYHUB-PREMIUM")


def test_nothing_ever_silently_disappears(app, sandbox_for, processes):
    """Many requests under mixed faults, a worker killed on the way and Redis emptied once:
    every operation ends done or failed, and the platform matches each contract."""
    rng = random.Random(7)
    skeelo = platform_at(app, sandbox_for("skeelo"))
    documents = ["11222333000181", "11444777000161"]
    contracts = [
        skeelo.contract(app, document=doc, name=f"Empresa {i}", email=f"e{i}@example.com.br")
        for i, doc in enumerate(documents)
    ]
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts += contracts_for(app, ittv, 4)
    for sandbox in (skeelo.sandbox, ittv.sandbox):
        for kind, spec in (
            ("error", {"status": 500, "count": 3}),
            ("drop", {"count": 2}),
            ("rate_limit", {"retry_after": 1, "count": 2}),
            ("timeout", {"delay": 0.5, "count": 1}),
        ):
            sandbox.inject(kind, **spec)
    ops = [act(app, contract_id, "sync") for contract_id in contracts]
    worker = processes("worker")
    processes("worker")
    time.sleep(1.5)
    kill_hard(worker)
    app.extensions["redis"].flushdb()
    processes("scheduler")
    for contract_id in rng.sample(contracts, 3):
        ops.append(act(app, contract_id, "block"))
    wait_for_all(app, ops, timeout=150, what="every operation to end")
    assert set(statuses(app).values()) <= {"done", "failed"}
    assert set(statuses(app).values()) == {"done"}
    assert len(skeelo.sandbox.records()) == 2 and len(ittv.sandbox.records()) == 4
    for contract_id in contracts:
        sub = subscription(app, contract_id)
        assert sub.remote_status == sub.desired_status


def test_a_connection_check_whose_worker_died_ends_done_after_the_relay(app, sandbox_for, processes, login_as, client):
    """One outbox: a *Testar conexão* is sent again by the relay like an operation."""
    from panel.domain.platform_checks import request_task
    from panel.extensions import db
    from panel.models import Platform, PlatformTask, TaskKind
    from tests.provisioning import SYSTEM

    ittv = platform_at(app, sandbox_for("ittv"))
    ittv.sandbox.inject("slow", delay=3, match="GET /alpha/reseller/product")
    first = processes("worker")
    with app.app_context():
        task_id = request_task(SYSTEM, db.session.get(Platform, ittv.platform_id), TaskKind.test_connection).id

    def task() -> PlatformTask:
        with app.app_context():
            found = db.session.get(PlatformTask, task_id)
            db.session.expunge(found)
            return found

    wait_until(lambda: task().status == "running", timeout=30, message="the check to start")
    kill_hard(first)  # the machine is lost while ITTV answers
    assert task().status == "running"  # nobody knows yet
    processes("worker")
    processes("scheduler")
    wait_until(lambda: task().status in ("done", "failed"), timeout=60, message="the lost check to end")
    done = task()
    assert done.status == "done" and done.attempts == 2 and done.message.startswith("Conexão OK")
    login_as("leitura")
    page = client.get(f"/configuracoes/plataformas/{ittv.platform_id}").get_data(as_text=True)
    assert "Conexão OK" in page
