"""Configurações made straight through the domain, for tests about the screens that use it."""

from __future__ import annotations

from decimal import Decimal

from panel.domain import Actor
from panel.domain import platforms as platforms_domain
from panel.domain import plans as plans_domain
from panel.domain.fiscal import Line
from panel.extensions import db
from panel.models import CompositionMode, Platform, Product

SYSTEM = Actor.system("Testes")
ITTV_PRODUCTS = (("PLAYHUB-BASICO", "PlayHub Básico", True), ("PLAYHUB-PREMIUM", "PlayHub Premium", False),
                 ("PLAYHUB-ESPORTES", "PlayHub Esportes", False))
SKEELO_PRODUCTS = (("SKEELO-EBOOKS", "Skeelo Ebooks", False), ("SKEELO-AUDIOBOOKS", "Skeelo Audiobooks", False))


def make_platform(app, kind: str, products=(), *, code: str | None = None, active: bool = True) -> int:
    with app.app_context():
        platform = platforms_domain.create_platform(
            SYSTEM, kind=kind, code=code or kind.upper(), name=f"{kind.upper()} demo",
            server_url="http://127.0.0.1:9", token="tok-123", active=active,
        )
        for product_code, name, is_base in products:
            platforms_domain.add_product(SYSTEM, platform, code=product_code, name=name, is_base=is_base)
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
            products = [platforms_domain.add_product(SYSTEM, platform, code=f"P-{name[:8]}".replace(" ", "-"),
                                                     name=name)]
        if platform.kind == "ittv" and codes is None:
            products = [p for p in products if p.is_base][:1] + [p for p in products if not p.is_base][:1]
        plan = plans_domain.create_plan(SYSTEM, plans_domain.PlanTerms(
            name=name, plan_type=platforms_domain.adapter(platform.kind).plan_type, contract_months=12,
            monthly_value=Decimal("39.90"), composition=(Line("SCM", CompositionMode.percent, Decimal(100)),),
            platform_id=platform.id, product_ids=tuple(p.id for p in products),
        ))
        return plan.id
