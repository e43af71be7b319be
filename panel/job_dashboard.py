"""rq-dashboard at /rq, for admins, hardened.

The package trusts its host app for everything, so here:

- the guard in panel.security requires an admin for every /rq URL;
- every URL is checked before the package sees it: an unknown instance, a queue that does not
  exist, an unknown registry or order, a page size or page out of range, a job id that is not one
  of RQ's ids or names no job answers 404 (the package would render it into the page, or crash);
- its state-changing GET route is refused;
- its buttons get the CSRF token they send (cookie ``_csrf_token`` → header ``X-CSRFToken``);
- its pages run no inline script at all: our templates (templates/rq_dashboard/) replace every
  one of its pages and load its behaviour from static/rq/*.js, which read their parameters from
  autoescaped data-* attributes and put data into the page as text only. So /rq keeps the
  panel's own policy (``script-src 'self'``, no 'unsafe-inline', no 'unsafe-eval'): no text that
  a request or a job carries can become script, whatever template forgets to escape.
"""

from __future__ import annotations

import re

import rq_dashboard
from flask import Flask, abort, current_app, request
from flask_wtf.csrf import generate_csrf
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from panel.errors import render_error
from panel.jobs.queues import QUEUE_SPECS

URL_PREFIX = "/rq"
# Its "requeue all" answers GET too; a link must never change state.
REFUSED_GET_ENDPOINTS = frozenset({"rq_dashboard.requeue_all"})
REGISTRIES = frozenset({"queued", "scheduled", "deferred", "started", "finished", "failed", "canceled"})
ORDERS = frozenset({"asc", "dsc"})
MAX_PER_PAGE = 200  # what its page-size field allows
MAX_PAGE = 1_000_000
# RQ's own rule for a job id (rq.job.validate_job_id), with a length bound.
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _is_dashboard() -> bool:
    return (request.endpoint or "").startswith("rq_dashboard.")


def _queue_exists(name: str) -> bool:
    """A queue RQ knows (it is in RQ's set of queues), or one the panel declares."""
    if name in QUEUE_SPECS:
        return True
    connection = current_app.redis_conn
    return bool(connection.sismember(Queue.redis_queues_keys, Queue.redis_queue_namespace_prefix + name))


def _number_in_range(value: object, maximum: int) -> bool:
    # The view routes give ints, the data routes strings: both must be whole numbers in range.
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 7:
            return False
        value = int(value)
    return isinstance(value, int) and 1 <= value <= maximum


def _view_args_exist(args: dict) -> bool:
    instance = args.get("instance_number")
    if instance is not None and instance >= len(current_app.config["RQ_DASHBOARD_REDIS_URL"]):
        return False  # the package raises (500) on an instance it does not know
    if "registry_name" in args and args["registry_name"] not in REGISTRIES:
        return False
    if "order" in args and args["order"] not in ORDERS:
        return False
    if "per_page" in args and not _number_in_range(args["per_page"], MAX_PER_PAGE):
        return False
    if "page" in args and not _number_in_range(args["page"], MAX_PAGE):
        return False
    queue_name = args.get("queue_name")
    if queue_name is not None and not _queue_exists(queue_name):
        return False
    job_id = args.get("job_id")
    if job_id is not None:
        if not JOB_ID.fullmatch(job_id):
            return False  # RQ raises ValueError (500) on such an id
        if not Job.exists(job_id, connection=current_app.redis_conn):
            return False
    return True


def _check_request():
    if not _is_dashboard() or request.endpoint == "rq_dashboard.static":
        return None
    if request.endpoint in REFUSED_GET_ENDPOINTS and request.method == "GET":
        abort(405)
    if not _view_args_exist(request.view_args or {}):
        abort(404)
    return None


def _give_csrf_token(response):
    # Only the dashboard's own pages and answers, which only admins get: a refusal (403) or the
    # redirect to login gets no token. The CSP is the panel's (panel.security), unchanged.
    if not _is_dashboard() or request.endpoint == "rq_dashboard.static" or response.status_code != 200:
        return response
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
    app.after_request(_give_csrf_token)

    @app.errorhandler(NoSuchJobError)
    def unknown_job(error):
        # A job that disappears between the check and the view (it expired, a worker deleted it).
        return render_error(404)
