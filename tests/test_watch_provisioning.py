"""Watch Brasil through the provisioning engine (real worker, real Redis, its sandbox): the token
is asked for once and shared by every job, a client's new e-mail moves the tickets (Watch's key),
and a cancelled contract's client is synced again with new tickets."""

from __future__ import annotations

import pytest

from panel.extensions import db
from panel.models import Contract
from tests.factories import CPFS
from tests.provisioning import SYSTEM, act, operation, platform_at


@pytest.fixture
def watch(app, sandbox_for, redis_url):
    import redis

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("painel:platform-token:*"):  # no token left by an earlier test
        connection.delete(key)
    return platform_at(app, sandbox_for("watch"))


def tickets(sandbox) -> list[tuple[str, str, bool]]:
    return sorted((str(t["IDPacote"]), t["Email"], t["Ativo"]) for t in sandbox.records())


def token_requests(sandbox) -> int:
    return sum(1 for r in sandbox.requests_seen() if r["path"] == "/oauth/token")


def run(app, run_jobs, contract_id: int, action: str) -> str:
    op_id = act(app, contract_id, action)
    run_jobs()
    done = operation(app, op_id)
    return done.status if done.status == "done" else f"{done.status}: {done.last_error}"


def test_jobs_share_one_token_and_block_every_ticket(app, watch, run_jobs):
    contract_id = watch.contract(app, email="ana@example.com.br")

    assert run(app, run_jobs, contract_id, "sync") == "done"
    assert tickets(watch.sandbox) == [("101", "ana@example.com.br", True), ("102", "ana@example.com.br", True)]
    assert run(app, run_jobs, contract_id, "block") == "done"
    assert [active for *_, active in tickets(watch.sandbox)] == [False, False]
    assert run(app, run_jobs, contract_id, "unblock") == "done"

    assert [active for *_, active in tickets(watch.sandbox)] == [True, True]
    assert token_requests(watch.sandbox) == 1  # three jobs (worker processes), one token from Redis


def test_a_new_email_moves_the_tickets(app, watch, run_jobs):
    from panel.domain import clients as clients_domain
    from panel.models import Client

    contract_id = watch.contract(app, email="ana@example.com.br")
    assert run(app, run_jobs, contract_id, "sync") == "done"
    assert run(app, run_jobs, contract_id, "block") == "done"
    with app.app_context():
        client = db.session.get(Contract, contract_id).client
        data = clients_domain.ClientData(
            kind=client.kind, name=client.name, document=client.document, email="ana.nova@example.com.br"
        )
        clients_domain.update_client(SYSTEM, db.session.get(Client, client.id), data)

    assert run_jobs() == 1
    assert tickets(watch.sandbox) == [
        ("101", "ana.nova@example.com.br", False),
        ("102", "ana.nova@example.com.br", False),
    ]


def test_a_document_change_sends_nothing_to_watch(app, watch, run_jobs):
    from panel.domain import clients as clients_domain
    from panel.models import Client

    contract_id = watch.contract(app)
    assert run(app, run_jobs, contract_id, "sync") == "done"
    with app.app_context():
        client = db.session.get(Contract, contract_id).client
        data = clients_domain.ClientData(kind=client.kind, name=client.name, document=CPFS[2], email=client.email)
        clients_domain.update_client(SYSTEM, db.session.get(Client, client.id), data)

    assert run_jobs() == 0


def test_cancel_deletes_every_ticket(app, watch, run_jobs):
    contract_id = watch.contract(app)
    assert run(app, run_jobs, contract_id, "sync") == "done"

    assert run(app, run_jobs, contract_id, "cancel") == "done"

    assert watch.sandbox.records() == []


def test_the_reguas_bloqueio_sva_turns_every_ticket_off_and_a_payment_on(app, watch, runner, run_jobs):
    from datetime import timedelta

    from sqlalchemy import select

    from panel.domain import invoices
    from panel.models import Invoice
    from tests.test_regua import DUE, billed_contract, tv_rule
    from tests.test_regua import run as run_regua

    tv_rule(app, 15, action="sva_block", platform_id=watch.platform_id)
    billed_contract(app, watch.plan_id, email="ana@example.com.br")
    run_jobs()
    assert [active for *_, active in tickets(watch.sandbox)] == [True, True]

    run_regua(app, runner, DUE + timedelta(days=16))
    run_jobs()
    assert [active for *_, active in tickets(watch.sandbox)] == [False, False]

    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoices.pay(SYSTEM, invoice, paid_on=DUE + timedelta(days=17), paid_amount=invoice.amount)
    run_jobs()
    assert [active for *_, active in tickets(watch.sandbox)] == [True, True]
