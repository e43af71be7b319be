"""Contratos: *Novo contrato*, the contract's page (terms, subscriber, títulos, history) and its
buttons — *Sincronizar*, *Suspender contrato*, *Cancelar suspensão*, *Cancelar contrato*,
*Gerar título*, *Baixar título*. Each button is a POST that calls one domain function."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from panel.domain import DomainError
from panel.domain import contracts as contracts_domain
from panel.domain import invoices as invoices_domain
from panel.domain.common import local_today
from panel.domain.contract_rules import ContractAction
from panel.domain.history import history
from panel.extensions import db
from panel.formats import money
from panel.models import Contract, Invoice, Role
from panel.painel_cliente import bp
from panel.painel_cliente.clients import load_client
from panel.painel_cliente.forms import ContractForm, PayInvoiceForm
from panel.security import requires
from panel.web import attach_error, current_actor

# The contract buttons, by the path they post to.
ACTIONS = {
    "sincronizar": ContractAction.sync,
    "suspender": ContractAction.suspend,
    "cancelar-suspensao": ContractAction.reactivate,
    "cancelar": ContractAction.cancel,
}
ACTION_PATHS = {action: path for path, action in ACTIONS.items()}


def _load(contract_id: int) -> Contract:
    return db.session.get(Contract, contract_id) or abort(404)


@bp.route("/clientes/<int:client_id>/contratos/novo", methods=["GET", "POST"])
@requires(Role.operador)
def contract_new(client_id: int):
    client = load_client(client_id)
    form = ContractForm()
    plans = contracts_domain.available_plans()
    form.plan_id.choices = [("", "Selecione o plano…")] + [
        (plan.id, f"{plan.name} — {plan.plan_type.label}, {plan.platform.name}, {money(plan.monthly_value)}/mês")
        for plan in plans
    ]
    if not form.is_submitted():
        form.start_date.data = local_today()
        form.due_day.data = 10
    if form.validate_on_submit():
        try:
            contract = contracts_domain.create_contract(
                current_actor(), client, plan_id=form.plan_id.data, start_date=form.start_date.data,
                due_day=form.due_day.data,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(f"Contrato {contract.id} criado. Use Sincronizar para enviá-lo à plataforma {contract.platform.name}.",
                  "success")
            return redirect(url_for(".contract_detail", contract_id=contract.id))
    return render_template("painel_cliente/contract_form.html", form=form, client=client, plans=plans,
                           exclusive=contracts_domain.exclusive_syncs(client))


@bp.route("/contratos/<int:contract_id>")
@requires(Role.leitura)
def contract_detail(contract_id: int):
    contract = _load(contract_id)
    return render_template(
        "painel_cliente/contract_detail.html", contract=contract, client=contract.client,
        allowed=contracts_domain.allowed_actions(contract), action_paths=ACTION_PATHS, ContractAction=ContractAction,
        invoices=invoices_domain.invoices_of(contract), history=history(contract),
        today=local_today(), month_label=invoices_domain.month_label,
        composition=contracts_domain.composition_of(contract), sync_problem=contracts_domain.sync_problem(contract),
        can_bill_this_month=invoices_domain.can_bill(contract, local_today()),
        reactivation_needs_unblock=contracts_domain.traits(contract.platform).reactivation_needs_unblock,
    )


@bp.route("/contratos/<int:contract_id>/<path>", methods=["POST"])
@requires(Role.operador)
def contract_action(contract_id: int, path: str):
    if path not in ACTIONS:
        abort(404)
    contract = _load(contract_id)
    try:
        result = contracts_domain.act(current_actor(), contract, ACTIONS[path])
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(result.message, "success")
    return redirect(url_for(".contract_detail", contract_id=contract_id))


@bp.route("/contratos/<int:contract_id>/titulos/gerar", methods=["POST"])
@requires(Role.operador)
def invoice_generate(contract_id: int):
    contract = _load(contract_id)
    try:
        invoice = invoices_domain.generate_for_contract(current_actor(), contract)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(f"Título {invoices_domain.month_label(invoice.reference_month)} gerado.", "success")
    return redirect(url_for(".contract_detail", contract_id=contract_id, _anchor="titulos"))


@bp.route("/titulos/<int:invoice_id>/baixar", methods=["GET", "POST"])
@requires(Role.operador)
def invoice_pay(invoice_id: int):
    invoice = db.session.get(Invoice, invoice_id) or abort(404)
    form = PayInvoiceForm()
    if not form.is_submitted():
        form.paid_on.data, form.paid_amount.data = local_today(), invoice.amount
    if form.validate_on_submit():
        try:
            invoices_domain.pay(current_actor(), invoice, paid_on=form.paid_on.data,
                                paid_amount=form.paid_amount.data)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(f"Título {invoices_domain.month_label(invoice.reference_month)} baixado.", "success")
            return redirect(url_for(".contract_detail", contract_id=invoice.contract_id, _anchor="titulos"))
    return render_template("painel_cliente/invoice_pay.html", form=form, invoice=invoice,
                           contract=invoice.contract, month_label=invoices_domain.month_label)
