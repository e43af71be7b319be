"""The tabs' counts come from counters the database keeps (triggers on subscriptions), and they
equal a real COUNT whoever wrote the subscriptions: the domain's actions, a bulk insert, a
hand-made UPDATE — before and after the counters are compacted; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from panel.domain import tab_counts
from panel.extensions import db
from panel.models import Contract, ListTab, Subscription, SubscriptionTabDelta
from tests.factories import (
    CPFS,
    ITTV_PRODUCTS,
    SKEELO_PRODUCTS,
    make_client,
    make_contract,
    make_plan_in_db,
    make_platform,
)
from tests.provisioning import act


def real_counts() -> dict[int, dict[ListTab, int]]:
    found: dict[int, dict[ListTab, int]] = {}
    query = select(Subscription.platform_id, Subscription.list_tab, func.count()).group_by(
        Subscription.platform_id, Subscription.list_tab
    )
    for platform_id, tab, number in db.session.execute(query):
        found.setdefault(platform_id, dict.fromkeys(ListTab, 0))[ListTab(tab)] = number
    return found


def assert_counts_right(app) -> None:
    with app.app_context():
        expected = real_counts()
        got = {pid: by_tab for pid, by_tab in tab_counts.counts().items() if any(by_tab.values())}
        assert got == expected


def bulk_subscriptions(app, platform_id: int, contract_ids: list[int], tabs: list[str]) -> None:
    """Rows inserted the way a bulk load does (no ORM, no domain)."""
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            insert(Subscription.__table__),
            [
                {
                    "contract_id": contract_id,
                    "platform_id": platform_id,
                    "external_ref": f"bulk-{platform_id}-{number}",
                    "desired_status": "active" if tab == "active" else "blocked",
                    "list_tab": tab,
                    "created_at": now,
                    "updated_at": now,
                }
                for number, (contract_id, tab) in enumerate(zip(contract_ids, tabs, strict=True))
            ],
        )


def test_counts_follow_the_domain_bulk_loads_and_raw_updates(app):
    ittv = make_platform(app, "ittv", ITTV_PRODUCTS)
    skeelo = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    ittv_plan = make_plan_in_db(app, ittv, "TV", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"))
    skeelo_plan = make_plan_in_db(app, skeelo, "Leitura", codes=("SKEELO-EBOOKS",))
    contracts = []
    for number, document in enumerate(CPFS[:4]):
        client = make_client(app, document=document, email=f"c{number}@example.com.br", name=f"Cliente {number}")
        contracts.append(make_contract(app, client, ittv_plan if number % 2 == 0 else skeelo_plan))
    for contract_id in contracts:
        act(app, contract_id, "sync")
    assert_counts_right(app)

    act(app, contracts[0], "block")
    act(app, contracts[1], "block")
    act(app, contracts[2], "suspend")
    act(app, contracts[1], "unblock")
    act(app, contracts[3], "cancel")
    assert_counts_right(app)
    with app.app_context():
        assert tab_counts.counts([ittv])[ittv] == {ListTab.active: 0, ListTab.blocked: 1, ListTab.inactive: 1}

    with app.app_context():
        client_id = db.session.get(Contract, contracts[1]).client_id
    more = [make_contract(app, client_id, skeelo_plan) for _ in range(10)]
    bulk_subscriptions(app, skeelo, more, ["active"] * 5 + ["blocked"] * 3 + ["inactive"] * 2)
    with app.app_context():  # a hand-made UPDATE, as a script would do
        db.session.execute(
            update(Subscription).where(Subscription.external_ref.like("bulk-%")).values(list_tab="inactive")
        )
    assert_counts_right(app)

    with app.app_context():
        rows_before = db.session.scalar(select(func.count()).select_from(SubscriptionTabDelta))
        removed = tab_counts.compact()
        rows_after = db.session.scalar(select(func.count()).select_from(SubscriptionTabDelta))
    assert removed > 0 and rows_after < rows_before
    assert rows_after <= 6  # one per platform and non-empty tab at most
    assert_counts_right(app)

    act(app, contracts[0], "unblock")  # and counting goes on after compaction
    assert_counts_right(app)
    with app.app_context():
        assert tab_counts.compact() >= 0
        assert tab_counts.tab_totals([ittv, skeelo]) == {ListTab.active: 2, ListTab.blocked: 0, ListTab.inactive: 12}
    assert_counts_right(app)


def test_compacting_nothing_is_harmless(app):
    with app.app_context():
        assert tab_counts.compact() == 0
        assert tab_counts.counts() == {}


def tab_badges(html: str) -> dict[str, int]:
    return {
        tab: int(number.replace(".", ""))
        for tab, number in re.findall(r'data-testid="tab-count-(\w+)"[^>]*>([\d.]+)<', html)
    }


def test_the_tabs_show_their_counts_and_the_searchs_counts(app, login_as, client):
    from tests.factories import ittv_plan, skeelo_plan

    plan = ittv_plan(app)
    for number, (document, then) in enumerate(
        [(CPFS[0], ()), (CPFS[1], ("partial_block",)), (CPFS[2], ("block",)), (CPFS[3], ("suspend",))]
    ):
        contract_id = make_contract(app, make_client(app, document=document, name=f"Ana {number}"), plan)
        for action in ("sync", *then):
            act(app, contract_id, action)
    skeelo_contract = make_contract(app, make_client(app, document=CPFS[4], name="Bia Leitora"), skeelo_plan(app))
    act(app, skeelo_contract, "sync")
    login_as("leitura")

    assert tab_badges(client.get("/integradores/tv/clientes").get_data(as_text=True)) == {
        "ativos": 1,
        "bloqueados": 2,
        "cancelados": 1,
    }
    assert tab_badges(client.get("/integradores/licencas/assinantes?aba=bloqueados").get_data(as_text=True)) == {
        "ativos": 1,
        "bloqueados": 0,
        "cancelados": 0,
    }
    searched = client.get(f"/integradores/tv/clientes?q={CPFS[1]}").get_data(as_text=True)
    assert tab_badges(searched) == {"ativos": 0, "bloqueados": 1, "cancelados": 0}
