"""Licenças: the month's billable subscribers from the daily snapshots, by the platform's billing
mode, with days and months in São Paulo; the month's movement; the value to pay; the page, the
subscribers behind each number and the CSV exports."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from panel.domain import licences
from panel.extensions import db
from panel.models import BillingMode, LicenceSnapshot, Platform
from tests.factories import CPFS, ITTV_PRODUCTS, make_client, make_contract, make_plan_in_db, make_platform
from tests.provisioning import act

LICENCES = "/integradores/licencas/licencas"


def ittv_contracts(app, count: int) -> tuple[int, list[int]]:
    platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
    plan_id = make_plan_in_db(app, platform_id, "TV", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"))
    contracts = []
    for number in range(count):
        client_id = make_client(app, document=CPFS[number], name=f"Cliente {number}", email=f"c{number}@example.com")
        contract_id = make_contract(app, client_id, plan_id)
        act(app, contract_id, "sync")
        contracts.append(contract_id)
    return platform_id, contracts


def set_billing(app, platform_id: int, mode: BillingMode, day: int | None = None, price: str | None = None) -> None:
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        platform.billing_mode, platform.snapshot_day = mode, day
        platform.unit_price = Decimal(price) if price else None


def billable(app, platform_id: int, month: date) -> int:
    with app.app_context():
        return licences.billable_count(db.session.get(Platform, platform_id), month)


def snapshot_at(app, moment: datetime) -> licences.SnapshotResult:
    with app.app_context():
        return licences.take_snapshot(moment)


def test_the_ledger_splits_months_at_midnight_in_sao_paulo(app):
    platform_id, (first, second, third) = ittv_contracts(app, 3)
    # 23:30 on 31 January in São Paulo is already 1 February in UTC: still January's snapshot.
    january_31 = snapshot_at(app, datetime(2027, 2, 1, 2, 30, tzinfo=UTC))
    assert january_31.day == date(2027, 1, 31) and january_31.active == 3
    act(app, first, "block")
    act(app, second, "suspend")
    # 00:30 on 1 February in São Paulo: February's first snapshot.
    february_1 = snapshot_at(app, datetime(2027, 2, 1, 3, 30, tzinfo=UTC))
    assert february_1.day == date(2027, 2, 1) and february_1.active == 1

    january, february = date(2027, 1, 1), date(2027, 2, 1)
    assert billable(app, platform_id, january) == 3  # active at some moment of January
    assert billable(app, platform_id, february) == 1
    set_billing(app, platform_id, BillingMode.snapshot_day, 31 - 3)  # a day with no snapshot: nobody
    assert billable(app, platform_id, january) == 0
    set_billing(app, platform_id, BillingMode.snapshot_day, 1, price="4.90")
    assert billable(app, platform_id, february) == 1
    with app.app_context():
        [line] = licences.ledger(february)
        assert line.amount == Decimal("4.90") and line.snapshots == 1 and line.mode_label == "Foto do dia 1"
        snapshots = {
            row.day: (row.active, row.blocked, row.inactive) for row in db.session.scalars(db.select(LicenceSnapshot))
        }
    assert snapshots == {date(2027, 1, 31): (3, 0, 0), date(2027, 2, 1): (1, 1, 1)}
    del third


def test_a_subscriber_active_only_between_two_snapshots_is_billed_in_that_month(app):
    platform_id, (first,) = ittv_contracts(app, 1)
    act(app, first, "cancel")  # made active and cancelled before any snapshot
    now = datetime.now(UTC)
    result = snapshot_at(app, now)
    assert result.active == 0
    month = licences.month_start(result.day)
    assert billable(app, platform_id, month) == 1  # the change log says it was active for a moment
    snapshot_at(app, now + timedelta(seconds=1))  # taking it again changes nothing
    assert billable(app, platform_id, month) == 1


def test_the_months_movement_counts_each_change_once(app):
    platform_id, (first, second, third) = ittv_contracts(app, 3)
    act(app, first, "block")
    act(app, first, "unblock")
    act(app, second, "partial_block")
    act(app, second, "block")  # blocked to blocked: the same tab, no movement
    act(app, third, "suspend")
    with app.app_context():
        month = licences.month_start(licences.local_day(datetime.now(UTC)))
        movement = licences.movement_counts([platform_id], month)[platform_id]
        assert movement == {"novos": 3, "bloqueados": 2, "desbloqueados": 1, "cancelados": 1}
        assert licences.movement_counts([platform_id], licences.next_month(month))[platform_id] == dict.fromkeys(
            licences.MOVEMENTS, 0
        )


def test_the_page_links_each_number_to_its_subscribers_and_exports_csv(app, login_as, client):
    platform_id, contracts = ittv_contracts(app, 2)
    set_billing(app, platform_id, BillingMode.any_moment, price="1234.50")
    act(app, contracts[0], "block")
    result = snapshot_at(app, datetime.now(UTC))
    mes = f"{result.day:%Y-%m}"
    login_as("leitura")

    html = client.get(f"{LICENCES}?mes={mes}").get_data(as_text=True)
    assert re.search(r'data-testid="billable" href="([^"]+)">2<', html)
    assert "R$ 2.469,00" in html  # 2 × R$ 1.234,50
    assert "sem conciliação" in html
    entries_url = re.search(r'data-testid="movement-bloqueados" href="([^"]+)">1<', html).group(1).replace("&amp;", "&")
    entries = client.get(entries_url).get_data(as_text=True)
    assert re.findall(r'data-testid="entry-row" data-contract="(\d+)"', entries) == [str(contracts[0])]

    exported = client.get(f"{LICENCES}/{platform_id}/cobrados.csv?mes={mes}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    frame = pd.read_csv(io.BytesIO(exported.data), sep=";", encoding="utf-8-sig", dtype=str)
    assert sorted(frame["Contrato"].astype(int)) == sorted(contracts)
    assert set(frame["CPF/CNPJ"]) == {"529.982.247-25", "111.444.777-35"}

    ledger = client.get(f"{LICENCES}.csv?mes={mes}")
    frame = pd.read_csv(io.BytesIO(ledger.data), sep=";", encoding="utf-8-sig", thousands=".", decimal=",")
    row = frame.iloc[0]
    assert row["Plataforma"] == "ITTV demo" and row["Assinantes cobrados"] == 2 and row["Bloqueados"] == 1
    assert row["Valor a pagar (R$)"] == pytest.approx(2469.00)


def test_a_bad_month_falls_back_to_this_month_with_a_message(app, login_as, client):
    login_as("leitura")
    response = client.get(f"{LICENCES}?mes=2026-13")
    assert response.status_code == 200
    assert "Mês inválido" in response.get_data(as_text=True)
    assert client.get(f"{LICENCES}/999/cobrados").status_code == 404
    assert client.get(f"{LICENCES}/1/outra-coisa").status_code == 404


def test_configuracoes_sets_the_unit_price_and_the_billing_mode(app, login_as, client):
    from tests.html_forms import submit

    platform_id = make_platform(app, "skeelo")
    login_as("admin")
    edit = f"/configuracoes/plataformas/{platform_id}/editar"
    form = client.get(edit).get_data(as_text=True)
    assert "Preço por assinante ativo (R$)" in form and "Foto em um dia do mês" in form

    refused = submit(client, edit, form, {"billing_mode": "snapshot_day", "snapshot_day": "30", "unit_price": "4,9x"})
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Informe um dia de 1 a 28." in text and "Número inválido" in text

    saved = submit(client, edit, form, {"billing_mode": "snapshot_day", "snapshot_day": "5", "unit_price": "1.234,56"})
    assert saved.status_code == 302
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert (platform.unit_price, platform.billing_mode, platform.snapshot_day) == (
            Decimal("1234.56"),
            BillingMode.snapshot_day,
            5,
        )
    form = client.get(edit).get_data(as_text=True)
    assert 'value="1.234,56"' in form
    # Without a day the snapshot mode is refused by the domain, with the field named.
    refused = submit(client, edit, form, {"billing_mode": "snapshot_day", "snapshot_day": ""})
    assert "Informe o dia da foto: de 1 a 28." in refused.get_data(as_text=True)
    saved = submit(client, edit, form, {"billing_mode": "any_moment", "snapshot_day": "", "unit_price": ""})
    assert saved.status_code == 302
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        assert (platform.unit_price, platform.billing_mode, platform.snapshot_day) == (
            None,
            BillingMode.any_moment,
            None,
        )


def test_the_demo_months_ledger_exports_to_csv_that_pandas_reads_right(app, runner, login_as, client):
    from panel.demo import demo_subscribers

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        today = licences.local_day(datetime.now(UTC))
    month = licences.month_start(licences.month_start(today) - timedelta(days=1))  # the last full month
    first_ago, last_ago = (today - month).days, (today - (licences.next_month(month) - timedelta(days=1))).days
    expected: dict[str, dict[str, int]] = {}
    for subscriber in demo_subscribers():
        line = expected.setdefault(subscriber.kind, dict.fromkeys(("billable", "novos", "bloqueados", "cancelados"), 0))
        in_month = last_ago <= subscriber.started  # started by the month's end…
        if in_month and (subscriber.changed is None or subscriber.changed <= first_ago):  # …not gone before it
            line["billable"] += 1
        line["novos"] += last_ago <= subscriber.started <= first_ago
        if subscriber.changed is not None and last_ago <= subscriber.changed <= first_ago:
            line["bloqueados" if subscriber.to == "block" else "cancelados"] += 1
    login_as("leitura")

    response = client.get(f"{LICENCES}.csv?mes={month:%Y-%m}")
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())
    frame = pd.read_csv(io.BytesIO(response.data), sep=";", encoding="utf-8-sig", thousands=".", decimal=",")
    assert list(frame.columns) == [
        "Mês",
        "Plataforma",
        "Código",
        "Contagem",
        "Assinantes cobrados",
        "Novos",
        "Bloqueados",
        "Desbloqueados ou reativados",
        "Cancelados ou suspensos",
        "Preço por assinante (R$)",
        "Valor a pagar (R$)",
        "Contagem da plataforma (última conciliação)",
        "Conciliação em",
        "Dias com foto no mês",
    ]
    by_code = {row["Código"]: row for _, row in frame.iterrows()}
    days_in_month = (licences.next_month(month) - month).days
    for kind, code in (("ittv", "ITTV"), ("skeelo", "SKEELO")):
        row = by_code[code]
        assert row["Mês"] == f"{month:%m/%Y}"
        assert row["Assinantes cobrados"] == expected[kind]["billable"] > 0
        assert row["Novos"] == expected[kind]["novos"]
        assert row["Bloqueados"] == expected[kind]["bloqueados"]
        assert row["Cancelados ou suspensos"] == expected[kind]["cancelados"]
        assert row["Desbloqueados ou reativados"] == 0
        assert row["Dias com foto no mês"] == days_in_month
    # The home page's chart draws the same snapshots.
    html = client.get("/").get_data(as_text=True)
    assert html.count('data-testid="chart-line"') == 2


def test_the_cron_jobs_take_one_snapshot_a_day_and_compact_the_counters(app):
    import importlib

    from panel.jobs.licences import compact_tab_counts, licence_snapshot_tick

    ittv_contracts(app, 2)
    with app.app_context():
        assert licence_snapshot_tick().startswith("snapshot ")
        assert licence_snapshot_tick() == "taken"  # the day's is there: nothing more today
        assert compact_tab_counts() > 0
        assert db.session.scalar(db.select(db.func.count()).select_from(LicenceSnapshot)) == 1
        importlib.import_module("panel.jobs.cron_config")  # both are registered there


def test_a_platform_with_snapshots_but_no_plans_can_still_be_removed(app):
    from panel.domain import platforms as platforms_domain
    from tests.factories import SYSTEM

    platform_id = make_platform(app, "skeelo")
    snapshot_at(app, datetime.now(UTC))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LicenceSnapshot)) == 1
        platforms_domain.delete_platform(SYSTEM, db.session.get(Platform, platform_id))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(LicenceSnapshot)) == 0


def test_an_update_that_leaves_the_billing_settings_out_keeps_them(app):
    from panel.domain import platforms as platforms_domain
    from tests.factories import SYSTEM

    platform_id = make_platform(app, "skeelo")
    set_billing(app, platform_id, BillingMode.snapshot_day, 10, price="2.50")
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        platforms_domain.update_platform(
            SYSTEM,
            platform,
            code=platform.code,
            name="Outro nome",
            server_url=platform.server_url,
            token=None,
            concurrency_limit=4,
            active=True,
        )
        assert (platform.unit_price, platform.billing_mode, platform.snapshot_day) == (
            Decimal("2.50"),
            BillingMode.snapshot_day,
            10,
        )
