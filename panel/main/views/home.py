"""The home page: recent activity."""

from flask import render_template
from flask_login import current_user

from panel.domain import audit
from panel.main import bp
from panel.models import Role
from panel.security import requires


@bp.route("/")
@requires(Role.leitura)
def home():
    # Admins see everyone's activity; other operators see their own.
    actor_id = None if current_user.has_role(Role.admin) else current_user.id
    return render_template("main/home.html", events=audit.recent_events(limit=10, actor_id=actor_id))
