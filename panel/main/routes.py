from flask import current_app, jsonify, render_template
from flask_login import current_user

from panel.domain import audit
from panel.jobs.health import machinery_status
from panel.main import bp
from panel.models import Role
from panel.security import requires


@bp.route("/")
@requires(Role.leitura)
def home():
    # Admins see everyone's activity; other operators see their own.
    actor_id = None if current_user.has_role(Role.admin) else current_user.id
    return render_template("main/home.html", events=audit.recent_events(limit=10, actor_id=actor_id))


@bp.route("/status.json")
@requires(Role.leitura)
def status():
    """Polled by the pages to show, without a reload, whether the worker and scheduler run."""
    state = machinery_status(current_app.extensions["redis"], current_app.config["WORKER_TTL"])
    return jsonify(
        redis_ok=state.redis_ok,
        workers=state.workers,
        schedulers=state.schedulers,
        last_heartbeat_age_s=state.last_heartbeat_age_s,
        problems=state.problems,
    )
