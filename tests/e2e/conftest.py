"""Browser fixtures: the test app on a real socket, and Debian's Chromium driven by Playwright.

Nothing is downloaded: Playwright launches /usr/bin/chromium (``apt-get install chromium``). Without
it these tests are skipped on a workstation and fail in CI, where they must run.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.e2e import audit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--lang=pt-BR",
]
E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = E2E_DIR.parents[1] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app served over HTTP on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def worker(panel_env):
    """A real `flask worker` process (RQ's forking worker) on the test's database and Redis."""
    from tests.processes import start_flask, stop

    process = start_flask(panel_env, "worker")
    yield process
    stop(process)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: apt-get install chromium to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(request, browser, live_server):
    """A fresh browser context (no cookies) and page per test. It depends on live_server so that
    it is closed, with its connections, before the server stops. A failing test leaves a
    screenshot under test-artifacts/. After a test that passed, every page it visited is audited
    (tests/e2e/audit.py: axe-core at 1366 and 390 px, the phone width, the words) in the same
    context, and a problem fails the test (at its teardown)."""
    context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    visited = audit.Recorder(live_server)
    visited.attach(page)
    try:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.passed:
            audit.judge(audit.audit(context, visited.urls), request.node.nodeid)
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            try:
                page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"), full_page=True)
            except Exception as error:  # a screenshot is a courtesy; never hide the real failure
                print(f"could not save a screenshot: {error}")
        context.close()
