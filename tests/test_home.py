"""Visão geral: the home page's numbers equal what the database holds, and each links to the
list behind it; the chart draws the snapshots of the last 90 days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from panel.domain import licences
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Invoice, ListTab, Operation, OperationStatus, ReguaRun, ReguaTrigger, Subscription
from tests.factories import CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act


def number(text: str) -> int:
    return int(text.replace(".", ""))


def test_the_overview_numbers_match_the_database_and_link_to_their_lists(app, login_as, client):
    tv, books = ittv_plan(app), skeelo_plan(app)
    contracts = []
    for index, (plan, then) in enumerate(
        [(tv, ()), (tv, ("block",)), (tv, ("suspend",)), (books, ()), (books, ("block",))]
    ):
        contract_id = make_contract(app, make_client(app, document=CPFS[index], name=f"Cliente {index}"), plan)
        for action in ("sync", *then):
            act(app, contract_id, action)
        contracts.append(contract_id)
    now = datetime.now(UTC)
    with app.app_context():
        today = local_today()
        operations = list(db.session.scalars(select(Operation).order_by(Operation.id)))
        # Two failures today, one two days ago (outside the 24 h).
        for operation, when in zip(
            operations[:3], (now, now - timedelta(hours=2), now - timedelta(days=2)), strict=True
        ):
            db.session.execute(
                update(Operation).where(Operation.id == operation.id).values(status="failed", updated_at=when)
            )
        db.session.add_all(
            [
                Invoice(
                    contract_id=contracts[0],
                    reference_month=date(2026, 1, 1),
                    due_date=today - timedelta(days=10),
                    amount=Decimal("39.90"),
                ),
                Invoice(
                    contract_id=contracts[1],
                    reference_month=date(2026, 1, 1),
                    due_date=today - timedelta(days=1),
                    amount=Decimal("1200.10"),
                ),
                Invoice(
                    contract_id=contracts[2], reference_month=date(2026, 1, 1), due_date=today, amount=Decimal("10.00")
                ),
                Invoice(
                    contract_id=contracts[3],
                    reference_month=date(2026, 1, 1),
                    due_date=today - timedelta(days=40),
                    amount=Decimal("5.00"),
                    paid_on=today,
                    paid_amount=Decimal("5.00"),
                ),
            ]
        )
        db.session.add(
            ReguaRun(
                day=today,
                rule_title="Bloqueio TV 15 dias",
                trigger=ReguaTrigger.cron,
                candidates=7,
                blocked=3,
                unblocked=1,
                skipped=2,
                requested_by_name="Régua",
                status="done",
            )
        )
        licences.take_snapshot(now)
    login_as("leitura")
    html = client.get("/").get_data(as_text=True)

    with app.app_context():
        real = {
            (platform_id, ListTab(tab)): count
            for platform_id, tab, count in db.session.execute(
                select(Subscription.platform_id, Subscription.list_tab, func.count()).group_by(
                    Subscription.platform_id, Subscription.list_tab
                )
            )
        }
        failed = db.session.scalar(
            select(func.count())
            .select_from(Operation)
            .where(Operation.status == OperationStatus.failed, Operation.updated_at >= now - timedelta(hours=24))
        )
        overdue_count, overdue_cents = db.session.execute(
            select(func.count(), func.sum(Invoice.amount)).where(Invoice.paid_on.is_(None), Invoice.due_date < today)
        ).one()
    rows = re.findall(r'data-testid="platform-counts" data-platform="(\d+)">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    for platform_id, row in rows:
        for param, tab in (
            ("ativos", ListTab.active),
            ("bloqueados", ListTab.blocked),
            ("cancelados", ListTab.inactive),
        ):
            link, shown = re.search(rf'data-testid="count-{param}" href="([^"]+)">([\d.]+)<', row).groups()
            assert number(shown) == real.get((int(platform_id), tab), 0)
            assert f"aba={param}" in link and f"plataforma={platform_id}" in link
            listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
            assert listed.count('data-testid="subscriber-row"') == number(shown)
    assert failed == 2
    failed_card = re.search(r'href="([^"]+)" data-testid="failed-operations">.*?fs-3[^>]*>([\d.]+)<', html, re.S)
    assert number(failed_card.group(2)) == failed
    failed_list = client.get(failed_card.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Últimas 24 horas" in failed_list and failed_list.count('data-testid="operation-row"') == failed
    assert overdue_count == 2 and overdue_cents == Decimal("1240.00")
    assert re.search(r'data-testid="overdue-count">2<', html) and "R$ 1.240,00" in html
    assert 'href="/financeiro/painel-do-cliente/titulos?aba=vencidos"' in html or "aba=vencidos" in html
    assert "Bloqueio TV 15 dias" in html and "3 bloqueados" in html
    assert html.count('data-testid="chart-line"') == 2
    # The background box speaks to operators: the requests still on their way to the platforms.
    with app.app_context():
        waiting = db.session.scalar(
            select(func.count()).select_from(Operation).where(Operation.status.in_(("pending", "queued", "running")))
        )
    assert waiting > 0 and re.search(rf'data-testid="waiting-operations">{waiting}<', html)
    box = html.split('data-testid="machinery"', 1)[1].split("</ul>", 1)[0]
    assert "Pedidos aguardando" in box and "Processadores ativos" in box
    assert "Processamento em segundo plano" in html
    for engineers_word in ("Fila (Redis)", "Workers", "Redis"):
        assert engineers_word not in box


def test_an_empty_panel_shows_zeros_and_no_chart(app, login_as, client):
    login_as("leitura")
    html = client.get("/").get_data(as_text=True)
    assert "Nenhuma plataforma cadastrada" in html and "Sem fotos diárias ainda" in html
    assert "Nenhuma execução ainda" in html


def test_the_failures_card_counts_up_to_its_cap(app):
    from panel.domain import overview

    plan = ittv_plan(app)
    for index in range(3):
        act(app, make_contract(app, make_client(app, document=CPFS[index], name=f"C {index}"), plan), "sync")
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(update(Operation).values(status="failed", updated_at=now))
        assert overview.failed_since(now - timedelta(hours=24), cap=2) == (2, True)
        assert overview.failed_since(now - timedelta(hours=24), cap=3) == (3, False)
        assert overview.failed_since(now + timedelta(seconds=1)) == (0, False)
