"""Configurações → Réguas → *Simular régua* (also under Financeiro): what each active rule would
do on a day — who it would block, unblock or skip, and why — read-only; *Executar agora* (admins)
runs today's régua as jobs, and the page follows today's runs and lists the latest ones."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from panel.configuracoes import bp
from panel.domain import DomainError, regua
from panel.domain.common import local_today
from panel.formats import ngettext
from panel.models import ReguaTrigger, Role
from panel.security import requires
from panel.web import attempt, current_actor, date_arg, id_arg, keyset_page, search_arg

PAGE_SIZE = 50  # contracts per page
# Decisão: the query-string value → (label, the domain's decision).
DECISIONS = {
    "": ("Todas", None),
    "bloquear": ("A bloquear", regua.Decision.BLOCK),
    "desbloquear": ("A desbloquear", regua.Decision.UNBLOCK),
    "ignorados": ("Ignorados", regua.Decision.SKIP),
}


@bp.route("/reguas/simular")
@requires(Role.leitura)
def regua_simulation():
    today = local_today()
    day, date_error = date_arg("data")
    if day is not None:
        try:
            day = regua.simulation_day(day)
        except DomainError as error:
            day, date_error = None, error.message
    day = day or today
    outcomes = regua.simulate(day)
    rules = {outcome.rule.id: outcome.rule for outcome in outcomes}
    rule_id = id_arg("regra")
    rule_id = rule_id if rule_id in rules else None
    decision = request.args.get("decisao", "")
    decision = decision if decision in DECISIONS else ""
    contract_id, after = id_arg("contrato"), id_arg("depois")
    # Keyset by contract number, ascending (the order the régua judges them in): a page is the
    # next PAGE_SIZE contracts, each with every rule's verdict on it.
    page = keyset_page(
        lambda limit: regua.simulated_contracts(
            outcomes,
            rule_id=rule_id,
            decision=DECISIONS[decision][1],
            contract_id=contract_id,
            after_contract_id=after,
            limit=limit,
        ),
        PAGE_SIZE,
        key=lambda group: group[0].verdict.contract_id,
    )
    filters = {
        "data": day.isoformat() if day != today else None,
        "regra": rule_id,
        "decisao": decision or None,
        "contrato": contract_id,
    }
    today_runs = regua.runs_of(today)
    return render_template(
        "configuracoes/regua_simulation.html",
        day=day,
        today=today,
        date_error=date_error,
        date_text=search_arg("data", 20) if date_error else day.isoformat(),
        outcomes=outcomes,
        rule_words=regua.rule_words,
        skip_labels=regua.SKIP_REASONS,
        Decision=regua.Decision,
        decisions=DECISIONS,
        rule_id=rule_id,
        decision=decision,
        contract_id=contract_id,
        groups=page.items,
        filters=filters,
        next_url=url_for(".regua_simulation", **filters, depois=page.next_key) if page.next_key else None,
        first_url=url_for(".regua_simulation", **filters) if after is not None else None,
        progress=regua.progress(today_runs),
        today_runs=today_runs,
        runs=regua.runs_of(),
    )


@bp.route("/reguas/executar", methods=["POST"])
@requires(Role.admin)
def regua_run_now():
    """*Executar agora*: today's run of every active rule that has not run today, as jobs."""
    done = attempt(lambda: regua.request_runs(current_actor(), ReguaTrigger.admin))
    if done:
        if done.value:
            flash(
                "Régua de hoje solicitada: "
                + ngettext("%(num)s execução na fila.", "%(num)s execuções na fila.", len(done.value))
                + " Acompanhe o andamento abaixo.",
                "success",
            )
        else:
            flash("Nada a executar: cada régua ativa já rodou hoje (ou não há régua ativa).", "info")
    return redirect(url_for(".regua_simulation", _anchor="execucoes"))


@bp.route("/reguas/execucoes/hoje")
@requires(Role.leitura)
def regua_progress():
    """Today's runs (the progress bar), polled while one of them is unfinished."""
    today = local_today()
    runs = regua.runs_of(today)
    return render_template(
        "configuracoes/_regua_progress.html", today=today, progress=regua.progress(runs), today_runs=runs
    )
