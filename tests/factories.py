"""Configurações made straight through the domain, for tests about the screens that use it."""

from __future__ import annotations

from decimal import Decimal

from panel.domain import Actor
from panel.domain import plans as plans_domain
from panel.domain import platforms as platforms_domain
from panel.domain import products as products_domain
from panel.domain.fiscal import Line
from panel.domain.kinds import KINDS, kind_of
from panel.extensions import db
from panel.models import CompositionMode, Platform, Product

SYSTEM = Actor.system("Testes")
ITTV_PRODUCTS = (
    ("PLAYHUB-BASICO", "PlayHub Básico", True),
    ("PLAYHUB-PREMIUM", "PlayHub Premium", False),
    ("PLAYHUB-ESPORTES", "PlayHub Esportes", False),
)
SKEELO_PRODUCTS = (("SKEELO-EBOOKS", "Skeelo Ebooks", False), ("SKEELO-AUDIOBOOKS", "Skeelo Audiobooks", False))
WATCH_PRODUCTS = (("101", "Watch Básico", False), ("102", "Watch Kids", False), ("103", "Watch Esportes", False))


def make_platform(app, kind: str, products=(), *, code: str | None = None, active: bool = True) -> int:
    with app.app_context():
        platform = platforms_domain.create_platform(
            SYSTEM,
            kind=kind,
            code=code or kind.upper(),
            name=f"{kind.upper()} demo",
            server_url="http://127.0.0.1:9",
            token=KINDS[kind].pack_credentials({c.name: "tok-123" for c in KINDS[kind].credentials}),
            active=active,
        )
        for product_code, name, is_base in products:
            products_domain.add_product(SYSTEM, platform, code=product_code, name=name, is_base=is_base)
        return platform.id


def product_ids(app, *codes: str) -> list[int]:
    with app.app_context():
        return [db.session.scalar(db.select(Product.id).where(Product.code == code)) for code in codes]


def make_plan_in_db(app, platform_id: int, name: str, *, codes: tuple[str, ...] | None = None) -> int:
    """A plan made straight through the domain (for tests about other screens)."""
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        products = [p for p in platform.products if codes is None or p.code in codes]
        if not products:
            products = [
                products_domain.add_product(SYSTEM, platform, code=f"P-{name[:8]}".replace(" ", "-"), name=name)
            ]
        if platform.kind == "ittv" and codes is None:
            products = [p for p in products if p.is_base][:1] + [p for p in products if not p.is_base][:1]
        plan = plans_domain.create_plan(
            SYSTEM,
            plans_domain.PlanTerms(
                name=name,
                plan_type=kind_of(platform.kind).plan_type,
                contract_months=12,
                monthly_value=Decimal("39.90"),
                composition=(Line("SCM", CompositionMode.percent, Decimal(100)),),
                platform_id=platform.id,
                product_ids=tuple(p.id for p in products),
            ),
        )
        return plan.id


# Valid check digits (the domain verifies them).
CPFS = ("52998224725", "11144477735", "12345678909", "39053344705", "71428793860")
CNPJS = ("11222333000181", "11444777000161")


def make_client(
    app,
    *,
    document: str = CPFS[0],
    kind: str | None = None,
    name: str = "Maria da Silva",
    email: str = "maria@example.com.br",
    **fields,
) -> int:
    from panel.domain import clients as clients_domain

    with app.app_context():
        client = clients_domain.create_client(
            SYSTEM,
            clients_domain.ClientData(
                kind=kind or ("pf" if len(document) == 11 else "pj"),
                name=name,
                document=document,
                email=email,
                **fields,
            ),
        )
        return client.id


def make_contract(app, client_id: int, plan_id: int, *, start_date=None, due_day: int = 10) -> int:
    from datetime import date

    from panel.domain import contracts as contracts_domain
    from panel.models import Client

    with app.app_context():
        contract = contracts_domain.create_contract(
            SYSTEM,
            db.session.get(Client, client_id),
            plan_id=plan_id,
            start_date=start_date or date(2026, 1, 5),
            due_day=due_day,
        )
        return contract.id


def ittv_plan(app, name: str = "PlayHub TV") -> int:
    """An ITTV platform (base package PLAYHUB-BASICO) and a TV/OTT plan at it."""
    from panel.models import Platform

    with app.app_context():
        platform_id = db.session.scalar(db.select(Platform.id).where(Platform.kind == "ittv"))
    return make_plan_in_db(app, platform_id or make_platform(app, "ittv", ITTV_PRODUCTS), name)


def skeelo_plan(app, name: str = "Skeelo Leitura") -> int:
    from panel.models import Platform

    with app.app_context():
        platform_id = db.session.scalar(db.select(Platform.id).where(Platform.kind == "skeelo"))
    return make_plan_in_db(app, platform_id or make_platform(app, "skeelo", SKEELO_PRODUCTS), name)
