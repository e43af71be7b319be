"""Contratos: *Novo contrato*, the contract's page (terms, subscriber, the régua's exemption and
the block's origin, títulos, history) and its buttons — *Sincronizar*, *Suspender contrato*,
*Cancelar suspensão*, *Cancelar contrato*, *Não bloquear até* / *Retirar isenção*. Each button is
a POST that calls one domain function."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from markupsafe import Markup

from panel.domain import contracts as contracts_domain
from panel.domain import invoices as invoices_domain
from panel.domain import products as products_domain
from panel.domain import regua as regua_domain
from panel.domain import subscribers as subscribers_domain
from panel.domain.common import local_today
from panel.domain.contract_rules import ContractAction
from panel.domain.history import history
from panel.extensions import db
from panel.formats import money
from panel.integradores.views.subscribers import link, row_url
from panel.models import Client, Contract, Role
from panel.painel_cliente import bp
from panel.painel_cliente.forms import ContractForm, ExemptionForm
from panel.security import requires
from panel.web import attempt, current_actor

# The contract buttons, by the path they post to.
ACTIONS = {
    "sincronizar": ContractAction.sync,
    "suspender": ContractAction.suspend,
    "cancelar-suspensao": ContractAction.reactivate,
    "cancelar": ContractAction.cancel,
}
ACTION_PATHS = {action: path for path, action in ACTIONS.items()}


@bp.route("/clientes/<int:client_id>/contratos/novo", methods=["GET", "POST"])
@requires(Role.operador)
def contract_new(client_id: int):
    client = db.get_or_404(Client, client_id)
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
        created = attempt(
            lambda: contracts_domain.create_contract(
                current_actor(),
                client,
                plan_id=form.plan_id.data,
                start_date=form.start_date.data,
                due_day=form.due_day.data,
            ),
            form=form,
            success=lambda contract: (
                f"Contrato {contract.id} criado. Use Sincronizar para enviá-lo à plataforma {contract.platform.name}."
            ),
        )
        if created:
            return redirect(url_for(".contract_detail", contract_id=created.value.id))
    return render_template(
        "painel_cliente/contract_form.html",
        form=form,
        client=client,
        plans=plans,
        exclusive=contracts_domain.exclusive_syncs(client),
    )


@bp.route("/contratos/<int:contract_id>")
@requires(Role.leitura)
def contract_detail(contract_id: int):
    return _contract_page(db.get_or_404(Contract, contract_id))


def _contract_page(contract: Contract, exemption_form: ExemptionForm | None = None):
    """The contract's page; with the exemption form as posted when it was refused."""
    if exemption_form is None:  # filled with the exemption in force, to change it
        current = contract.exempt_until is not None and contract.exempt_until >= local_today()
        exemption_form = ExemptionForm(
            formdata=None,
            data={"until": contract.exempt_until, "reason": contract.exempt_reason} if current else None,
        )
    # The subscriber box first: it reads the subscriber and its requests in one statement and
    # refreshes the subscriber the rest of the page shows, so every part agrees with the box.
    subscription = contract.subscription
    box = subscribers_domain.box(subscription.id) if subscription is not None else None
    return render_template(
        "painel_cliente/contract_detail.html",
        contract=contract,
        subscriber_box=box,
        exemption_form=exemption_form,
        block_origin=regua_domain.block_origin(contract.subscription),
        client=contract.client,
        allowed=contracts_domain.allowed_actions(contract),
        action_paths=ACTION_PATHS,
        ContractAction=ContractAction,
        invoices=invoices_domain.invoices_of(contract),
        history=history(contract),
        today=local_today(),
        month_label=invoices_domain.month_label,
        composition=contracts_domain.composition_of(contract),
        product_names=products_domain.names_by_code(contract.platform_id),
        sync_problem=contracts_domain.sync_problem(contract),
        can_bill_this_month=invoices_domain.can_bill(contract, local_today()),
        reactivation_needs_unblock=contracts_domain.traits(contract.platform).reactivation_needs_unblock,
        row_url=row_url(contract) if subscription is not None else None,
    )


@bp.route("/contratos/<int:contract_id>/<path>", methods=["POST"])
@requires(Role.operador)
def contract_action(contract_id: int, path: str):
    if path not in ACTIONS:
        abort(404)
    contract = db.get_or_404(Contract, contract_id)
    attempt(
        lambda: contracts_domain.act(current_actor(), contract, ACTIONS[path]),
        success=_done,
        refused=lambda message: _refused(contract, message),
    )
    return redirect(url_for(".contract_detail", contract_id=contract_id))


def _refused(contract: Contract, message: str) -> str | Markup:
    """A refusal; when the platform is switched off, with a link to where it is switched on."""
    platform = contract.platform
    if platform.active:
        return message
    where = url_for("configuracoes.platform_detail", platform_id=platform.id)
    return Markup("{} {}.").format(message, link(where, f"Abrir {platform.name} em Configurações"))


def _done(result: contracts_domain.Result) -> str | Markup:
    """What a contract button did; when the access still waits for the Desbloqueio, where to do it."""
    if not result.needs_unblock:
        return result.message
    return Markup("{} Para liberar o acesso na {}, faça o {}.").format(
        result.message, result.contract.platform.name, link(row_url(result.contract), "Desbloqueio em Integradores")
    )


@bp.route("/contratos/<int:contract_id>/isencao", methods=["POST"])
@requires(Role.operador)
def contract_exemption(contract_id: int):
    """*Não bloquear até*: the régua skips the contract up to a day, saying why."""
    contract = db.get_or_404(Contract, contract_id)
    form = ExemptionForm()
    if form.validate_on_submit() and attempt(
        lambda: regua_domain.set_exemption(current_actor(), contract, form.until.data, form.reason.data),
        form=form,
        success=lambda saved: f"A régua não bloqueará o contrato {saved.id} até {saved.exempt_until:%d/%m/%Y}.",
    ):
        return redirect(url_for(".contract_detail", contract_id=contract_id, _anchor="regua"))
    return _contract_page(contract, form)


@bp.route("/contratos/<int:contract_id>/isencao/retirar", methods=["POST"])
@requires(Role.operador)
def contract_exemption_clear(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    attempt(
        lambda: regua_domain.clear_exemption(current_actor(), contract),
        success=f"Isenção da régua retirada: o contrato {contract_id} volta a ser avaliado.",
    )
    return redirect(url_for(".contract_detail", contract_id=contract_id, _anchor="regua"))
