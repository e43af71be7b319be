"""The job dashboard (/rq) in a real browser, as an admin: crafted links run no script, and the
dashboard still works (its tables are filled by its scripts, it paginates, its buttons send the
CSRF header) without a single CSP violation or script error."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from rq import Queue
from rq.job import Job

from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import QUEUES, enqueue, get_queue
from tests.e2e.test_login_and_menus import log_in

# Closes the string, the if and the handler rq-dashboard 0.9 wrote the queue name into
# (`$(this).val('{{ queue.name }}')` in jobs.js, not escaped), sets the flag at load, and reopens
# what it closed so that the whole script stays valid. No "/": it must fit one URL segment.
PAYLOAD = "');}});window.__pwned=1;$('x').on('y',function(){{$(this).val('"
# The same, plus markup for a page that would write the name as HTML.
HOSTILE_QUEUE = PAYLOAD + '"><img src=x onerror="window.__pwned=2">'
HOSTILE_TEXT = '<img src=x onerror="window.__pwned=3">'

# Every document records what its CSP refused (a refused inline script or style is a bug here).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def jobs_url(
    base: str, queue: str, registry: str = "queued", per_page: int = 8, order: str = "asc", page: int = 1
) -> str:
    return f"{base}/rq/0/view/jobs/{quote(queue, safe='')}/{registry}/{per_page}/{order}/{page}"


@pytest.fixture
def admin_page(page: Page, live_server, make_user):
    """The page, logged in as an admin, recording dialogs, script errors and CSP violations."""
    page.add_init_script(WATCH)
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    admin = make_user("admin")
    log_in(page, live_server, admin.username)
    expect(page).to_have_url(live_server + "/")
    return page


def assert_no_script_ran(page: Page) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []


def visit(page: Page, url: str):
    page.errors.clear()
    return page.goto(url)


def assert_clean(page: Page, redis_url: str) -> None:
    """Nothing refused by the CSP, no script error, no Redis address, and the way back."""
    assert_no_script_ran(page)
    assert page.evaluate("window.__violations") == []
    assert page.errors == []
    html = page.content()
    for address in (redis_url, "redis://", "unix://", ".sock"):
        assert address not in html
    expect(page.get_by_role("link", name="← Painel SVA")).to_have_attribute("href", "/")


def test_crafted_links_run_no_script_for_an_admin(admin_page: Page, live_server, app, redis_url):
    page = admin_page
    with app.app_context():
        connection = app.extensions["redis"]
        job = Queue(HOSTILE_QUEUE, connection=connection).enqueue(heartbeat, description=HOSTILE_TEXT)

    # A queue that does not exist, named by the link: 404, the name never reaches a script.
    for url in (
        jobs_url(live_server, PAYLOAD),
        jobs_url(live_server, "default", registry=PAYLOAD),
        f"{live_server}/rq/0/view/job/{quote(PAYLOAD, safe='')}",
        f"{live_server}/rq/0/view/job/{quote(HOSTILE_TEXT, safe='')}",
    ):
        response = visit(page, url)
        page.wait_for_load_state("load")
        assert_no_script_ran(page)
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()

    # A queue that does exist under that name: its page shows the name as text, and its job.
    response = visit(page, jobs_url(live_server, HOSTILE_QUEUE))
    assert response.status == 200
    expect(page.locator("#queue-name")).to_have_text(HOSTILE_QUEUE)
    row = page.locator("table#jobs tr[data-role=job]")
    expect(row).to_have_count(1)
    expect(row.locator(".description")).to_have_text(HOSTILE_TEXT)
    assert_clean(page, redis_url)

    # The queue list writes every queue name, this one too, as text.
    visit(page, f"{live_server}/rq/")
    expect(page.locator("table#queues td", has_text="window.__pwned=2")).to_have_text(HOSTILE_QUEUE)
    assert_clean(page, redis_url)

    # The job's page: its description is text, no element is made of it.
    visit(page, f"{live_server}/rq/0/view/job/{job.id}")
    expect(page.locator("#job-data .description-scroll")).to_have_text(HOSTILE_TEXT)
    expect(page.locator("#job-data [data-text=origin]")).to_have_text(HOSTILE_QUEUE)
    assert page.locator("#job-data img").count() == 0
    assert_clean(page, redis_url)


def test_the_dashboard_lists_paginates_and_acts_with_the_csrf_header(
    admin_page: Page, live_server, app, run_jobs, redis_url
):
    page = admin_page
    with app.app_context():
        connection = app.extensions["redis"]
        # One job that fails for real (a worker runs it), with markup in its exception text.
        get_queue("default", connection).enqueue(
            "builtins.int", HOSTILE_TEXT, description="Conversão", failure_ttl=3600
        )
        run_jobs()
        failed = get_queue("default", connection).failed_job_registry.get_job_ids()
        assert len(failed) == 1
        queued = [enqueue(heartbeat, queue="default", description=f"Heartbeat {n:02d}").id for n in range(12)]

    visit(page, f"{live_server}/rq/")
    default = page.locator("table#queues tr[data-role=queue]", has=page.locator("td", has_text=re.compile("^default$")))
    expect(default).to_have_count(1)
    expect(default.locator("td").nth(1)).to_have_text("12")
    expect(default.locator("td").nth(6)).to_have_text("1")
    assert_clean(page, redis_url)

    # The queued count opens the list: 8 a page, then the other 4 on page 2.
    default.locator("td").nth(1).get_by_role("link").click()
    expect(page).to_have_url(jobs_url(live_server, "default"))
    rows = page.locator("table#jobs tr[data-role=job]")
    expect(rows).to_have_count(8)
    expect(rows.first.locator(".description")).to_have_text("Heartbeat 00")
    expect(page.locator("#page-selection .page-item.active")).to_have_text("1")
    page.locator("#page-selection").get_by_role("link", name="2", exact=True).click()
    expect(page).to_have_url(jobs_url(live_server, "default", page=2))
    expect(rows).to_have_count(4)
    expect(rows.last.locator(".description")).to_have_text("Heartbeat 11")
    assert_clean(page, redis_url)

    # A job's page shows its fields; deleting it (confirmed) sends the CSRF header.
    rows.last.locator(".job_id a").click()
    expect(page).to_have_url(f"{live_server}/rq/0/view/job/{queued[-1]}")
    expect(page.locator("#job-data .description-scroll")).to_have_text("Heartbeat 11")
    expect(page.locator("#job-data [data-text=status]")).to_have_text("queued")
    expect(page.locator("#job-data [data-text=origin]")).to_have_text("default")
    assert_clean(page, redis_url)
    page.get_by_role("button", name="Apagar").click()
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.locator("#confirmation-modal").get_by_role("button", name="Sim").click()
    assert sent.value.url == f"{live_server}/rq/job/{queued[-1]}/delete"
    assert sent.value.headers.get("x-csrftoken")
    assert sent.value.response().status == 200
    expect(page).to_have_url(f"{live_server}/rq/")
    assert not Job.exists(queued[-1], connection=connection)

    # The failed registry: the exception is text; requeue sends the CSRF header and works.
    visit(page, jobs_url(live_server, "default", registry="failed"))
    row = page.locator("table#jobs tr[data-role=job]")
    expect(row).to_have_count(1)
    expect(row.locator("pre.exc_info")).to_contain_text(HOSTILE_TEXT)
    assert page.locator("table#jobs img").count() == 0
    assert_clean(page, redis_url)
    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        row.get_by_role("button", name="Reenfileirar").click()
    assert answered.value.status == 200 and answered.value.request.headers.get("x-csrftoken")
    expect(row).to_have_count(0)
    assert Job.fetch(failed[0], connection=connection).get_status() == "queued"

    # The workers page loads too, and the way back leads to the panel.
    visit(page, f"{live_server}/rq/0/view/workers")
    expect(page.locator("table#workers tbody tr")).to_have_count(1)
    expect(page.locator("table#workers tbody")).not_to_contain_text("Carregando")
    assert_clean(page, redis_url)
    page.get_by_role("link", name="← Painel SVA").click()
    expect(page).to_have_url(live_server + "/")


def test_the_workers_page_lists_a_running_worker(admin_page: Page, live_server, worker, redis_url):
    page = admin_page
    visit(page, f"{live_server}/rq/0/view/workers")
    row = page.locator("table#workers tr[data-role=worker]")
    expect(row).to_have_count(1, timeout=30_000)  # the page polls until the worker has registered
    expect(row.locator("td").nth(2)).to_have_text(", ".join(spec.name for spec in QUEUES))
    expect(page.locator("#workers-count")).to_have_text("1 worker registrado.")
    assert_clean(page, redis_url)
