"""Configurações → Auditoria (admins only): every audited action, newest first."""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from panel.configuracoes import bp
from panel.domain import audit
from panel.inputs import is_integer_text
from panel.models import Role
from panel.security import requires
from panel.web import id_arg, keyset_page

AUDIT_PAGE_SIZE = 50


@bp.route("/auditoria")
@requires(Role.admin)
def audit_log():
    """Every audited action, newest first, paged by keyset (?antes=<id>)."""
    before_id = id_arg("antes")
    if before_id is None and is_integer_text(request.args.get("antes")):
        abort(400)  # a number, but no id (0, -5, 10²³); text that is no number ("٣") is ignored
    page = keyset_page(lambda limit: audit.recent_events(limit=limit, before_id=before_id), AUDIT_PAGE_SIZE)
    return render_template(
        "configuracoes/audit_log.html",
        events=page.items,
        next_url=url_for("configuracoes.audit_log", antes=page.next_key) if page.next_key is not None else None,
        prev_url=url_for("configuracoes.audit_log") if before_id else None,
    )
