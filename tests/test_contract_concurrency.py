"""Simultaneous clicks on the same thing, from threads with their own sessions on the real
database: each action applies once, from the state the other left, and the database's refusals
read as the rules' messages (never a 500, never a row's values in an error)."""

from __future__ import annotations

import threading
from datetime import date

from panel.domain import DomainError
from panel.domain import clients as clients_domain
from panel.domain import contracts as contracts_domain
from panel.domain import invoices as invoices_domain
from panel.extensions import db
from panel.models import Client, Contract, ContractEvent, Invoice, Operation
from tests.factories import CPFS, SYSTEM, ittv_plan, make_client, make_contract

THREADS = 5


def at_once(app, work) -> list:
    """Run ``work()`` in THREADS threads released together; their results (or DomainErrors)."""
    barrier, results = threading.Barrier(THREADS), []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(work())
            except DomainError as refusal:
                db.session.rollback()
                results.append(refusal)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_suspensions_apply_once(app):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        contracts_domain.act(SYSTEM, db.session.get(Contract, contract_id), "sync")

    results = at_once(app, lambda: contracts_domain.act(SYSTEM, db.session.get(Contract, contract_id), "suspend"))
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(results) == THREADS and len(refusals) == THREADS - 1
    assert {r.message for r in refusals} == {"O contrato já está suspenso."}
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(ContractEvent).where(ContractEvent.action == "suspend")
            )
            == 1
        )
        assert [op.target_status for op in db.session.scalars(db.select(Operation).order_by(Operation.id))] == [
            "active",
            "blocked",
        ]


def test_simultaneous_syncs_of_two_ittv_contracts_of_one_client_leave_one(app):
    plan_id = ittv_plan(app)
    person = make_client(app)
    contract_ids = [make_contract(app, person, plan_id) for _ in range(THREADS)]
    turn = iter(contract_ids)
    lock = threading.Lock()

    def sync_one():
        with lock:
            contract_id = next(turn)
        return contracts_domain.act(SYSTEM, db.session.get(Contract, contract_id), "sync")

    results = at_once(app, sync_one)
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(refusals) == THREADS - 1
    assert all("somente é possível sincronizar 1 único contrato por assinante" in r.message for r in refusals)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation)) == 1


def test_the_same_document_registered_at_once_is_one_client(app):
    data = clients_domain.ClientData(kind="pf", name="Ana", document=CPFS[3], email="ana@example.com")
    results = at_once(app, lambda: clients_domain.create_client(SYSTEM, data).id)
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(refusals) == THREADS - 1
    assert all(r.field == "document" and "Já existe um cliente com este" in r.message for r in refusals)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 1


def test_simultaneous_payments_record_one(app):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        invoice_id = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        ).id

    def pay():
        invoice = db.session.get(Invoice, invoice_id)
        return invoices_domain.pay(SYSTEM, invoice, paid_on=date(2026, 10, 15), paid_amount=invoice.amount).id

    results = at_once(app, pay)
    assert sum(isinstance(r, DomainError) for r in results) == THREADS - 1
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(ContractEvent).where(ContractEvent.action == "invoice_paid")
            )
            == 1
        )
