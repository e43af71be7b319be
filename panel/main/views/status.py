"""The machinery's status, polled by every page for its banner."""

from flask import current_app, jsonify

from panel.jobs.health import machinery_status
from panel.main import bp
from panel.models import Role
from panel.security import requires


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
