"""rq-dashboard at /rq, for admins, hardened.

The package trusts its host app for everything, so here:

- the guard in panel.security requires an admin for every /rq URL;
- every URL is checked before the package sees it: an unknown instance, a queue that does not
  exist, an unknown registry or order, a page size or page out of range, a job id that is not one
  of RQ's ids or names no job answers 404 (the package would render it into the page, or crash);
- its state-changing GET route is refused;
- its buttons get the CSRF token they send (cookie ``_csrf_token`` → header ``X-CSRFToken``);
- no filesystem path and no Redis address is shown: the navigation names the one instance
  "Redis do painel", and a job's exception text (its traceback) has its paths made relative —
  ``File "panel/jobs/…"``, ``File "rq/job.py"`` — and the Redis URL replaced by that name;
- its pages run no inline script at all: our templates (templates/rq_dashboard/) replace every
  one of its pages and load its behaviour from static/rq/*.js, which read their parameters from
  autoescaped data-* attributes and put data into the page as text only. So /rq keeps the
  panel's own policy (``script-src 'self'``, no 'unsafe-inline', no 'unsafe-eval'): no text that
  a request or a job carries can become script, whatever template forgets to escape.
"""

from __future__ import annotations

import re
import site
import sys
import sysconfig

import rq_dashboard
from flask import Flask, abort, current_app, request
from flask_wtf.csrf import generate_csrf
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from panel import PROJECT_ROOT
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
# What the dashboard calls its one Redis, wherever it is (a socket under instance/, a URL with a
# password): the address itself is never shown.
REDIS_NAME = "Redis do painel"
# The data routes whose answers carry a job's exception text.
JOB_DATA_ENDPOINTS = frozenset({"rq_dashboard.job_info", "rq_dashboard.list_jobs"})
# An absolute path's directories ("/home/ana/painel/", "/usr/lib/python3.11/"), when what follows
# is a file or directory name: replaced by the roots below, or else by "…/".
ABSOLUTE_DIRS = re.compile(r"(?<![\w.:/])(?:/[^\s\"'/<>]+)+/(?=[^\s\"'/<>])")


def _code_roots() -> list[str]:
    """Where code lives, longest first: a traceback's paths are shown relative to these."""
    roots = {str(PROJECT_ROOT), sys.prefix, sys.base_prefix, *site.getsitepackages()}
    roots.update(path for path in sysconfig.get_paths().values() if path)
    return sorted((root.rstrip("/") + "/" for root in roots if root.startswith("/")), key=len, reverse=True)


CODE_ROOTS = _code_roots()


def hide_addresses(text: str, redis_url: str) -> str:
    """A text shown on /rq, without the Redis address and with no filesystem path: paths under
    the project, the virtualenv or Python's library relative to it, any other directory as "…/"."""
    if redis_url:
        text = text.replace(redis_url, REDIS_NAME)

    def relative(match: re.Match) -> str:
        directory = match.group(0)
        for root in CODE_ROOTS:
            if directory.startswith(root):
                rest = directory[len(root) :]
                # site-packages/x/ → x/; lib/python3.11/x/ → x/
                return re.sub(r"^(?:lib/python[\d.]+/)?(?:site-packages/)?", "", rest)
        return "…/"

    return ABSOLUTE_DIRS.sub(relative, text)


def _hide_addresses_in(value, redis_url: str):
    """Every job's exception text in a data answer (its other fields are ours: URLs, ids)."""
    if isinstance(value, list):
        return [_hide_addresses_in(each, redis_url) for each in value]
    if isinstance(value, dict):
        return {
            key: hide_addresses(each, redis_url)
            if key == "exc_info" and isinstance(each, str)
            else _hide_addresses_in(each, redis_url)
            for key, each in value.items()
        }
    return value


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


def _hide_addresses_in_job_data(response):
    if request.endpoint not in JOB_DATA_ENDPOINTS or response.status_code != 200 or not response.is_json:
        return response
    data = _hide_addresses_in(response.get_json(), current_app.config["REDIS_URL"])
    response.set_data(current_app.json.dumps(data))
    return response


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
    app.after_request(_hide_addresses_in_job_data)

    @app.errorhandler(NoSuchJobError)
    def unknown_job(error):
        # A job that disappears between the check and the view (it expired, a worker deleted it).
        return render_error(404)
