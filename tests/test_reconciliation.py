"""*Conciliação* through the real parts: contracts synced to real sandboxes by the real engine,
subscribers edited at the sandbox out of band (as someone at the platform's portal would), a run
carried out by a real worker, and the actions on what it found."""

from __future__ import annotations

import pytest
from validate_docbr import CPF

from panel.domain import Actor, reconciliation
from panel.extensions import db
from panel.models import (
    AuditEvent,
    ContractStatus,
    DifferenceKind,
    Operation,
    Platform,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationTrigger,
    Subscription,
)
from tests.factories import CPFS, make_client, make_contract
from tests.provisioning import act, history, platform_at, subscription

SYSTEM = Actor.system("Testes")
KINDS = ["ittv", "skeelo"]
# What each platform calls active and blocked, and another package than the plan's.
WORDS = {
    "ittv": {"active": "ACTIVE", "blocked": "INACTIVE", "field": "product", "other": "PLAYHUB-ESPORTES"},
    "skeelo": {"active": "active", "blocked": "inactive", "field": "products", "other": ["SKEELO-AUDIOBOOKS"]},
}


def record_of(app, sandbox, contract_id: int) -> dict:
    """The platform's own record of a contract's subscriber."""
    sub = subscription(app, contract_id)
    for record in sandbox.records():
        if record.get("_id") == sub.external_id or record.get("external_id") == sub.external_ref:
            return record
    raise AssertionError("the platform has no record of this subscriber")


def record_key(sandbox, record: dict) -> str:
    return record["_id"] if sandbox.kind == "ittv" else record["external_id"]


def edit(app, sandbox, contract_id: int, **changes) -> None:
    sandbox.edit(record_key(sandbox, record_of(app, sandbox, contract_id)), **changes)


def synced(app, setup, run_jobs, document: str, name: str) -> int:
    contract_id = setup.contract(app, document=document, name=name, email=f"{document}@example.com.br")
    act(app, contract_id, "sync")
    return contract_id


def reconcile(app, platform_id: int, run_jobs) -> int:
    with app.app_context():
        run = reconciliation.request_run(SYSTEM, db.session.get(Platform, platform_id), ReconciliationTrigger.admin)
        run_id = run.id
        db.session.commit()
    run_jobs()
    with app.app_context():
        run = db.session.get(ReconciliationRun, run_id)
        assert run.status == "done", run.error
    return run_id


def found(app, run_id: int) -> dict[int | None, DifferenceKind]:
    """{contract id (None: unknown account): kind} of a run's differences."""
    with app.app_context():
        rows = db.session.scalars(db.select(ReconciliationDifference).where(ReconciliationDifference.run_id == run_id))
        return {(row.subscription.contract_id if row.subscription else None): row.kind for row in rows}


def difference_of(app, run_id: int, contract_id: int | None) -> int:
    with app.app_context():
        for row in db.session.scalars(
            db.select(ReconciliationDifference).where(ReconciliationDifference.run_id == run_id)
        ):
            if (row.subscription.contract_id if row.subscription else None) == contract_id:
                return row.id
    raise AssertionError("no such difference")


def unknown_account(sandbox, document: str) -> None:
    """An account made at the platform by hand (none of ours)."""
    import requests

    headers = {"Authorization": f"Bearer {sandbox.token}"}
    if sandbox.kind == "ittv":
        body = {
            "name": "Conta Manual",
            "cpf": document,
            "status": "ACTIVE",
            "phone": "",
            "email": f"{document}@manual.com.br",
            "username": f"{document}@manual.com.br",
            "password": document,
            "zipcode": "",
            "product": "PLAYHUB-PREMIUM",
            "address": "",
            "city": "",
            "number": "",
            "state": "",
        }
        path = "/alpha/reseller/customer"
    else:
        body = {
            "external_id": f"manual-{document}",
            "name": "Conta Manual",
            "document": document,
            "email": f"{document}@manual.com.br",
            "products": ["SKEELO-EBOOKS"],
        }
        path = "/v1/subscribers"
    answer = requests.post(sandbox.url + path, json=body, headers=headers, timeout=10)
    assert answer.status_code in (200, 201), answer.text


@pytest.fixture(params=KINDS)
def drifted(request, app, sandbox_for, run_jobs):
    """Five synced subscribers at a platform, four of them then changed at the platform by hand,
    and an account made there by hand: (setup, {name: contract id}, unknown document)."""
    kind = request.param
    setup = platform_at(app, sandbox_for(kind))
    words = WORDS[kind]
    contracts = {
        name: synced(app, setup, run_jobs, document, name.title())
        for name, document in zip(
            ("in_step", "blocked_there", "active_there", "packages", "missing"), CPFS, strict=True
        )
    }
    run_jobs()
    act(app, contracts["active_there"], "block")
    run_jobs()
    sandbox = setup.sandbox
    edit(app, sandbox, contracts["blocked_there"], status=words["blocked"])
    edit(app, sandbox, contracts["active_there"], status=words["active"])
    edit(app, sandbox, contracts["packages"], **{words["field"]: words["other"]})
    sandbox.admin("DELETE", f"/subscribers/{record_key(sandbox, record_of(app, sandbox, contracts['missing']))}")
    unknown = CPF().generate()
    unknown_account(sandbox, unknown)
    return setup, contracts, unknown


def test_a_run_classifies_every_kind_of_difference(app, drifted, run_jobs):
    setup, contracts, _unknown = drifted
    run_id = reconcile(app, setup.platform_id, run_jobs)
    assert found(app, run_id) == {
        contracts["blocked_there"]: DifferenceKind.blocked_there,
        contracts["active_there"]: DifferenceKind.active_there,
        contracts["packages"]: DifferenceKind.packages,
        contracts["missing"]: DifferenceKind.missing_there,
        None: DifferenceKind.unknown,
    }
    with app.app_context():
        run = db.session.get(ReconciliationRun, run_id)
        assert run.platform_count == 5  # four of ours and the unknown one
        assert run.progress_done == run.progress_total == 5
        assert {kind: run.count_of(kind) for kind in DifferenceKind} == dict.fromkeys(DifferenceKind, 1)
        assert reconciliation.last_runs() == [run]
        assert reconciliation.platform_count_from_last_reconciliation(setup.platform_id) == (5, run.finished_at)


def test_corrigir_puts_the_platform_back_with_a_history_line(app, drifted, run_jobs):
    setup, contracts, _unknown = drifted
    run_id = reconcile(app, setup.platform_id, run_jobs)
    words = WORDS[setup.kind]
    with app.app_context():
        done = reconciliation.correct_many(
            SYSTEM,
            setup.platform_id,
            [difference_of(app, run_id, contracts[name]) for name in ("blocked_there", "active_there", "missing")],
        )
        assert not done.refused
        db.session.commit()
    run_jobs()
    assert record_of(app, setup.sandbox, contracts["blocked_there"])["status"] == words["active"]
    assert record_of(app, setup.sandbox, contracts["active_there"])["status"] == words["blocked"]
    assert record_of(app, setup.sandbox, contracts["missing"])["status"] == words["active"]  # made again
    actor, asked, _answer = [line for line in history(app, contracts["blocked_there"]) if "Conciliação" in line[1]][0]
    assert actor == "Testes" and asked.startswith("Conciliação: bloqueado lá, ativo aqui")
    again = reconcile(app, setup.platform_id, run_jobs)
    assert set(found(app, again)) == {contracts["packages"], None}


def test_aceitar_adopts_the_platform_state_with_an_audited_reason(app, drifted, run_jobs):
    setup, contracts, _unknown = drifted
    run_id = reconcile(app, setup.platform_id, run_jobs)
    writes_before = len(setup.sandbox.writes_seen())
    with app.app_context():
        difference = db.session.get(ReconciliationDifference, difference_of(app, run_id, contracts["blocked_there"]))
        with pytest.raises(reconciliation.DomainError, match="motivo"):
            reconciliation.accept(SYSTEM, difference, "  ")
        reconciliation.accept(SYSTEM, difference, "Cliente pediu o bloqueio pelo portal")
        difference_id = difference.id
        db.session.commit()
    sub = subscription(app, contracts["blocked_there"])
    assert sub.desired_status == sub.remote_status == "blocked"
    assert run_jobs() == 0 and len(setup.sandbox.writes_seen()) == writes_before  # nothing sent
    [line] = [line for line in history(app, contracts["blocked_there"]) if "Conciliação" in line[1]]
    assert "aceita a situação" in line[1] and "Cliente pediu o bloqueio pelo portal" in line[1]
    with app.app_context():
        assert db.session.scalar(
            db.select(AuditEvent).where(
                AuditEvent.action == "contract.reconciliation_accept",
                AuditEvent.summary.contains("Cliente pediu o bloqueio pelo portal"),
            )
        )
        resolved = db.session.get(ReconciliationDifference, difference_id)
        assert resolved.resolution == "accepted" and resolved.resolved_by_name == "Testes"
        # Once resolved, not again.
        with pytest.raises(reconciliation.DomainError, match="já foi resolvida"):
            reconciliation.accept(SYSTEM, resolved, "de novo")
        # Another package than the plan's matches none of our states: refused, Corrigir instead.
        packages = db.session.get(ReconciliationDifference, difference_of(app, run_id, contracts["packages"]))
        if setup.kind == "skeelo":
            with pytest.raises(reconciliation.DomainError, match="Corrigir"):
                reconciliation.accept(SYSTEM, packages, "motivo")
        missing = db.session.get(ReconciliationDifference, difference_of(app, run_id, contracts["missing"]))
        with pytest.raises(reconciliation.DomainError, match="Corrigir"):
            reconciliation.accept(SYSTEM, missing, "motivo")


def test_aceitar_is_refused_where_the_contract_rules_forbid_it(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    contract_id = synced(app, setup, run_jobs, CPFS[0], "Maria")
    run_jobs()
    act(app, contract_id, "suspend")
    run_jobs()
    edit(app, setup.sandbox, contract_id, status="active")
    run_id = reconcile(app, setup.platform_id, run_jobs)
    assert found(app, run_id) == {contract_id: DifferenceKind.active_there}
    with app.app_context():
        difference = db.session.get(ReconciliationDifference, difference_of(app, run_id, contract_id))
        with pytest.raises(reconciliation.DomainError, match="Cancelar suspensão"):
            reconciliation.accept(SYSTEM, difference, "o cliente voltou")


def test_vincular_ties_an_unknown_account_to_a_contract_of_the_same_document(app, drifted, run_jobs):
    setup, _contracts, unknown = drifted
    run_id = reconcile(app, setup.platform_id, run_jobs)
    other = make_contract(app, make_client(app, document=CPF().generate(), email="x@example.com.br"), setup.plan_id)
    owner = make_contract(app, make_client(app, document=unknown, email="dono@example.com.br"), setup.plan_id)
    with app.app_context():
        difference = db.session.get(ReconciliationDifference, difference_of(app, run_id, None))
        assert [c.id for c in reconciliation.link_candidates(difference)] == [owner]
        with pytest.raises(reconciliation.DomainError, match="mesmo"):
            reconciliation.link(SYSTEM, difference, other)
        db.session.rollback()
        difference = db.session.get(ReconciliationDifference, difference.id)
        reconciliation.link(SYSTEM, difference, owner)
        difference_id = difference.id
        db.session.commit()
    run_jobs()
    sub = subscription(app, owner)
    assert sub.remote_status == "active" and sub.external_id == difference_external_id(app, difference_id)
    assert [r for r in setup.sandbox.records() if (r.get("cpf") or r.get("document")) == unknown].__len__() == 1
    assert any("vinculada" in asked for _actor, asked, _answer in history(app, owner))
    again = reconcile(app, setup.platform_id, run_jobs)
    assert None not in found(app, again)


def difference_external_id(app, difference_id: int) -> str:
    with app.app_context():
        return db.session.get(ReconciliationDifference, difference_id).external_id


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_the_platform_accepted_but_did_not_apply_is_found_by_the_next_run(app, sandbox_for, run_jobs, kind):
    setup = platform_at(app, sandbox_for(kind))
    contract_id = synced(app, setup, run_jobs, CPFS[1], "Joana")
    run_jobs()
    assert reconciliation_is_clean(app, setup, run_jobs)
    path = "PUT /alpha/reseller/customer/" if kind == "ittv" else "PATCH /v1/subscribers/"
    setup.sandbox.inject("ignore", match=path)
    act(app, contract_id, "block")
    run_jobs()
    assert subscription(app, contract_id).remote_status == "blocked"  # the platform said so (200)
    run_id = reconcile(app, setup.platform_id, run_jobs)
    assert found(app, run_id) == {contract_id: DifferenceKind.active_there}


def reconciliation_is_clean(app, setup, run_jobs) -> bool:
    return found(app, reconcile(app, setup.platform_id, run_jobs)) == {}


def test_corrigir_automaticamente_lets_the_run_correct_and_name_itself(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("ittv"))
    contract_id = synced(app, setup, run_jobs, CPFS[2], "Paulo")
    run_jobs()
    edit(app, setup.sandbox, contract_id, status="INACTIVE")
    with app.app_context():
        db.session.get(Platform, setup.platform_id).auto_correct = True
        db.session.commit()
    run_id = reconcile(app, setup.platform_id, run_jobs)
    run_jobs()
    assert record_of(app, setup.sandbox, contract_id)["status"] == "ACTIVE"
    [(actor, asked, _answer)] = [line for line in history(app, contract_id) if "Conciliação" in line[1]]
    assert actor == "Conciliação" and f"execução {run_id}" in asked
    with app.app_context():
        difference = db.session.get(ReconciliationDifference, difference_of(app, run_id, contract_id))
        assert difference.resolution == "corrected"


def test_a_second_request_while_one_is_on_its_way_is_the_same_run(app, sandbox_for):
    setup = platform_at(app, sandbox_for("skeelo"))
    with app.app_context():
        platform = db.session.get(Platform, setup.platform_id)
        first = reconciliation.request_run(SYSTEM, platform, ReconciliationTrigger.admin)
        second = reconciliation.request_run(SYSTEM, platform, ReconciliationTrigger.admin)
        assert first.id == second.id


def test_a_run_the_platform_refuses_is_failed_with_its_message(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    setup.sandbox.inject("error", status=403, match="GET /v1/subscribers")
    with app.app_context():
        run = reconciliation.request_run(
            SYSTEM, db.session.get(Platform, setup.platform_id), ReconciliationTrigger.admin
        )
        run_id = run.id
        db.session.commit()
    run_jobs()
    with app.app_context():
        run = db.session.get(ReconciliationRun, run_id)
        assert run.status == "failed" and "lista" in run.error
        assert reconciliation.last_runs() == []


def test_flask_reconcile_runs_here_and_says_what_it_found(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    contract_id = synced(app, setup, run_jobs, CPFS[3], "Lia")
    run_jobs()
    edit(app, setup.sandbox, contract_id, status="inactive")
    result = app.test_cli_runner().invoke(args=["reconcile", "skeelo"])
    assert result.exit_code == 0, result.output
    assert "1 bloqueado lá, ativo aqui" in result.output
    unknown = app.test_cli_runner().invoke(args=["reconcile", "NADA"])
    assert unknown.exit_code != 0 and "Nenhuma plataforma" in unknown.output


def test_a_cancelled_contract_is_not_missing_there(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("ittv"))
    contract_id = synced(app, setup, run_jobs, CPFS[4], "Rui")
    run_jobs()
    act(app, contract_id, "cancel")
    run_jobs()
    setup.sandbox.admin("DELETE", f"/subscribers/{subscription(app, contract_id).external_id}")
    assert reconciliation_is_clean(app, setup, run_jobs)
    with app.app_context():
        assert db.session.scalar(db.select(Subscription.desired_status)) == "cancelled"
        assert db.session.scalar(db.select(db.func.count()).select_from(Operation)) >= 2
        assert ContractStatus.cancelled


def test_the_nightly_tick_asks_once_per_active_platform(app, sandbox_for):
    from panel.jobs.reconciliation import reconcile_tick

    setup = platform_at(app, sandbox_for("skeelo"))
    app.config["RECONCILIATION_HOUR"] = 0  # (any hour of the test is past it)
    with app.app_context():
        assert reconcile_tick() == "runs requested: 1"
        assert reconcile_tick() == "runs requested: 0"  # once a night, whoever ticks
        [run] = db.session.scalars(db.select(ReconciliationRun))
        assert run.platform_id == setup.platform_id and run.trigger == "cron" and run.requested_by_name == "Conciliação"
    app.config["RECONCILIATION_HOUR"] = 24  # never reached: nothing asked
    with app.app_context():
        assert reconcile_tick() == "before-hour"


def test_a_list_longer_than_a_batch_is_compared_batch_by_batch(app, sandbox_for, run_jobs):
    """More accounts than one step compares (and than one page of the platform's list): ours,
    listed last, are still found, and every other account is unknown."""
    import requests

    setup = platform_at(app, sandbox_for("skeelo"))
    extra = reconciliation.BATCH + 120
    with requests.Session() as http:
        for number in range(extra):
            answer = http.post(
                f"{setup.sandbox.url}/v1/subscribers",
                json={
                    "external_id": f"manual-{number}",
                    "name": f"Conta {number}",
                    "document": CPF().generate(),
                    "email": f"conta{number}@manual.com.br",
                    "products": ["SKEELO-EBOOKS"],
                },
                headers={"Authorization": f"Bearer {setup.sandbox.token}"},
                timeout=10,
            )
            assert answer.status_code == 201
    in_step = synced(app, setup, run_jobs, CPFS[0], "Ana")
    drifted = synced(app, setup, run_jobs, CPFS[1], "Bia")
    run_jobs()
    edit(app, setup.sandbox, drifted, status="inactive")
    run_id = reconcile(app, setup.platform_id, run_jobs)
    with app.app_context():
        run = db.session.get(ReconciliationRun, run_id)
        assert run.platform_count == extra + 2
        assert run.count_of(DifferenceKind.unknown) == extra
        assert run.count_of(DifferenceKind.blocked_there) == 1 and run.count_of(DifferenceKind.missing_there) == 0
    assert found(app, run_id).get(drifted) == DifferenceKind.blocked_there and in_step not in found(app, run_id)


def test_watch_is_reconciled_by_its_tickets(app, sandbox_for, run_jobs):
    """Watch keeps one ticket per package and no document: the run groups the tickets by our
    reference, and a ticket switched off at the platform, or all of them deleted, shows up."""
    setup = platform_at(app, sandbox_for("watch"))
    in_step, blocked_there, missing = (
        synced(app, setup, run_jobs, document, name)
        for document, name in zip(CPFS[:3], ("Ana", "Bia", "Caio"), strict=True)
    )
    run_jobs()
    sandbox = setup.sandbox

    def tickets(contract_id: int) -> list[dict]:
        reference = subscription(app, contract_id).external_ref
        return [r for r in sandbox.records() if r["IDIntegracaoAssinante"] == reference]

    assert len(tickets(in_step)) == 2 and reconciliation_is_clean(app, setup, run_jobs)
    for ticket in tickets(blocked_there):
        sandbox.edit(ticket["Ticket"], Ativo=False)
    for ticket in tickets(missing):
        sandbox.admin("DELETE", f"/subscribers/{ticket['Ticket']}")

    run_id = reconcile(app, setup.platform_id, run_jobs)
    assert found(app, run_id) == {blocked_there: DifferenceKind.blocked_there, missing: DifferenceKind.missing_there}

    with app.app_context():
        for contract_id in (blocked_there, missing):
            difference = db.session.get(ReconciliationDifference, difference_of(app, run_id, contract_id))
            reconciliation.correct(SYSTEM, difference)
        db.session.commit()
    run_jobs()
    assert all(ticket["Ativo"] for ticket in tickets(blocked_there)) and len(tickets(missing)) == 2
    assert reconciliation_is_clean(app, setup, run_jobs)


def test_a_difference_is_resolved_once_and_only_from_the_last_run(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    contract_id = synced(app, setup, run_jobs, CPFS[2], "Rui")
    run_jobs()
    edit(app, setup.sandbox, contract_id, status="inactive")
    older = reconcile(app, setup.platform_id, run_jobs)
    newer = reconcile(app, setup.platform_id, run_jobs)
    with app.app_context():
        stale = db.session.get(ReconciliationDifference, difference_of(app, older, contract_id))
        with pytest.raises(reconciliation.DomainError, match="anterior à última"):
            reconciliation.correct(SYSTEM, stale)
        db.session.rollback()
        current = db.session.get(ReconciliationDifference, difference_of(app, newer, contract_id))
        reconciliation.correct(SYSTEM, current)
        db.session.commit()
        with pytest.raises(reconciliation.DomainError, match="já foi resolvida"):
            reconciliation.accept(SYSTEM, db.session.get(ReconciliationDifference, current.id), "de novo")
        db.session.rollback()


def test_two_runs_of_a_platform_never_scan_together(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    with app.app_context():
        platform = db.session.get(Platform, setup.platform_id)
        lost = reconciliation.request_run(SYSTEM, platform, ReconciliationTrigger.admin, deliver=False)
        lost.created_at = lost.created_at - reconciliation.STALE_AFTER * 2  # asked long ago, never taken up
        db.session.commit()
        lost_id = lost.id
        fresh = reconciliation.request_run(SYSTEM, platform, ReconciliationTrigger.admin, deliver=False)
        db.session.commit()
        assert fresh.id != lost_id
        assert db.session.get(ReconciliationRun, lost_id).status == "failed"  # it can no longer start
        assert reconciliation.start(lost_id) is None
        taken = reconciliation.start(fresh.id)
        assert taken is not None and taken.status == "running"
        db.session.commit()
        # A third, started while the fresh one scans (a redelivery of a run nobody failed), stops.
        third = ReconciliationRun(
            platform_id=platform.id, trigger=ReconciliationTrigger.admin, status="queued", requested_by_name="t"
        )
        db.session.add(third)
        db.session.commit()
        assert reconciliation.start(third.id) is None
        db.session.commit()
        assert db.session.get(ReconciliationRun, third.id).status == "failed"
