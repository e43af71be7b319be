"""Títulos: generated monthly from the contract's value (button and CLI), paid by *Baixar
título*, days overdue derived from the due date."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from panel.domain import DomainError
from panel.domain import invoices as invoices_domain
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Contract, ContractEvent, Invoice
from tests.conftest import post_form
from tests.factories import CPFS, SYSTEM, ittv_plan, make_client, make_contract, skeelo_plan

BASE = "/financeiro/painel-do-cliente"


def test_button_generates_this_months_invoice_once(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app), due_day=31)
    login_as("operador")
    page = f"{BASE}/contratos/{contract_id}"
    html = post_form(client, page, {}, f"{page}/titulos/gerar", follow_redirects=True).get_data(as_text=True)
    month = invoices_domain.month_start(local_today())
    assert f"Título {month:%m/%Y} gerado." in html and "R$ 39,90" in html
    with app.app_context():
        invoice = db.session.scalars(db.select(Invoice)).one()
        assert invoice.reference_month == month and invoice.amount == Decimal("39.90")
        assert invoice.due_date == invoices_domain.due_date(db.session.get(Contract, contract_id), month)
        assert invoice.due_date.month == month.month  # day 31 falls on the month's last day
    again = post_form(client, page, {}, f"{page}/titulos/gerar", follow_redirects=True).get_data(as_text=True)
    assert "deste contrato já existe" in again


def test_due_day_past_the_months_end_falls_on_its_last_day(app):
    contract_id = make_contract(app, make_client(app), ittv_plan(app), due_day=31)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert invoices_domain.due_date(contract, date(2026, 2, 1)) == date(2026, 2, 28)
        assert invoices_domain.due_date(contract, date(2028, 2, 1)) == date(2028, 2, 29)
        assert invoices_domain.due_date(contract, date(2026, 12, 1)) == date(2026, 12, 31)


def test_days_overdue_are_derived_from_the_due_date(app):
    contract_id = make_contract(app, make_client(app), ittv_plan(app), due_day=10)
    with app.app_context():
        invoice = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        )
        assert invoice.due_date == date(2026, 10, 10)
        assert invoice.days_overdue(date(2026, 10, 10)) == 0
        assert invoice.days_overdue(date(2026, 10, 26)) == 16
        invoices_domain.pay(SYSTEM, invoice, paid_on=date(2026, 10, 20), paid_amount=Decimal("39.90"))
        assert invoice.days_overdue(date(2026, 10, 26)) == 0


def test_cli_bills_every_active_contract_once(app, runner):
    plan_id = ittv_plan(app)
    active = make_contract(app, make_client(app, document=CPFS[0]), plan_id, due_day=5)
    later = make_contract(app, make_client(app, document=CPFS[1]), plan_id, start_date=date(2027, 1, 10))
    cancelled = make_contract(app, make_client(app, document=CPFS[2]), skeelo_plan(app))
    with app.app_context():
        from panel.domain import contracts as contracts_domain

        contracts_domain.act(SYSTEM, db.session.get(Contract, cancelled), "cancel")
    result = runner.invoke(args=["invoices", "generate", "--month", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "1 título gerado para 11/2026." in result.output
    assert "0 títulos" in runner.invoke(args=["invoices", "generate", "--month", "2026-11"]).output
    with app.app_context():
        invoice = db.session.scalars(db.select(Invoice)).one()
        assert (invoice.contract_id, invoice.due_date) == (active, date(2026, 11, 5))
        line = db.session.scalars(db.select(ContractEvent).where(ContractEvent.action == "invoice_created")).one()
        assert line.actor_name == "Sistema (linha de comando)" and line.actor_id is None
    assert later and "Mês inválido" in runner.invoke(args=["invoices", "generate", "--month", "nov"]).output


def test_operator_pays_an_invoice_and_the_history_says_so(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        invoice = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        )
        invoice_id = invoice.id
    user = login_as("operador")
    contract_page = client.get(f"{BASE}/contratos/{contract_id}").get_data(as_text=True)
    assert "Vencido há" in contract_page and "Baixar título" in contract_page
    url = f"{BASE}/titulos/{invoice_id}/baixar"
    future = (local_today() + timedelta(days=1)).isoformat()
    html = post_form(client, url, {"paid_on": future, "paid_amount": "39,90"}).get_data(as_text=True)
    assert "A data do pagamento não pode estar no futuro." in html
    html = post_form(client, url, {"paid_on": "2026-10-15", "paid_amount": "abc"}).get_data(as_text=True)
    assert "Número inválido" in html
    response = post_form(client, url, {"paid_on": "2026-10-15", "paid_amount": "39,90"})
    assert response.status_code == 302
    html = client.get(f"{BASE}/contratos/{contract_id}").get_data(as_text=True)
    assert "Pago" in html and "15/10/2026" in html
    assert "Título 10/2026 baixado: R$ 39,90 pago em 15/10/2026." in html and user.name in html
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.paid_on, invoice.paid_amount, invoice.paid_by_name) == (
            date(2026, 10, 15),
            Decimal("39.90"),
            user.name,
        )
        with pytest.raises(DomainError, match="já foi baixado"):
            invoices_domain.pay(SYSTEM, invoice, paid_on=date(2026, 10, 16), paid_amount=Decimal("1"))


def test_leitura_cannot_pay(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        invoice = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        )
        invoice_id = invoice.id
    login_as("leitura")
    assert "Baixar título" not in client.get(f"{BASE}/contratos/{contract_id}").get_data(as_text=True)
    response = client.get(f"{BASE}/titulos/{invoice_id}/baixar")
    assert response.status_code == 403
    response.close()


def test_the_first_titulo_is_the_first_month_due_after_the_start(app, runner):
    contract_id = make_contract(app, make_client(app), ittv_plan(app), start_date=date(2026, 11, 24), due_day=10)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert invoices_domain.first_month(contract) == date(2026, 12, 1)
        with pytest.raises(DomainError, match="o primeiro título é o de 12/2026"):
            invoices_domain.generate_for_contract(SYSTEM, contract, date(2026, 11, 1))
    assert "0 títulos" in runner.invoke(args=["invoices", "generate", "--month", "2026-11"]).output
    assert "1 título" in runner.invoke(args=["invoices", "generate", "--month", "2026-12"]).output
    with app.app_context():
        invoice = db.session.scalars(db.select(Invoice)).one()
        assert invoice.due_date == date(2026, 12, 10) and invoice.days_overdue(date(2026, 12, 10)) == 0


@pytest.mark.parametrize(
    ("paid_on", "amount", "field", "message"),
    [
        (date(2026, 10, 15), "9.90", "paid_amount", "Baixa parcial não é aceita: o título vale R$ 39,90."),
        (date(2026, 10, 15), "99999999999999999", "paid_amount", "Valor muito acima do título"),
        (date(2025, 1, 1), "39.90", "paid_on", "mais de um ano antes do vencimento"),
        (None, "39.90", "paid_on", "Informe a data do pagamento"),
    ],
)
def test_baixar_titulo_refuses_what_cannot_be_a_payment(app, paid_on, amount, field, message):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        invoice = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        )
        db.session.commit()
        with pytest.raises(DomainError, match=re.escape(message)) as refusal:
            invoices_domain.pay(SYSTEM, invoice, paid_on=paid_on, paid_amount=Decimal(amount))
        assert refusal.value.field == field
        db.session.rollback()
        assert not db.session.get(Invoice, invoice.id).paid


def test_a_huge_amount_typed_in_the_form_is_refused_not_a_crash(app, login_as, client):
    contract_id = make_contract(app, make_client(app), ittv_plan(app))
    with app.app_context():
        invoice_id = invoices_domain.generate_for_contract(
            SYSTEM, db.session.get(Contract, contract_id), date(2026, 10, 1)
        ).id
    login_as("operador")
    url = f"{BASE}/titulos/{invoice_id}/baixar"
    response = post_form(client, url, {"paid_on": "2026-10-15", "paid_amount": "99999999999999999999,99"})
    assert response.status_code == 200 and "Valor muito acima do título" in response.get_data(as_text=True)
