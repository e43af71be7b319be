"""Configurações → a platform's products (*siglas*): added and edited by hand or taken from the
platform's catalogue (*Sincronizar produtos*, ``import_catalogue``), with the base flag that an
ITTV partial block leaves a customer with. A product a plan sells keeps its code."""

from __future__ import annotations

from sqlalchemy import select

from panel.domain import audit
from panel.domain.common import Actor, DomainError
from panel.domain.kinds import kind_of
from panel.domain.platforms import check_name
from panel.domain.vocabulary import CatalogueItem, PlanProducts
from panel.extensions import db
from panel.formats import ngettext
from panel.models import Plan, Platform, Product, plan_products

PRODUCT_CODE_MAX = 64


def _check_product_code(raw: str | None) -> str:
    code = (raw or "").strip()
    if not code:
        raise DomainError("Informe o código (sigla) do produto.", "code")
    if len(code) > PRODUCT_CODE_MAX:
        raise DomainError(f"O código pode ter no máximo {PRODUCT_CODE_MAX} caracteres.", "code")
    if any(char.isspace() or not char.isprintable() for char in code):
        raise DomainError("O código não pode ter espaços.", "code")
    return code


def names_by_code(platform_id: int) -> dict[str, str]:
    """The platform's product names by code, for what operators read ("PlayHub Básico", not
    "PLAYHUB-BASICO")."""
    rows = db.session.execute(select(Product.code, Product.name).where(Product.platform_id == platform_id))
    return dict(rows.all())


def plans_using(product: Product) -> list[Plan]:
    return list(
        db.session.scalars(
            select(Plan)
            .join(plan_products, plan_products.c.plan_id == Plan.id)
            .where(plan_products.c.product_id == product.id)
            .order_by(Plan.name)
        )
    )


def _product_snapshot(product: Product) -> dict:
    return {"code": product.code, "name": product.name, "is_base": product.is_base}


def add_product(actor: Actor, platform: Platform, *, code: str, name: str, is_base: bool = False) -> Product:
    code = _check_product_code(code)
    _check_base_flag(platform, is_base)
    if db.session.scalar(select(Product.id).where(Product.platform_id == platform.id, Product.code == code)):
        raise DomainError("Esta plataforma já tem um produto com este código.", "code")
    product = Product(platform=platform, code=code, name=check_name(name), is_base=bool(is_base))
    db.session.add(product)
    db.session.flush()
    audit.record(
        actor,
        "product.created",
        f"Cadastrou o produto {code} em {platform.name}.",
        target=product,
        changes={key: [None, value] for key, value in _product_snapshot(product).items()},
    )
    return product


def update_product(actor: Actor, product: Product, *, code: str, name: str, is_base: bool) -> Product:
    """Plans keep working: the code of a product a plan sells cannot change (it is how the
    platform knows the package), and a new base flag must leave every such plan valid."""
    code = _check_product_code(code)
    name = check_name(name)
    is_base = bool(is_base)
    platform = product.platform
    _check_base_flag(platform, is_base)
    plans = plans_using(product)
    if code != product.code:
        if plans:
            raise DomainError(
                "O código identifica o pacote na plataforma e este produto é vendido pelos planos "
                f"{', '.join(plan.name for plan in plans)}: cadastre um novo produto em vez de mudar o código.",
                "code",
            )
        if db.session.scalar(select(Product.id).where(Product.platform_id == platform.id, Product.code == code)):
            raise DomainError("Esta plataforma já tem um produto com este código.", "code")
    if is_base != product.is_base:
        for plan in plans:
            codes = tuple(p.code for p in plan.products)
            base = tuple(p.code for p in plan.products if (p.is_base if p.id != product.id else is_base))
            problem = package_problem(platform.kind, codes, base)
            if problem:
                raise DomainError(
                    f"O plano {plan.name} ficaria inválido: {problem[:1].lower()}{problem[1:]}", "is_base"
                )
    before = _product_snapshot(product)
    product.code, product.name, product.is_base = code, name, is_base
    changes = audit.diff(before, _product_snapshot(product))
    if changes:
        audit.record(
            actor, "product.updated", f"Alterou o produto {code} de {platform.name}.", target=product, changes=changes
        )
        db.session.flush()
    return product


def remove_product(actor: Actor, product: Product) -> None:
    plans = plans_using(product)
    if plans:
        raise DomainError(
            f"O produto {product.code} é usado pelos planos {', '.join(plan.name for plan in plans)}: "
            "retire-o desses planos antes de removê-lo."
        )
    audit.record(
        actor,
        "product.deleted",
        f"Removeu o produto {product.code} de {product.platform.name}.",
        target=product,
        changes={key: [value, None] for key, value in _product_snapshot(product).items()},
    )
    db.session.delete(product)
    db.session.flush()


def package_problem(kind: str, codes: tuple[str, ...], base_codes: tuple[str, ...]) -> str | None:
    """Why this platform cannot serve these packages, or None (its kind's rule)."""
    platform_kind = kind_of(kind)
    if not codes:
        return "selecione pelo menos um pacote."
    if not platform_kind.has_partial_block:
        base_codes = ()  # base packages mean nothing there
    return platform_kind.package_problem(PlanProducts(codes, base_codes))


def _check_base_flag(platform: Platform, is_base: bool) -> None:
    if is_base and not kind_of(platform.kind).has_partial_block:
        raise DomainError(f"A {kind_of(platform.kind).label} não tem bloqueio parcial: não há pacote base.", "is_base")


def import_catalogue(actor: Actor, platform: Platform, catalogue: list[CatalogueItem]) -> tuple[str, dict]:
    """*Sincronizar produtos*: add the platform's products we lack and take its names for the
    ones we have. Products missing from the catalogue are listed, never removed (plans may sell
    them); base flags are ours and stay as they are. Returns the message and what changed."""
    ours = {product.code: product for product in platform.products}
    added, renamed, skipped = [], [], []
    seen = set()
    for item in catalogue:
        code, name = (item.code or "").strip(), " ".join((item.name or "").split())[:120] or item.code
        if not code or len(code) > PRODUCT_CODE_MAX or any(char.isspace() for char in code) or code in seen:
            skipped.append(code[:PRODUCT_CODE_MAX])
            continue
        seen.add(code)
        product = ours.get(code)
        if product is None:
            db.session.add(Product(platform=platform, code=code, name=name, is_base=False))
            added.append([code, name])
        elif product.name != name:
            renamed.append([code, product.name, name])
            product.name = name
    missing = sorted(code for code in ours if code not in seen)
    details = {"added": added, "renamed": renamed, "missing": missing, "skipped": skipped}
    parts = [
        ngettext("%(num)s produto adicionado", "%(num)s produtos adicionados", len(added))
        if added
        else "nenhum produto novo"
    ]
    if renamed:
        parts.append(ngettext("%(num)s nome atualizado", "%(num)s nomes atualizados", len(renamed)))
    if missing:
        parts.append(
            ngettext("%(num)s produto nosso fora do catálogo", "%(num)s produtos nossos fora do catálogo", len(missing))
        )
    if skipped:
        parts.append(
            ngettext(
                "%(num)s item do catálogo ignorado (código inválido ou repetido)",
                "%(num)s itens do catálogo ignorados (código inválido ou repetido)",
                len(skipped),
            )
        )
    message = "Catálogo sincronizado: " + "; ".join(parts) + "."
    if added or renamed:
        audit.record(
            actor,
            "product.synced",
            f"Sincronizou os produtos de {platform.name}: {message}",
            target=platform,
            changes={"added": [None, [code for code, _ in added]], "renamed": [None, [code for code, _, _ in renamed]]},
        )
    db.session.flush()
    return message, details
