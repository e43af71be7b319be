"""rq-dashboard at /rq: admins only (see test_access_control), and hardened."""

from __future__ import annotations

import re

from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import enqueue


def test_dashboard_buttons_get_the_csrf_token_they_send(app, login_as, client):
    from rq.job import Job

    login_as("admin")
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description="Heartbeat")
    response = client.get("/rq/")
    cookie = client.get_cookie("_csrf_token", path="/rq")
    assert cookie is not None and "SameSite=Strict" in response.headers["Set-Cookie"]
    assert client.post(f"/rq/job/{job.id}/delete").status_code == 400  # without the token
    answer = client.post(f"/rq/job/{job.id}/delete", headers={"X-CSRFToken": cookie.value})
    assert answer.status_code == 200
    assert not Job.exists(job.id, connection=app.extensions["redis"])


def test_dashboard_runs_only_its_own_inline_scripts(login_as, client):
    login_as("admin")
    response = client.get("/rq/")
    script_src = re.search(r"script-src ([^;]+)", response.headers["Content-Security-Policy"]).group(1)
    assert "'unsafe-inline'" not in script_src
    assert "'sha256-" in script_src


def test_job_page_escapes_what_a_job_carries(app, login_as, client):
    login_as("admin")
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description='<img src=x onerror="alert(1)">')
    page = client.get(f"/rq/0/view/job/{job.id}").get_data(as_text=True)
    assert "<%- d.description %>" in page and "<%- d.exc_info %>" in page
    assert "<%= d." not in page


def test_unknown_jobs_are_404_not_500(login_as, client):
    login_as("admin")
    assert client.get("/rq/0/view/job/nao-existe").status_code == 404
    assert client.get("/rq/0/data/job/nao-existe.json").status_code == 404


def test_refusals_under_rq_keep_the_strict_policy_and_get_no_token(login_as, client):
    login_as("operador")
    response = client.get("/rq/")
    assert response.status_code == 403
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert client.get_cookie("_csrf_token", path="/rq") is None
