"""The régua de cobrança on the real database (both), Redis and, where the platform must hear of
it, the sandboxes: who it blocks, on which day, never twice, never someone else's block, and the
payment that lifts its block in the same transaction."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select

from panel.domain import DomainError, billing_rules, invoices, regua
from panel.domain.common import Actor
from panel.extensions import db
from panel.models import (
    BlockOrigin,
    Contract,
    ContractEvent,
    Invoice,
    Operation,
    ReguaRun,
    ReguaTrigger,
    Subscription,
)
from tests.factories import CNPJS, CPFS, SYSTEM, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act, history, platform_at, subscription

DUE = date(2026, 10, 10)  # the título of 10/2026 (contracts start in January, due day 10)
ADMIN = Actor.system("Testes")


def tv_rule(app, days: int = 15, *, action: str = "tv_block", unblock: bool = True, platform_id=None) -> int:
    with app.app_context():
        return billing_rules.save_rule(
            SYSTEM,
            None,
            rule_type="connection_maintenance",
            days_overdue=days,
            action=action,
            platform_id=platform_id,
            unblock_on_payment=unblock,
            active=True,
        ).id


def billed_contract(
    app,
    plan_id: int,
    *,
    document: str = CPFS[0],
    email: str = "maria@example.com.br",
    synced: bool = True,
    months=(DUE,),
) -> int:
    """A contract (started in January) with its títulos of these months unpaid, synced."""
    contract_id = make_contract(app, make_client(app, document=document, email=email), plan_id)
    if synced:
        act(app, contract_id, "sync")
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        for month in months:
            invoices.generate_for_contract(SYSTEM, contract, month.replace(day=1))
    return contract_id


def run(app, runner, day: date, *extra: str) -> str:
    result = runner.invoke(args=["regua", "run", "--date", day.isoformat(), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def sub(app, contract_id: int) -> Subscription:
    return subscription(app, contract_id)


# -- who is blocked, on which day -------------------------------------------------------------


@pytest.mark.parametrize(("days_late", "blocked"), [(14, False), (15, True), (16, True)])
def test_the_rule_blocks_from_its_nth_day_overdue(app, runner, days_late, blocked):
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    output = run(app, runner, DUE + timedelta(days=days_late))
    assert (sub(app, contract_id).desired_status == "blocked") is blocked
    assert (f"título 10/2026 vencido há {days_late} dias" in output) is blocked
    if blocked:
        [line] = [h for h in history(app, contract_id) if h[0] == "Régua"]
        assert line[1] == (
            "Bloqueio automático pela Régua de Configuração: Manutenção de conexão, 15 dias — Bloqueio de TV; "
            f"título 10/2026 vencido há {days_late} dias."
        )
        subscriber = sub(app, contract_id)
        assert subscriber.blocked_by is BlockOrigin.regua and subscriber.block_run_id is not None
        with app.app_context():
            op = db.session.scalars(select(Operation).order_by(Operation.id.desc())).first()
            assert op.background and op.requested_by_name == "Régua" and op.target_status == "blocked"


def test_a_partial_block_rule_and_the_sva_rule_act_on_their_own_plans_only(app, runner):
    tv_rule(app, 10, action="tv_partial_block")
    tv_rule(app, 10, action="sva_block")
    tv = billed_contract(app, ittv_plan(app))
    sva = billed_contract(app, skeelo_plan(app), document=CNPJS[0], email="empresa@example.com.br")
    run(app, runner, DUE + timedelta(days=12))
    assert sub(app, tv).desired_status == "partial_block"
    assert sub(app, sva).desired_status == "blocked"


def test_the_day_is_the_operators_day_not_utcs(app, make_app):
    """The daily job judges the date of DISPLAY_TIMEZONE. Two zones 26 hours apart are never on
    the same date, so one of them is on another date than UTC right now: its run is of its date."""
    from panel.jobs.regua import regua_tick

    utc_today = datetime.now(ZoneInfo("UTC")).date()
    zone = next(name for name in ("Etc/GMT+12", "Etc/GMT-14") if datetime.now(ZoneInfo(name)).date() != utc_today)
    local_day = datetime.now(ZoneInfo(zone)).date()
    tv_rule(app, 15)
    other = make_app(DISPLAY_TIMEZONE=zone, REGUA_HOUR=0)
    with other.app_context():
        regua_tick()
    with app.app_context():
        [day] = db.session.scalars(select(ReguaRun.day)).all()
    assert day == local_day != utc_today


# -- never twice, never someone else's block ----------------------------------------------------


def test_a_second_run_the_same_day_changes_nothing(app, runner):
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    day = DUE + timedelta(days=20)
    run(app, runner, day)
    with app.app_context():
        counts = {
            model: db.session.scalar(select(func.count()).select_from(model))
            for model in (Operation, ContractEvent, ReguaRun)
        }
    assert "já rodou neste dia" in run(app, runner, day)
    with app.app_context():
        assert counts == {
            model: db.session.scalar(select(func.count()).select_from(model))
            for model in (Operation, ContractEvent, ReguaRun)
        }
    assert sub(app, contract_id).desired_status == "blocked"


def test_two_runs_at_once_act_once(app):
    tv_rule(app, 15)
    plan = ittv_plan(app)
    contract_ids = [
        billed_contract(app, plan, document=cpf, email=f"c{i}@example.com.br") for i, cpf in enumerate(CPFS[:3])
    ]
    day = DUE + timedelta(days=20)
    barrier, outcomes = threading.Barrier(2), []

    def run_once():
        with app.app_context():
            barrier.wait()
            try:
                run_ids = [r.id for r in regua.request_runs(ADMIN, ReguaTrigger.cli, day, deliver=False)]
                db.session.commit()
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
                return
            for run_id in run_ids:
                taken = regua.start(run_id, 60)
                db.session.commit()
                if taken is not None:
                    regua.carry_out(run_id, taken.attempts)
                    db.session.commit()
            outcomes.append(len(run_ids))

    threads = [threading.Thread(target=run_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) in ([0, 1], [1, "refused"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReguaRun)) == 1
        blocks = db.session.scalars(select(Operation).where(Operation.background)).all()
        assert sorted(op.subscription.contract_id for op in blocks) == sorted(contract_ids)


def test_a_payment_lifts_the_reguas_block_in_its_own_transaction(app, runner):
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    run(app, runner, DUE + timedelta(days=16))
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoices.pay(SYSTEM, invoice, paid_on=DUE + timedelta(days=17), paid_amount=invoice.amount)
        # Not committed yet: the unblock is in the same transaction as the payment...
        assert db.session.get(Subscription, sub(app, contract_id).id).desired_status == "active"
        db.session.rollback()  # ...and goes with it
    assert sub(app, contract_id).desired_status == "blocked"
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoices.pay(SYSTEM, invoice, paid_on=DUE + timedelta(days=17), paid_amount=invoice.amount)
    subscriber = sub(app, contract_id)
    assert subscriber.desired_status == "active" and subscriber.blocked_by is None
    actor, asked, _ = history(app, contract_id)[-1]
    assert actor == "Testes" and asked.startswith("Desbloqueio automático pelo pagamento do título 10/2026")


def test_a_payment_leaves_an_operators_block_and_a_suspension_alone(app, runner):
    tv_rule(app, 15)
    plan = ittv_plan(app)
    manual = billed_contract(app, plan)
    suspended = billed_contract(app, plan, document=CPFS[1], email="outra@example.com.br")
    act(app, manual, "block")
    act(app, suspended, "suspend")
    output = run(app, runner, DUE + timedelta(days=16))
    assert "(1 já bloqueado, 1 suspenso)" in output
    with app.app_context():
        for invoice in db.session.scalars(select(Invoice)):
            invoices.pay(SYSTEM, invoice, paid_on=DUE + timedelta(days=17), paid_amount=invoice.amount)
    assert sub(app, manual).desired_status == "blocked" and sub(app, manual).blocked_by is BlockOrigin.operator
    assert sub(app, suspended).desired_status == "blocked"
    with app.app_context():
        assert db.session.get(Contract, suspended).status == "suspended"


def test_an_exempt_contract_is_skipped_with_its_reason(app, runner):
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        contract.exempt_until = DUE + timedelta(days=30)  # set as the domain would, in the past of the test day
        contract.exempt_reason = "Negociação em andamento"
    output = run(app, runner, DUE + timedelta(days=20))
    assert "isento até 09/11/2026: Negociação em andamento" in output
    assert sub(app, contract_id).desired_status == "active"
    # The day after the exemption ends, the rule acts.
    run(app, runner, DUE + timedelta(days=31))
    assert sub(app, contract_id).desired_status == "blocked"


def test_an_exemption_is_set_by_an_operator_audited_and_refused_in_the_past(app):
    contract_id = billed_contract(app, ittv_plan(app), synced=False)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        with pytest.raises(DomainError, match="já passou"):
            regua.set_exemption(SYSTEM, contract, date(2020, 1, 1), "atraso")
        with pytest.raises(DomainError, match="motivo"):
            regua.set_exemption(SYSTEM, contract, date.today() + timedelta(days=5), " ")
        db.session.rollback()
        regua.set_exemption(
            SYSTEM, db.session.get(Contract, contract_id), date.today() + timedelta(days=5), "Cliente negociando"
        )
    assert "Régua: não bloquear até" in history(app, contract_id)[-1][1]


def test_a_dry_run_changes_nothing_anywhere(app, runner, sandbox_for):
    ittv = platform_at(app, sandbox_for("ittv"))
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv.plan_id)
    connection = app.extensions["redis"]
    seen_before = len(ittv.sandbox.requests_seen())

    def snapshot():
        with app.app_context():
            tables = inspect(db.engine).get_table_names()
            rows = {table: db.session.execute(db.text(f"SELECT * FROM {table}")).all() for table in tables}
        return rows, sorted(connection.keys("*"))

    before = snapshot()
    output = run(app, runner, DUE + timedelta(days=16), "--dry-run")
    assert "1 seria bloqueado" in output and f"bloquear contrato {contract_id}" in output
    assert snapshot() == before
    assert len(ittv.sandbox.requests_seen()) == seen_before


def test_estornar_baixa_puts_the_titulo_back_for_the_next_run(app, runner):
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoices.pay(SYSTEM, invoice, paid_on=DUE, paid_amount=invoice.amount)
    assert "0 bloqueados" in run(app, runner, DUE + timedelta(days=16))
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        with pytest.raises(DomainError, match="motivo"):
            invoices.reverse_payment(SYSTEM, invoice, "")
        db.session.rollback()
        invoices.reverse_payment(SYSTEM, db.session.get(Invoice, invoice.id), "Cheque devolvido")
    assert "estornada" in history(app, contract_id)[-1][1] and "Cheque devolvido" in history(app, contract_id)[-1][1]
    assert sub(app, contract_id).desired_status == "active"  # nothing is blocked at once...
    run(app, runner, DUE + timedelta(days=17))  # ...the next run judges it again
    assert sub(app, contract_id).desired_status == "blocked"


def test_the_run_unblocks_its_own_blocks_once_nothing_is_overdue(app, runner):
    """Paid without the payment hook (an import, a correction in the database): the next run
    lifts the block it made."""
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv_plan(app))
    run(app, runner, DUE + timedelta(days=16))
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoice.paid_on, invoice.paid_amount = DUE + timedelta(days=16), invoice.amount
    assert "1 desbloqueado;" in run(app, runner, DUE + timedelta(days=17))
    assert sub(app, contract_id).desired_status == "active"


def test_the_runs_blocks_reach_the_platform(app, runner, run_jobs, sandbox_for):
    ittv = platform_at(app, sandbox_for("ittv"))
    tv_rule(app, 15)
    contract_id = billed_contract(app, ittv.plan_id)
    run_jobs()
    run(app, runner, DUE + timedelta(days=16))
    run_jobs()
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "INACTIVE"
    answers = [answer or "" for actor, _, answer in history(app, contract_id) if actor == "Sistema"]
    assert any("Bloqueio total — Inativo" in answer for answer in answers), answers
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        invoices.pay(SYSTEM, invoice, paid_on=DUE + timedelta(days=17), paid_amount=Decimal("39.90"))
    run_jobs()
    [customer] = ittv.sandbox.records()
    assert customer["status"] == "ACTIVE"
