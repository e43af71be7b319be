"""Financeiro → Títulos: the títulos *Em aberto*, *Vencidos* and *Pagos*, filtered by due date,
days overdue, platform and plan, with the filter's totals; *Baixar título* from the row (the
contract's pay form, back to this list) and *Estornar baixa* (admins, with a reason)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from panel.domain import invoices as invoices_domain
from panel.domain import titles as titles_domain
from panel.domain.plans import list_plans
from panel.domain.platforms import list_platforms
from panel.extensions import db
from panel.inputs import ascii_integer
from panel.models import Invoice, Role
from panel.painel_cliente import bp
from panel.painel_cliente.forms import ReverseInvoiceForm
from panel.security import requires
from panel.web import attempt, current_actor, date_arg, id_arg, keyset_page, safe_next, search_arg

PAGE_SIZE = 50
DAYS_MESSAGE = f"Informe um número de dias de 0 a {titles_domain.MAX_DAYS_OVERDUE}."


def _days_arg(name: str) -> tuple[int | None, str | None]:
    text = request.args.get(name, "").strip()
    if not text:
        return None, None
    days = ascii_integer(text)
    if days is None or not 0 <= days <= titles_domain.MAX_DAYS_OVERDUE:
        return None, DAYS_MESSAGE
    return days, None


def title_filter(platforms, plans) -> tuple[titles_domain.TitleFilter, dict[str, str | None]]:
    """The list's filter from the query string (the page and its CSV export alike), and the
    message for each value that was not taken (the page shows it next to its field)."""
    tab = request.args.get("aba", "")
    tab = tab if tab in titles_domain.TABS else titles_domain.OPEN
    platform_id, plan_id = id_arg("plataforma"), id_arg("plano")
    platform_id = platform_id if platform_id in {platform.id for platform in platforms} else None
    plan_id = plan_id if plan_id in {plan.id for plan in plans} else None
    errors = {}
    due_from, errors["de"] = date_arg("de")
    due_to, errors["ate"] = date_arg("ate")
    if due_from and due_to and due_to < due_from:
        due_to, errors["ate"] = None, "A data final é anterior à inicial."
    days, errors["dias"] = _days_arg("dias") if tab == titles_domain.OVERDUE else (None, None)
    filters = titles_domain.TitleFilter(
        tab=tab, due_from=due_from, due_to=due_to, min_days_overdue=days, platform_id=platform_id, plan_id=plan_id
    )
    return filters, errors


def title_params(filters: titles_domain.TitleFilter) -> dict:
    """The query string of a filter (without its tab)."""
    return {
        "de": filters.due_from.isoformat() if filters.due_from else None,
        "ate": filters.due_to.isoformat() if filters.due_to else None,
        "dias": filters.min_days_overdue,
        "plataforma": filters.platform_id,
        "plano": filters.plan_id,
    }


@bp.route("/titulos")
@requires(Role.leitura)
def titles():
    platforms, plans = list_platforms(), list_plans()
    filters, errors = title_filter(platforms, plans)
    tab, platform_id, plan_id = filters.tab, filters.platform_id, filters.plan_id
    after_id = id_arg("depois")
    page = keyset_page(
        lambda limit: titles_domain.page(filters, after_id=after_id, limit=limit),
        PAGE_SIZE,
        key=lambda row: row.invoice.id,
    )
    query = title_params(filters)
    return render_template(
        "painel_cliente/titles.html",
        tabs=titles_domain.TABS,
        tab=tab,
        OVERDUE=titles_domain.OVERDUE,
        PAID=titles_domain.PAID,
        rows=page.items,
        totals=titles_domain.totals(filters),
        today=filters.day,
        platforms=platforms,
        plans=plans,
        platform_id=platform_id,
        plan_id=plan_id,
        typed={name: search_arg(name, 20) for name in ("de", "ate", "dias")},
        errors={name: error for name, error in errors.items() if error},
        query=query,
        filtered=any(value is not None for value in query.values()),
        month_label=invoices_domain.month_label,
        back_url=request.full_path.rstrip("?"),
        next_url=url_for(".titles", aba=tab, **query, depois=page.next_key) if page.next_key else None,
        first_url=url_for(".titles", aba=tab, **query) if after_id is not None else None,
    )


@bp.route("/titulos/<int:invoice_id>/estornar", methods=["GET", "POST"])
@requires(Role.admin)
def invoice_reverse(invoice_id: int):
    """*Estornar baixa*: the payment undone, with a reason (the contract's history says so)."""
    invoice = db.get_or_404(Invoice, invoice_id)
    back = safe_next(
        request.args.get("voltar"), url_for(".contract_detail", contract_id=invoice.contract_id, _anchor="titulos")
    )
    form = ReverseInvoiceForm()
    if form.validate_on_submit() and attempt(
        lambda: invoices_domain.reverse_payment(current_actor(), invoice, form.reason.data),
        form=form,
        success=lambda reversed_: (
            f"Baixa do título {invoices_domain.month_label(reversed_.reference_month)} do contrato "
            f"{reversed_.contract_id} estornada."
        ),
    ):
        return redirect(back)
    return render_template(
        "painel_cliente/invoice_reverse.html",
        form=form,
        invoice=invoice,
        contract=invoice.contract,
        month_label=invoices_domain.month_label,
        back_url=back,
    )
