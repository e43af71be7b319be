"""Títulos, from the contract's page: *Gerar título* (this month's) and *Baixar título* (record
its payment)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from panel.domain import invoices as invoices_domain
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Contract, Invoice, Role
from panel.painel_cliente import bp
from panel.painel_cliente.forms import PayInvoiceForm
from panel.security import requires
from panel.web import attempt, current_actor, safe_next


@bp.route("/contratos/<int:contract_id>/titulos/gerar", methods=["POST"])
@requires(Role.operador)
def invoice_generate(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    attempt(
        lambda: invoices_domain.generate_for_contract(current_actor(), contract),
        success=lambda invoice: f"Título {invoices_domain.month_label(invoice.reference_month)} gerado.",
    )
    return redirect(url_for(".contract_detail", contract_id=contract_id, _anchor="titulos"))


@bp.route("/titulos/<int:invoice_id>/baixar", methods=["GET", "POST"])
@requires(Role.operador)
def invoice_pay(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    # Where the operator came from (the contract page, or Financeiro → Títulos), and goes back to.
    back = safe_next(
        request.args.get("voltar"), url_for(".contract_detail", contract_id=invoice.contract_id, _anchor="titulos")
    )
    form = PayInvoiceForm()
    if not form.is_submitted():
        form.paid_on.data, form.paid_amount.data = local_today(), invoice.amount
    if form.validate_on_submit() and attempt(
        lambda: invoices_domain.pay(
            current_actor(), invoice, paid_on=form.paid_on.data, paid_amount=form.paid_amount.data
        ),
        form=form,
        success=lambda paid: f"Título {invoices_domain.month_label(paid.reference_month)} baixado.",
    ):
        return redirect(back)
    return render_template(
        "painel_cliente/invoice_pay.html",
        form=form,
        invoice=invoice,
        contract=invoice.contract,
        month_label=invoices_domain.month_label,
        back_url=back,
    )
