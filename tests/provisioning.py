"""A contract ready to provision against a real sandbox, for the engine's tests."""

from __future__ import annotations

from dataclasses import dataclass

from panel.domain import Actor
from panel.domain import platforms as platforms_domain
from panel.extensions import db
from panel.models import Contract, Operation, Platform, Subscription
from tests.factories import (
    CPFS,
    ITTV_PRODUCTS,
    SKEELO_PRODUCTS,
    WATCH_PRODUCTS,
    make_client,
    make_contract,
    make_plan_in_db,
    make_platform,
)

SYSTEM = Actor.system("Testes")


@dataclass(frozen=True)
class Setup:
    kind: str
    platform_id: int
    plan_id: int
    sandbox: object

    def contract(
        self, app, *, document: str = CPFS[0], email: str = "maria@example.com.br", name: str = "Maria da Silva"
    ) -> int:
        client_id = make_client(app, document=document, email=email, name=name)
        return make_contract(app, client_id, self.plan_id)


def platform_at(app, sandbox, *, concurrency: int = 4, plan_name: str | None = None) -> Setup:
    """The sandbox's platform registered in Configurações (URL and token), with a plan."""
    products = {"ittv": ITTV_PRODUCTS, "watch": WATCH_PRODUCTS}.get(sandbox.kind, SKEELO_PRODUCTS)
    platform_id = make_platform(app, sandbox.kind, products)
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        platforms_domain.update_platform(
            SYSTEM,
            platform,
            code=platform.code,
            name=platform.name,
            server_url=sandbox.url,
            token=sandbox.token,
            concurrency_limit=concurrency,
            active=True,
        )
    codes = {"ittv": ("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"), "watch": ("101", "102")}.get(
        sandbox.kind, ("SKEELO-EBOOKS",)
    )
    plan_id = make_plan_in_db(app, platform_id, plan_name or f"Plano {sandbox.kind}", codes=codes)
    return Setup(sandbox.kind, platform_id, plan_id, sandbox)


def act(app, contract_id: int, action: str) -> int | None:
    """An operator's action through the domain; returns the operation's id, if one was made."""
    from panel.domain import contracts

    with app.app_context():
        result = contracts.act(SYSTEM, db.session.get(Contract, contract_id), action)
        return result.operation.id if result.operation else None


def operation(app, operation_id: int) -> Operation:
    with app.app_context():
        found = db.session.get(Operation, operation_id)
        db.session.expunge(found)
        return found


def subscription(app, contract_id: int) -> Subscription:
    with app.app_context():
        found = db.session.scalar(db.select(Subscription).where(Subscription.contract_id == contract_id))
        db.session.expunge(found)
        return found


def history(app, contract_id: int) -> list[tuple[str, str, str | None]]:
    """(actor, asked, answer) of the contract's history, oldest first."""
    from panel.models import ContractEvent

    with app.app_context():
        events = db.session.scalars(
            db.select(ContractEvent).where(ContractEvent.contract_id == contract_id).order_by(ContractEvent.id)
        )
        return [(e.actor_name, e.asked, e.answer) for e in events]


def statuses(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(db.select(Operation.id, Operation.status)).all())
