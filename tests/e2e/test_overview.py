"""Visão geral and Licenças in a real browser, on the demo data: the home page's counts and chart,
a count followed to its list, the Licenças ledger of last month and its CSV download."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from panel.domain import licences
from panel.extensions import db
from panel.models import Platform
from tests.e2e.test_login_and_menus import log_in, open_menu


def test_the_overview_and_the_licences_ledger_on_the_demo_data(page: Page, live_server, make_user, runner, app):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    reader = make_user("leitura")
    log_in(page, live_server, reader.username)

    expect(page.get_by_test_id("active-chart")).to_be_visible()
    expect(page.get_by_test_id("chart-line")).to_have_count(2)
    first_row = page.get_by_test_id("platform-counts").first
    active = first_row.get_by_test_id("count-ativos")
    shown = active.inner_text()
    active.click()
    expect(page).to_have_url(re.compile(r"aba=ativos&plataforma=\d+"))
    expect(page.get_by_test_id("tab-count-ativos")).to_have_text(shown)

    open_menu(page, "Integradores").get_by_role("link", name="Licenças", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Licenças")
    with app.app_context():
        today = licences.local_day(datetime.now(UTC))
    last_month = licences.month_start(licences.month_start(today) - timedelta(days=1))
    page.get_by_label("Mês").fill(f"{last_month:%Y-%m}")
    page.get_by_role("button", name="Ver mês").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{last_month:%m/%Y}")
    with app.app_context():
        demo_platforms = db.session.scalar(select(func.count()).select_from(Platform))
    expect(page.get_by_test_id("ledger-row")).to_have_count(demo_platforms)  # one per platform
    with page.expect_download() as download:
        page.get_by_test_id("ledger-csv").click()
    assert download.value.suggested_filename == f"licencas-{last_month:%Y-%m}.csv"
