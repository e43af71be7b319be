"""Configurações → Auditoria (admins only): every audited action, newest first, filtered by who
(an operator, or the panel itself), what (the area the action is about) and the days it happened
(in the operators' time zone), paged by keyset; and its *Exportar CSV*."""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from panel.configuracoes import bp
from panel.domain import audit
from panel.domain.common import local_today
from panel.domain.users import list_users
from panel.exports import csv_response, in_batches
from panel.inputs import is_integer_text, parse_id
from panel.models import AuditEvent, Role
from panel.security import requires
from panel.templating import audit_field, audit_value
from panel.web import date_arg, id_arg, keyset_page, search_arg

AUDIT_PAGE_SIZE = 50
WHO_MESSAGE = "Escolha um usuário da lista."
WHAT_MESSAGE = "Escolha um tipo de ação da lista."
ORDER_MESSAGE = "A data final é anterior à inicial."
HEADER = ["Nº", "Quando", "Quem", "Código do usuário", "Endereço IP", "Ação", "Código da ação", "Alterações"]


def audit_filter(users) -> tuple[audit.AuditFilter, dict[str, str]]:
    """The filter from the query string, and a message for each value not taken (the list then
    goes on without it, and the page shows why next to its field)."""
    errors: dict[str, str | None] = {}
    who_text = request.args.get("quem", "").strip()
    who: int | str | None = None
    if who_text == audit.PANEL_ACTORS:
        who = audit.PANEL_ACTORS
    elif who_text:
        who = parse_id(who_text)
        if who not in {user.id for user in users}:
            who, errors["quem"] = None, WHO_MESSAGE
    what = request.args.get("acao", "").strip() or None
    if what is not None and what not in audit.KINDS:
        what, errors["acao"] = None, WHAT_MESSAGE
    first_day, errors["de"] = date_arg("de")
    last_day, errors["ate"] = date_arg("ate")
    if first_day and last_day and last_day < first_day:
        last_day, errors["ate"] = None, ORDER_MESSAGE
    found = audit.AuditFilter(actor=who, kind=what, first_day=first_day, last_day=last_day)
    return found, {name: error for name, error in errors.items() if error}


def audit_params(filters: audit.AuditFilter) -> dict:
    return {
        "quem": filters.actor,
        "acao": filters.kind,
        "de": filters.first_day.isoformat() if filters.first_day else None,
        "ate": filters.last_day.isoformat() if filters.last_day else None,
    }


@bp.route("/auditoria")
@requires(Role.admin)
def audit_log():
    """Every audited action the filter finds, newest first, paged by keyset (?antes=<id>)."""
    before_id = id_arg("antes")
    if before_id is None and is_integer_text(request.args.get("antes")):
        abort(400)  # a number, but no id (0, -5, 10²³); text that is no number ("٣") is ignored
    users = list_users()
    filters, errors = audit_filter(users)
    page = keyset_page(lambda limit: audit.events(filters, before_id=before_id, limit=limit), AUDIT_PAGE_SIZE)
    params = audit_params(filters)
    return render_template(
        "configuracoes/audit_log.html",
        events=page.items,
        users=users,
        kinds=audit.KINDS,
        panel_actors=audit.PANEL_ACTORS,
        filters=filters,
        params=params,
        filtered=any(value is not None for value in params.values()),
        typed={name: search_arg(name, 20) for name in ("de", "ate")},
        errors=errors,
        next_url=url_for("configuracoes.audit_log", **params, antes=page.next_key)
        if page.next_key is not None
        else None,
        prev_url=url_for("configuracoes.audit_log", **params) if before_id else None,
    )


def changes_text(event: AuditEvent) -> str:
    """The changes as the page lists them, on one line: "Nome: Ana → Ana Souza; Ativo: Sim → Não"."""
    return "; ".join(
        f"{audit_field(field)}: {audit_value(change[0], field)} → {audit_value(change[1], field)}"
        for field, change in (event.changes or {}).items()
    )


def event_cells(event: AuditEvent) -> tuple:
    return (
        event.id,
        event.created_at,
        event.actor_name,
        event.actor_id,
        event.ip or "",
        event.summary,
        event.action,
        changes_text(event),
    )


@bp.route("/auditoria.csv")
@requires(Role.admin)
def audit_csv():
    filters, _ = audit_filter(list_users())  # a value the page refuses is left out here too

    def fetch(after: int | None, limit: int) -> list[AuditEvent]:
        return audit.events(filters, before_id=after, limit=limit)

    name = f"auditoria-{local_today().isoformat()}.csv"
    return csv_response(name, HEADER, (event_cells(event) for event in in_batches(fetch)))
