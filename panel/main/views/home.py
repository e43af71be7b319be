"""The home page (Visão geral): the panel's numbers at a glance — subscribers per platform and
tab, failed operations, overdue títulos, the régua's last run, the last reconciliation, the
active subscribers of the last 90 days — each linking to the list behind it; and recent activity."""

from flask import render_template
from flask_login import current_user

from panel.domain import audit, licences, overview, reconciliation
from panel.domain.common import local_today
from panel.main import bp
from panel.main.chart import active_chart
from panel.models import ListTab, Role
from panel.models.types import utcnow
from panel.security import requires

# The Integradores list of each area, and the tabs by their query-string names.
AREA_LISTS = {"tv_ott": "integradores.tv_clients", "sva": "integradores.licence_subscribers"}
TAB_PARAMS = {ListTab.active: "ativos", ListTab.blocked: "bloqueados", ListTab.inactive: "cancelados"}


@bp.route("/")
@requires(Role.leitura)
def home():
    # Admins see everyone's activity; other operators see their own.
    actor_id = None if current_user.has_role(Role.admin) else current_user.id
    today = local_today()
    numbers = overview.overview(utcnow(), today)
    names = {row.platform.id: row.platform.name for row in numbers.platforms}
    return render_template(
        "main/home.html",
        events=audit.recent_events(limit=10, actor_id=actor_id),
        numbers=numbers,
        tabs=TAB_PARAMS,
        area_lists=AREA_LISTS,
        chart=active_chart(numbers.series, names, today, licences.CHART_DAYS),
        chart_days=licences.CHART_DAYS,
        reconciliation_runs=reconciliation.last_runs(),
    )
