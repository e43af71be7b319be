"""rq-dashboard at /rq: admins only (see test_access_control), and hardened."""

from __future__ import annotations

import re
from traceback import format_exc
from urllib.parse import quote

from rq.results import Result

from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import enqueue
from tests.conftest import PROJECT_ROOT


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


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
HOSTILE_QUEUE = 'x\');window.__pwned=1;(\'"><img src=x onerror="window.__pwned=2">'


def dashboard_pages(app) -> list[str]:
    """One URL of each of the dashboard's pages, on a queue and a job that exist."""
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description="Heartbeat")
    return [
        "/rq/",
        "/rq/0/view/workers",
        "/rq/0/view/jobs",
        "/rq/0/view/jobs/default/failed/8/dsc/1",
        f"/rq/0/view/job/{job.id}",
    ]


def test_dashboard_pages_run_no_inline_script(app, login_as, client):
    """Every script is a file of ours or of the package: nothing in a page is script, so the CSP
    is the panel's own (no 'unsafe-inline', no hash, no nonce, no eval)."""
    login_as("admin")
    for url in dashboard_pages(app):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        scripts = SCRIPT_TAG.findall(html)
        assert scripts, url
        for attributes, body in scripts:
            assert re.search(r'\bsrc="/(static|rq/static)/[\w./-]+\.js"', attributes), (url, attributes)
            assert body.strip() == "", url
        script_src = re.search(r"script-src ([^;]+)", response.headers["Content-Security-Policy"]).group(1)
        assert script_src == "'self'", url
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], url


def test_dashboard_shows_no_redis_address_and_leads_back_to_the_panel(app, login_as, client, redis_url):
    login_as("admin")
    for url in dashboard_pages(app):
        html = client.get(url).get_data(as_text=True)
        for address in (redis_url, "redis://", "unix://", ".sock"):
            assert address not in html, (url, address)
        assert '<a class="navbar-brand" href="/" data-testid="back-to-panel">← Painel SVA</a>' in html, url
        assert ">Redis do painel</span>" in html, url


def test_a_failed_jobs_traceback_shows_no_filesystem_path_nor_the_redis_address(app, login_as, client, redis_url):
    try:
        raise ConnectionError(f"Error 2 connecting to {redis_url}: /srv/painel/instance/redis.sock")
    except ConnectionError:
        traceback = format_exc()
    assert str(PROJECT_ROOT) in traceback  # the test's own file, by its absolute path
    login_as("admin")
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description="Heartbeat")
        Result.create_failure(job, ttl=60, exc_string=traceback)
    for url in (f"/rq/0/data/job/{job.id}.json", "/rq/0/data/jobs/default/queued/8/asc/1.json"):
        answer = client.get(url).get_json()
        shown = answer["exc_info"] if "exc_info" in answer else answer["jobs"][0]["exc_info"]
        assert 'File "tests/test_job_dashboard.py", line' in shown, shown
        assert str(PROJECT_ROOT) not in shown and "/srv/" not in shown and redis_url not in shown, shown
        assert "connecting to Redis do painel: …/redis.sock" in shown, shown


# Links an attacker could send an admin, and odd ids: each names something that does not exist.
CRAFTED = [
    "/rq/0/view/jobs/" + quote("x');window.__pwned=1;('", safe="") + "/queued/8/asc/1",
    "/rq/0/data/jobs/" + quote("x');window.__pwned=1;('", safe="") + "/queued/8/asc/1.json",
    "/rq/0/view/jobs/nao-existe/queued/8/asc/1",
    "/rq/0/view/jobs/default/" + quote("queued'</script>", safe="") + "/8/asc/1",
    "/rq/0/data/jobs/default/bogus/8/asc/1.json",
    "/rq/0/view/jobs/default/queued/8/" + quote("asc');alert(1);('", safe="") + "/1",
    "/rq/0/view/jobs/default/queued/0/asc/1",
    "/rq/0/view/jobs/default/queued/9999/asc/1",
    "/rq/0/data/jobs/default/queued/0/asc/1.json",
    "/rq/0/data/jobs/default/queued/x/asc/1.json",
    "/rq/0/data/jobs/default/queued/8/asc/0.json",
    "/rq/0/view/jobs/default/queued/8/asc/0",
    "/rq/0/view/job/nao-existe",
    "/rq/0/view/job/" + quote("x');window.__pwned=1;('", safe=""),
    "/rq/0/view/job/" + quote("<script>alert(1)</script>", safe=""),
    "/rq/0/view/job/" + quote("ção", safe=""),
    "/rq/0/view/job/" + quote("a b", safe=""),
    "/rq/0/view/job/" + quote("\x00", safe=""),
    "/rq/0/view/job/" + "a" * 300,
    "/rq/0/data/job/" + quote("ção", safe="") + ".json",
    "/rq/0/data/job/nao-existe.json",
    "/rq/7/view/jobs/default/queued/8/asc/1",
]


def test_crafted_dashboard_links_answer_404_before_rendering(login_as, client):
    login_as("admin")
    answers = {url: client.get(url).status_code for url in CRAFTED}
    assert answers == dict.fromkeys(CRAFTED, 404)


def test_dashboard_actions_on_what_does_not_exist_answer_404(app, login_as, client):
    login_as("admin")
    client.get("/rq/")
    token = {"X-CSRFToken": client.get_cookie("_csrf_token", path="/rq").value}
    for url in (
        "/rq/queue/nao-existe/compact",
        "/rq/queue/nao-existe/queued/empty",
        "/rq/queue/default/bogus/empty",
        "/rq/requeue/nao-existe",
        "/rq/job/" + quote("ção", safe="") + "/delete",
        "/rq/job/" + quote("a b", safe="") + "/requeue",
        "/rq/job/nao-existe/requeue",
    ):
        assert client.post(url, headers=token).status_code == 404, url


def test_an_existing_queue_with_a_hostile_name_is_only_text(app, login_as, client):
    """A queue that exists in Redis under a name made to break out of a script or an attribute:
    its page renders, with the name escaped in HTML and nowhere in a script."""
    from rq import Queue

    login_as("admin")
    with app.app_context():
        Queue(HOSTILE_QUEUE, connection=app.extensions["redis"]).enqueue(heartbeat, description="Heartbeat")
    response = client.get("/rq/0/view/jobs/" + quote(HOSTILE_QUEUE, safe="") + "/queued/8/asc/1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HOSTILE_QUEUE not in html and "<img" not in html and "window.__pwned" in html
    assert 'data-queue="x&#39;);window.__pwned=1;(&#39;&#34;&gt;&lt;img' in html
    assert all(body.strip() == "" for _, body in SCRIPT_TAG.findall(html))
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    data = client.get("/rq/0/data/jobs/" + quote(HOSTILE_QUEUE, safe="") + "/queued/8/asc/1.json").get_json()
    assert data["name"] == HOSTILE_QUEUE and len(data["jobs"]) == 1


def test_job_page_puts_what_a_job_carries_in_as_text(app, login_as, client):
    login_as("admin")
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description='<img src=x onerror="alert(1)">')
    page = client.get(f"/rq/0/view/job/{job.id}").get_data(as_text=True)
    # Filled by static/rq/job.js with textContent; no HTML-building template is left.
    assert 'data-text="description"' in page and 'data-text="exc_info"' in page
    assert "<%" not in page and "<img" not in page
    assert client.get(f"/rq/0/data/job/{job.id}.json").get_json()["description"] == '<img src=x onerror="alert(1)">'


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
