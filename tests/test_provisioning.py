"""The provisioning engine on real parts: the database, Redis, an RQ worker (in this process:
``run_jobs``) and the platform sandboxes over a real socket. What the platform holds is read
from the sandbox's own records, never from our database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import event

from panel.domain import operations
from panel.domain import provisioning as engine
from panel.domain.outbox import Delivery
from panel.extensions import db
from panel.jobs import circuit, dispatch, provisioning
from panel.jobs.relay import relay
from panel.models import Contract, Operation
from panel.models.types import utcnow
from tests.factories import CPFS
from tests.provisioning import SYSTEM, act, history, operation, platform_at, statuses, subscription


@pytest.fixture
def ittv(app, sandbox_for):
    return platform_at(app, sandbox_for("ittv"))


@pytest.fixture
def skeelo(app, sandbox_for):
    return platform_at(app, sandbox_for("skeelo"))


def customers(sandbox) -> list[dict]:
    return sandbox.records()


def act_and_run(app, run_jobs, contract_id: int, action: str) -> int | None:
    """The operator's action, then the worker until the queue is empty; returns the operation."""
    op_id = act(app, contract_id, action)
    run_jobs()
    return op_id


def new_contract_of_the_same_client(app, contract_id: int) -> int:
    from panel.domain import contracts as contracts_domain

    with app.app_context():
        old = db.session.get(Contract, contract_id)
        return contracts_domain.create_contract(
            SYSTEM, old.client, plan_id=old.plan_id, start_date=utcnow().date(), due_day=10
        ).id


def refused_sync(app, setup, run_jobs) -> tuple[int, int]:
    """A contract whose Sincronizar ITTV refused (422): (contract id, operation id)."""
    contract_id = setup.contract(app)
    setup.sandbox.inject("error", status=422, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    run_jobs()
    return contract_id, op_id


def test_sync_creates_the_ittv_customer_with_the_seed_login_and_confirms_it(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    op_id = act(app, contract_id, "sync")
    queued = operation(app, op_id)
    assert queued.status == "queued"
    job = Queue("provisioning", connection=app.extensions["redis"]).jobs[0]
    # The job carries the operation's id and nothing else.
    assert job.id == f"op-{op_id}" and job.args == (op_id,) and job.kwargs == {}
    assert job.description == f"Operação {op_id}"

    assert run_jobs() == 1
    done = operation(app, op_id)
    assert done.status == "done" and done.attempts == 1 and "ITTV" in done.result
    [customer] = customers(ittv.sandbox)
    assert customer["cpf"] == CPFS[0] and customer["status"] == "ACTIVE"
    assert customer["username"] == "maria@example.com.br" and customer["password"] == CPFS[0]
    assert customer["product"] == "PLAYHUB-PREMIUM"
    sub = subscription(app, contract_id)
    assert sub.remote_status == "active" and sub.external_id == customer["_id"] and sub.confirmed_at is not None
    actor, asked, answer = history(app, contract_id)[-1]
    assert actor == "Sistema" and "criou o assinante" in answer


def test_integradores_actions_converge_the_ittv_customer(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    act_and_run(app, run_jobs, contract_id, "sync")
    act(app, contract_id, "partial_block")
    run_jobs()
    [customer] = customers(ittv.sandbox)
    assert (customer["status"], customer["product"]) == ("ACTIVE", "PLAYHUB-BASICO")
    assert subscription(app, contract_id).remote_status == "partial_block"
    act_and_run(app, run_jobs, contract_id, "block")
    assert customers(ittv.sandbox)[0]["status"] == "INACTIVE"
    act_and_run(app, run_jobs, contract_id, "unblock")
    [customer] = customers(ittv.sandbox)
    assert (customer["status"], customer["product"]) == ("ACTIVE", "PLAYHUB-PREMIUM")
    assert subscription(app, contract_id).remote_status == "active"


def test_skeelo_subscriber_follows_the_contract_to_its_cancellation(app, skeelo, run_jobs):
    contract_id = skeelo.contract(app, document="11222333000181", name="Empresa Ltda")
    act_and_run(app, run_jobs, contract_id, "sync")
    [record] = customers(skeelo.sandbox)
    sub = subscription(app, contract_id)
    assert record["external_id"] == sub.external_ref and record["status"] == "active"
    assert record["products"] == ["SKEELO-EBOOKS"]
    for action, expected in (
        ("block", "inactive"),
        ("unblock", "active"),
        ("suspend", "inactive"),
        ("reactivate", "active"),
        ("cancel", "cancelled"),
    ):
        act(app, contract_id, action)
        run_jobs()
        assert customers(skeelo.sandbox)[0]["status"] == expected, action
    assert set(statuses(app).values()) == {"done"}


def test_only_the_difference_is_sent(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    act_and_run(app, run_jobs, contract_id, "sync")
    ittv.sandbox.admin("DELETE", "/requests")
    act(app, contract_id, "sync")  # the platform already holds it
    run_jobs()
    assert ittv.sandbox.writes_seen() == []
    assert "nada enviado" in operation(app, max(statuses(app))).result


def test_no_personal_data_or_token_in_redis(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    act(app, contract_id, "sync")
    connection = app.extensions["redis"]
    dump = b""
    for key in connection.scan_iter():
        kind = connection.type(key)
        if kind == b"hash":
            dump += b"".join(k + v for k, v in connection.hgetall(key).items())
        elif kind == b"string":
            dump += connection.get(key)
        elif kind == b"list":
            dump += b"".join(connection.lrange(key, 0, -1))
    import zlib

    job = Queue("provisioning", connection=connection).jobs[0]
    payload = zlib.decompress(connection.hget(job.key, "data")) if job else b""
    for secret in (CPFS[0].encode(), b"maria@example.com.br", ittv.sandbox.token.encode(), b"Maria"):
        assert secret not in dump and secret not in payload


def test_the_same_job_delivered_twice_has_one_effect(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    op_id = act(app, contract_id, "sync")
    with app.app_context():
        # A second enqueue of the same operation is a no-op while the first is waiting...
        assert dispatch.send([Delivery(Operation, op_id, f"op-{op_id}")]) == 0
        assert Queue("provisioning", connection=app.extensions["redis"]).count == 1
    run_jobs()
    with app.app_context():
        # ...and a late second delivery finds it done and does nothing.
        assert provisioning.run_operation(op_id) is None
    assert len(customers(ittv.sandbox)) == 1
    assert [r["method"] for r in ittv.sandbox.writes_seen()].count("POST") == 1
    assert operation(app, op_id).attempts == 1


def test_two_workers_running_the_same_operation_at_once_create_one_customer(app, ittv):
    import threading

    contract_id = ittv.contract(app)
    op_id = act(app, contract_id, "sync")
    ittv.sandbox.inject("slow", delay=0.5, match="GET /alpha/reseller/customer")
    results = []

    def worker():
        with app.app_context():
            results.append(provisioning.run_operation(op_id))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == sorted(["done", None], key=str)
    assert len(customers(ittv.sandbox)) == 1


def test_block_then_unblock_queued_together_ends_unblocked(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    act_and_run(app, run_jobs, contract_id, "sync")
    block = act(app, contract_id, "block")
    unblock = act(app, contract_id, "unblock")
    run_jobs()
    assert customers(ittv.sandbox)[0]["status"] == "ACTIVE"
    assert operation(app, block).status == "done" and operation(app, unblock).status == "done"
    assert subscription(app, contract_id).remote_status == "active"


def test_an_operation_waits_for_the_running_one_of_its_subscriber(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    act_and_run(app, run_jobs, contract_id, "sync")
    first = act(app, contract_id, "block")
    with app.app_context():
        holder = engine.claim(first)  # a worker took the block and is talking to ITTV
        db.session.commit()
    second = act(app, contract_id, "unblock")
    with app.app_context():
        assert provisioning.run_operation(second) == "busy"
    waiting = operation(app, second)
    assert waiting.status == "queued" and waiting.attempts == 0 and waiting.deliveries == 1
    with app.app_context():
        # The first ends; the one waiting for it is handed on at once.
        assert engine.complete(holder, confirmed=holder.desired, external_id=None, answer="ok")
        db.session.commit()
    handed_on = operation(app, second)
    assert handed_on.status == "queued" and handed_on.deliveries == 2 and handed_on.next_attempt_at is None


def test_editing_the_clients_email_updates_the_ittv_login(app, ittv, run_jobs):
    from panel.domain import clients as clients_domain
    from panel.models import Client

    contract_id = ittv.contract(app)
    act_and_run(app, run_jobs, contract_id, "sync")
    with app.app_context():
        client = db.session.get(Contract, contract_id).client
        data = clients_domain.ClientData(
            kind=client.kind, name=client.name, document=CPFS[1], email="maria.nova@example.com.br"
        )
        clients_domain.update_client(SYSTEM, db.session.get(Client, client.id), data)
    assert run_jobs() == 1
    [customer] = customers(ittv.sandbox)
    assert customer["username"] == customer["email"] == "maria.nova@example.com.br"
    assert customer["password"] == CPFS[1]
    assert statuses(app) and set(statuses(app).values()) == {"done"}


def test_a_refusal_fails_at_once_with_the_platforms_message_and_tentar_novamente_succeeds(
    app, ittv, run_jobs, login_as, client
):
    contract_id, op_id = refused_sync(app, ittv, run_jobs)
    failed = operation(app, op_id)
    assert failed.status == "failed" and failed.attempts == 1 and failed.last_error
    assert subscription(app, contract_id).last_error == failed.last_error
    assert history(app, contract_id)[-1][2] == failed.last_error
    login_as("leitura")
    assert failed.last_error in client.get(f"/financeiro/painel-do-cliente/contratos/{contract_id}").get_data(
        as_text=True
    )

    with app.app_context():
        operations.retry(SYSTEM, db.session.get(Operation, op_id))
    run_jobs()
    assert operation(app, op_id).status == "done"
    assert len(customers(ittv.sandbox)) == 1


def test_a_retryable_failure_waits_and_goes_again(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("error", status=503, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    before = utcnow()
    run_jobs()
    waiting = operation(app, op_id)
    assert waiting.status == "queued" and waiting.attempts == 1 and waiting.deliveries == 1
    assert "503" in waiting.last_error
    base = app.config["PROVISIONING_RETRY_BASE"]
    assert before + timedelta(seconds=base * 0.8) <= waiting.next_attempt_at
    registry = ScheduledJobRegistry("provisioning", connection=app.extensions["redis"])
    assert registry.get_job_ids() == [f"op-{op_id}-1"]
    # A job that arrives early (the relay and the retry crossing) does not run before its time.
    with app.app_context():
        assert engine.claim(op_id) is None


def test_a_429_waits_at_least_its_retry_after(app, ittv, run_jobs):
    app.config["PROVISIONING_RETRY_BASE"] = 0.1
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("rate_limit", retry_after=7, match="GET /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    before = utcnow()
    run_jobs()
    waiting = operation(app, op_id)
    assert waiting.next_attempt_at >= before + timedelta(seconds=7)
    with app.app_context():
        assert circuit.open_until(ittv.platform_id) is None  # pacing is not an outage


def test_backoff_grows_is_capped_and_honours_retry_after(app):
    with app.app_context():
        app.config.update(PROVISIONING_RETRY_BASE=10.0, PROVISIONING_RETRY_MAX=1800.0)
        assert 8 <= engine.backoff(1) <= 12
        assert 32 <= engine.backoff(3) <= 48
        assert engine.backoff(20) <= 1800 * 1.2
        assert engine.backoff(1, retry_after=120) >= 120
        assert len({round(engine.backoff(2), 6) for _ in range(20)}) > 1  # jitter


def test_the_last_attempt_fails_visibly(app, ittv, run_jobs):
    app.config["PROVISIONING_MAX_ATTEMPTS"] = 1
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("error", status=500, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    run_jobs()
    failed = operation(app, op_id)
    assert failed.status == "failed" and "desistiu após 1 tentativas" in failed.last_error


def test_a_rolled_back_request_never_runs(app, ittv, run_jobs):
    contract_id = ittv.contract(app)

    def database_fails(session):
        raise RuntimeError("the database went away at commit")

    with app.app_context():
        event.listen(db.session, "before_commit", database_fails)
        try:
            with pytest.raises(RuntimeError):
                act(app, contract_id, "sync")
        finally:
            event.remove(db.session, "before_commit", database_fails)
    assert statuses(app) == {}
    assert run_jobs() == 0
    assert ittv.sandbox.requests_seen() == []


def test_after_redis_is_emptied_the_relay_sends_every_pending_operation_again(app, ittv, run_jobs):
    contracts = [ittv.contract(app, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:3])]
    ops = [act(app, contract_id, "sync") for contract_id in contracts]
    app.extensions["redis"].flushdb()
    assert run_jobs() == 0
    with app.app_context():
        db.session.execute(db.update(Operation).values(updated_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert relay() == {"lost": 0, "resent": 3}
        assert relay() == {"lost": 0, "resent": 0}  # on their way now: not sent twice
    assert run_jobs() == 3
    assert {operation(app, op).status for op in ops} == {"done"}
    assert len(customers(ittv.sandbox)) == 3


def test_a_run_whose_worker_died_goes_again_after_its_lease(app, ittv, run_jobs):
    app.config["PROVISIONING_LEASE"] = 0.2
    contract_id = ittv.contract(app)
    op_id = act(app, contract_id, "sync")
    with app.app_context():
        assert engine.claim(op_id) is not None  # ...and its worker died here
        db.session.commit()
        app.extensions["redis"].flushdb()
        time.sleep(0.3)
        assert relay()["lost"] == 1
    again = operation(app, op_id)
    assert again.status == "queued" and "O worker parou" in again.last_error
    app.config["PROVISIONING_LEASE"] = 180.0
    run_jobs()
    done = operation(app, op_id)
    assert done.status == "done" and done.attempts == 2


def test_a_lost_create_response_gives_one_subscriber(app, skeelo, run_jobs):
    contract_id = skeelo.contract(app, document="11222333000181", name="Empresa Ltda")
    skeelo.sandbox.inject("drop", match="POST /v1/subscribers")
    op_id = act(app, contract_id, "sync")
    run_jobs()
    assert operation(app, op_id).status == "queued"
    _due_now(app, op_id)
    run_jobs()
    assert operation(app, op_id).status == "done"
    assert len(customers(skeelo.sandbox)) == 1


def test_a_failing_platform_opens_its_circuit_and_waiting_costs_no_attempt(app, ittv, run_jobs):
    app.config.update(CIRCUIT_FAILURE_THRESHOLD=2, CIRCUIT_OPEN_SECONDS=60.0)
    contracts = [ittv.contract(app, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:3])]
    ittv.sandbox.inject("error", status=503, count=10)
    first, second, third = [act(app, contract_id, "sync") for contract_id in contracts]
    run_jobs()
    with app.app_context():
        state = circuit.circuit_state(ittv.platform_id, "ITTV")
        assert state is not None and state.failures == 2
        assert state.message.startswith("Chamadas à ITTV pausadas até ")
    assert operation(app, first).attempts == 1 and operation(app, second).attempts == 1
    paused = operation(app, third)
    assert paused.attempts == 0 and paused.status == "queued" and paused.next_attempt_at >= state.until


def test_the_platform_concurrency_limit_is_held_in_redis(app):
    def slot(platform_id, limit, holder, hold):
        return circuit.enter(platform_id, limit, holder, hold).slot

    with app.app_context():
        assert slot(99, 2, "op-1", 30)
        assert slot(99, 2, "op-2", 30)
        assert not slot(99, 2, "op-3", 30)
        assert slot(99, 2, "op-1", 30)  # the holder again
        circuit.release_slot(99, "op-1")
        assert slot(99, 2, "op-3", 30)
        # A holder that never releases (its worker was killed) loses the slot when its hold ends.
        assert slot(98, 1, "op-6", 0.05)
        assert not slot(98, 1, "op-7", 30)
        time.sleep(0.1)
        assert slot(98, 1, "op-7", 30)


def test_an_open_circuit_takes_no_slot_and_says_until_when(app):
    with app.app_context():
        entry = circuit.enter(97, 2, "op-1", 30)
        assert entry == circuit.Entry(paused_until=None, slot=True, failures_known=False)
        circuit.release_slot(97, "op-1")
        for _ in range(app.config["CIRCUIT_FAILURE_THRESHOLD"]):
            until = circuit.record_failure(97, "HTTP 503")
        entry = circuit.enter(97, 2, "op-2", 30)
        assert entry.paused_until == pytest.approx(until) and not entry.slot
        assert circuit.open_until(97) == pytest.approx(until)


def _due_now(app, op_id: int) -> None:
    """Bring a scheduled retry forward, as the worker's scheduler would once its time comes."""
    with app.app_context():
        op = db.session.get(Operation, op_id)
        op.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        connection = app.extensions["redis"]
        job = Job.fetch(op.job_id, connection=connection)
        ScheduledJobRegistry("provisioning", connection=connection).remove(job)
        Queue("provisioning", connection=connection).enqueue_job(job)


def test_a_retry_no_scheduler_moved_is_sent_again_by_the_relay(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    ittv.sandbox.inject("error", status=503, match="POST /alpha/reseller/customer")
    op_id = act(app, contract_id, "sync")
    run_jobs()  # the retry is scheduled in Redis, but no worker runs RQ's scheduler
    with app.app_context():
        db.session.execute(
            db.update(Operation).values(
                next_attempt_at=utcnow() - timedelta(minutes=2), updated_at=utcnow() - timedelta(minutes=2)
            )
        )
        db.session.commit()
        assert relay() == {"lost": 0, "resent": 1}
    run_jobs()
    done = operation(app, op_id)
    assert done.status == "done" and done.attempts == 2 and done.deliveries == 2


def _make_due(app, op_id: int) -> None:
    """A retry's time has come: its job (the scheduler's) is moved to the queue."""
    _due_now(app, op_id)


def test_a_late_cancellation_of_an_old_ittv_contract_leaves_the_new_contracts_customer_alone(app, ittv, run_jobs):
    old = ittv.contract(app)
    act_and_run(app, run_jobs, old, "sync")
    ittv.sandbox.inject("error", status=503, match="PUT /alpha/reseller/customer")
    cancel = act(app, old, "cancel")
    run_jobs()  # ITTV failed: the cancellation waits for its retry…
    assert operation(app, cancel).status == "queued"
    new = new_contract_of_the_same_client(app, old)
    act(app, new, "sync")  # …meanwhile the client's new contract takes over ITTV's customer (same CPF)
    run_jobs()  # (the waiting cancellation is handed on right after the sync: same customer)
    done = operation(app, cancel)
    assert done.status == "done" and f"agora atende o contrato {new}" in done.result
    assert customers(ittv.sandbox)[0]["status"] == "ACTIVE"
    assert subscription(app, new).remote_status == "active"


def test_tentar_novamente_is_refused_for_an_operation_a_newer_one_replaced(app, ittv, run_jobs):
    from panel.domain import DomainError

    contract_id, sync = refused_sync(app, ittv, run_jobs)
    assert operation(app, sync).status == "failed"
    act_and_run(app, run_jobs, contract_id, "cancel")
    with app.app_context(), pytest.raises(DomainError, match="mais recente"):
        operations.retry(SYSTEM, db.session.get(Operation, sync))
    assert operation(app, sync).status == "failed"


def test_a_new_contract_reusing_the_ittv_customer_brings_the_login_up_to_date(app, ittv, run_jobs):
    from panel.domain import clients as clients_domain

    old = ittv.contract(app)
    act_and_run(app, run_jobs, old, "sync")
    act(app, old, "cancel")
    run_jobs()
    with app.app_context():
        client = db.session.get(Contract, old).client
        clients_domain.update_client(
            SYSTEM,
            client,
            clients_domain.ClientData(
                kind=client.kind, name=client.name, document=client.document, email="maria.nova@example.com.br"
            ),
        )
    new = new_contract_of_the_same_client(app, old)
    act_and_run(app, run_jobs, new, "sync")
    [customer] = customers(ittv.sandbox)
    assert customer["status"] == "ACTIVE"
    assert customer["username"] == customer["email"] == "maria.nova@example.com.br"


def test_when_the_platform_is_back_what_waited_for_it_goes_at_once(app, ittv, run_jobs):
    app.config.update(CIRCUIT_FAILURE_THRESHOLD=2, CIRCUIT_OPEN_SECONDS=600.0, PROVISIONING_RETRY_BASE=600.0)
    contracts = [ittv.contract(app, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:3])]
    ittv.sandbox.inject("error", status=503, count=2)
    first, second, third = [act(app, contract_id, "sync") for contract_id in contracts]
    run_jobs()  # two failures open the circuit for 10 minutes; the third waits behind it
    with app.app_context():
        assert circuit.open_until(ittv.platform_id) is not None
        app.extensions["redis"].hset(circuit.CIRCUIT_KEY.format(platform_id=ittv.platform_id), "open_until", 0)
    _make_due(app, first)  # the first retry finds ITTV back…
    run_jobs()
    # …and the others, paused or backing off for minutes, went right after it.
    assert {operation(app, op).status for op in (first, second, third)} == {"done"}
    assert len(customers(ittv.sandbox)) == 3


def test_pages_offer_tentar_novamente_only_where_it_can_help_and_say_when_calls_are_paused(
    app, ittv, run_jobs, login_as, client
):
    contract_id, sync = refused_sync(app, ittv, run_jobs)
    login_as("operador")
    page = client.get("/integradores/operacoes").get_data(as_text=True)
    assert f"/integradores/operacoes/{sync}/tentar-novamente" in page
    cancel = act(app, contract_id, "cancel")  # a newer request replaces the failed sync
    run_jobs()
    page = client.get("/integradores/operacoes").get_data(as_text=True)
    assert f"/integradores/operacoes/{sync}/tentar-novamente" not in page and "substituída" in page
    assert operation(app, cancel).status == "done"

    other = ittv.contract(app, document=CPFS[1], email="joao@example.com.br")
    with app.app_context():
        for _ in range(app.config["CIRCUIT_FAILURE_THRESHOLD"]):
            circuit.record_failure(ittv.platform_id, "ITTV não respondeu (HTTP 503).")
    act(app, other, "sync")  # waits: the page says why
    html = client.get(f"/financeiro/painel-do-cliente/contratos/{other}").get_data(as_text=True)
    assert "Chamadas à ITTV demo pausadas até" in html and "Último erro: ITTV não respondeu (HTTP 503)" in html


def test_a_platform_address_no_longer_allowed_fails_visibly_without_a_call(app, ittv, run_jobs):
    contract_id = ittv.contract(app)
    app.config["PLATFORM_ALLOWED_HOSTS"] = ("api-resellers.ittv.com.br",)  # settings changed since it was saved
    op_id = act(app, contract_id, "sync")
    run_jobs()
    failed = operation(app, op_id)
    assert failed.status == "failed" and failed.attempts == 1 and failed.last_error
    assert ittv.sandbox.requests_seen() == []
    with app.app_context():
        assert circuit.circuit_state(ittv.platform_id) is None
