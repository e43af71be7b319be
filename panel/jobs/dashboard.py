"""rq-dashboard at /rq, for admins, hardened.

The package trusts its host app for everything, so here: the guard in panel.security requires an
admin for every /rq URL; this module then refuses its state-changing GET route, answers 404
instead of crashing on unknown instances and jobs, gives its buttons the CSRF token they send
(cookie ``_csrf_token`` → header ``X-CSRFToken``), and lets only its own inline scripts run
(a CSP with their hashes; our template override also escapes every job field).
"""

from __future__ import annotations

import base64
import hashlib
import re

import rq_dashboard
from flask import Flask, abort, current_app, request
from flask_wtf.csrf import generate_csrf
from rq.exceptions import NoSuchJobError

from panel.security import CSP

URL_PREFIX = "/rq"
# Its "requeue all" answers GET too; a link must never change state.
REFUSED_GET_ENDPOINTS = frozenset({"rq_dashboard.requeue_all"})
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*text/template)[^>]*>(.*?)</script>", re.S)


def _is_dashboard() -> bool:
    return (request.endpoint or "").startswith("rq_dashboard.")


def _check_request():
    if not _is_dashboard():
        return None
    if request.endpoint in REFUSED_GET_ENDPOINTS and request.method == "GET":
        abort(405)
    instance = (request.view_args or {}).get("instance_number")
    if instance is not None and instance >= len(current_app.config["RQ_DASHBOARD_REDIS_URL"]):
        abort(404)  # the package raises (500) on an instance it does not know
    return None


def _harden_response(response):
    # Only the dashboard's own pages and answers, which only admins get: a refusal (403) or the
    # redirect to login keeps the panel's strict policy and gets no token.
    if not _is_dashboard() or request.endpoint == "rq_dashboard.static" or response.status_code != 200:
        return response
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        hashes = " ".join(
            "'sha256-%s'" % base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            for script in INLINE_SCRIPT.findall(html)
        )
        # 'unsafe-eval': its underscore templates compile with new Function(); no inline handler runs.
        response.headers["Content-Security-Policy"] = CSP.replace(
            "script-src 'self'", f"script-src 'self' {hashes} 'unsafe-eval'"
        ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    response.set_cookie(
        "_csrf_token",
        generate_csrf(),
        path=URL_PREFIX,
        samesite="Strict",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=False,  # its JavaScript reads it into the X-CSRFToken header
    )
    return response


def init_app(app: Flask) -> None:
    app.config["RQ_DASHBOARD_REDIS_URL"] = [app.config["REDIS_URL"]]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    # Registered after the access guard, so the checks run only for admins.
    app.before_request(_check_request)
    app.after_request(_harden_response)

    @app.errorhandler(NoSuchJobError)
    def unknown_job(error):
        from panel.errors import render_error

        return render_error(404)
