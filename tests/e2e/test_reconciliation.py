"""*Conciliação* in a real browser, with a real worker and the platforms' sandboxes (J3 step 6): a
subscriber edited at the platform by hand (the sandbox's out-of-band edit) shows up after
*Conciliar agora*, classified right; *Corrigir* puts the platform back to what the contract says,
with a history line; *Aceitar* with a reason adopts the platform's state, audited — for ITTV and
Skeelo."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import AuditEvent, Subscription
from tests.e2e.test_integradores import WORKER_TIMEOUT, platform_record, synced_contract
from tests.e2e.test_login_and_menus import log_in, open_menu
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CNPJS, CPFS
from tests.processes import wait_until
from tests.provisioning import history, platform_at

# Per platform: the record's key field and our value for it, and its words for active / blocked.
PLATFORMS = {
    "ittv": {"document": CPFS[0], "key": "cpf", "active": "ACTIVE", "blocked": "INACTIVE"},
    "skeelo": {"document": CNPJS[0], "key": "document", "active": "active", "blocked": "inactive"},
}


def open_reconciliation(page: Page, platform_name: str) -> None:
    open_menu(page, "Integradores").get_by_role("link", name="Conciliação").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conciliação")
    page.get_by_role("link", name=platform_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(platform_name)


def reconcile_now(page: Page) -> None:
    page.get_by_test_id("reconcile-now").click()
    expect(flash(page, "Conciliação com")).to_be_visible()


def pending_row(page: Page, kind: str):
    return page.locator(f'tr[data-testid="difference-row"][data-kind="{kind}"]').filter(has_text="pendente")


def record_key(sandbox, record: dict) -> str:
    return record["_id"] if sandbox.kind == "ittv" else record["external_id"]


@pytest.mark.parametrize("kind", ["ittv", "skeelo"])
def test_j3_a_drift_made_at_the_platform_is_found_corrected_and_accepted(
    app, page: Page, live_server, make_user, sandbox_for, worker, kind
):
    words = PLATFORMS[kind]
    setup = platform_at(app, sandbox_for(kind))
    contract_id = synced_contract(app, setup, document=words["document"], name="Maria da Silva")
    record = platform_record(setup.sandbox, words["key"], words["document"], status=words["active"])
    wait_until(
        lambda: _remote_status(app, contract_id) == "active", timeout=WORKER_TIMEOUT / 1000, message="sync confirmed"
    )
    with app.app_context():
        platform_name = db.session.scalar(
            db.select(Subscription).where(Subscription.contract_id == contract_id)
        ).platform.name
    admin = make_user("admin", name="Ana Admin")

    # Someone blocks the subscriber in the platform's own portal.
    setup.sandbox.edit(record_key(setup.sandbox, record), status=words["blocked"])
    log_in(page, live_server, admin.username)
    open_reconciliation(page, platform_name)
    reconcile_now(page)
    expect(page.get_by_test_id("count-blocked_there")).to_have_text("1", timeout=WORKER_TIMEOUT)
    drift = pending_row(page, "blocked_there")
    expect(drift).to_contain_text(f"Contrato {contract_id}")
    expect(drift.get_by_test_id("remote")).to_contain_text("Inativo")  # the platform's code in our words

    # Corrigir: the platform goes back to what the contract says, and the history says why.
    press_and_confirm(page, "Corrigir", "Corrigir", within=drift)
    expect(flash(page, "1 diferença corrigida")).to_be_visible()
    platform_record(setup.sandbox, words["key"], words["document"], status=words["active"])
    assert any(
        actor == "Ana Admin" and asked.startswith("Conciliação: bloqueado lá, ativo aqui")
        for actor, asked, _answer in history(app, contract_id)
    )

    # Blocked at the platform again; this time the provider agrees: Aceitar, with a reason.
    setup.sandbox.edit(record_key(setup.sandbox, record), status=words["blocked"])
    reconcile_now(page)
    drift = pending_row(page, "blocked_there")
    expect(drift).to_have_count(1, timeout=WORKER_TIMEOUT)
    drift.get_by_role("link", name="Aceitar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aceitar a situação")
    page.get_by_test_id("accept-submit").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("Informe o motivo")
    page.get_by_label("Motivo").fill("Cliente pediu o bloqueio no portal")
    page.get_by_test_id("accept-submit").click()
    expect(flash(page, "1 diferença aceita")).to_be_visible()
    expect(page.get_by_test_id("resolution").filter(has_text="aceito")).to_have_count(1)
    assert _remote_status(app, contract_id) == "blocked"
    with app.app_context():
        audited = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contract.reconciliation_accept"))
        assert audited.actor_name == "Ana Admin" and "Cliente pediu o bloqueio no portal" in audited.summary


def _remote_status(app, contract_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(db.select(Subscription.remote_status).where(Subscription.contract_id == contract_id))
