"""Access plans (*Adicionar plano*): type, contract months, fiscal composition, monthly value,
platform and packages.

A plan is what new contracts are made from. Editing one changes what is sold from then on;
contracts copy the plan's terms when they are made, so an edit never changes an existing
contract behind the operator's back. The type and the platform of a plan never change (its
subscribers live at that platform): a different one is a new plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from panel.domain import audit, fiscal
from panel.domain.common import Actor, DomainError
from panel.domain.kinds import kind_of, kinds_for_plan_type
from panel.domain.products import package_problem
from panel.domain.vocabulary import PlanProducts
from panel.extensions import db
from panel.formats import money, percent
from panel.models import CompositionMode, Contract, Plan, PlanComponent, PlanType, Platform, Product

MAX_CONTRACT_MONTHS = 120


@dataclass(frozen=True)
class PlanTerms:
    """What the *Adicionar plano* steps collect."""

    name: str
    plan_type: str
    contract_months: int | None
    monthly_value: Decimal | None
    composition: tuple[fiscal.Line, ...]
    platform_id: int | None
    product_ids: tuple[int, ...]


# -- the checks of each step ----------------------------------------------------------------


def check_identity(name: str | None, plan_type: str | None, plan: Plan | None = None) -> tuple[str, PlanType]:
    """Step 1: the plan's name (unique) and type."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Informe o nome do plano.", "name")
    if len(name) > 120:
        raise DomainError("O nome pode ter no máximo 120 caracteres.", "name")
    query = select(Plan.id).where(func.lower(Plan.name) == name.lower())
    if plan is not None:
        query = query.where(Plan.id != plan.id)
    if db.session.scalar(query) is not None:
        raise DomainError("Já existe um plano com este nome.", "name")
    try:
        kind = PlanType(plan_type or "")
    except ValueError:
        raise DomainError("Escolha o tipo do plano: TV/OTT ou SVA.", "plan_type") from None
    if plan is not None and kind.value != plan.plan_type:
        raise DomainError("O tipo de um plano não muda: cadastre um novo plano.", "plan_type")
    return name, kind


def check_terms(
    contract_months: int | None, monthly_value: Decimal | None, composition: Sequence[fiscal.Line]
) -> list[fiscal.ResolvedLine]:
    """Step 2: contract months, monthly value and a fiscal composition that adds up to it."""
    if contract_months is None or not 1 <= contract_months <= MAX_CONTRACT_MONTHS:
        raise DomainError(f"Informe de 1 a {MAX_CONTRACT_MONTHS} meses.", "contract_months")
    return fiscal.resolve(fiscal.check_monthly_value(monthly_value), composition)


def platforms_for(plan_type: PlanType | str, *, include: Platform | None = None) -> list[Platform]:
    """The active platforms a plan of this type may use (plus ``include``, a plan's own)."""
    kinds = [kind.name for kind in kinds_for_plan_type(PlanType(plan_type))]
    platforms = list(
        db.session.scalars(select(Platform).where(Platform.kind.in_(kinds), Platform.active).order_by(Platform.name))
    )
    if include is not None and include not in platforms:
        platforms.append(include)
    return platforms


def check_packages(
    plan_type: PlanType, platform_id: int | None, product_ids: Sequence[int], plan: Plan | None = None
) -> tuple[Platform, list[Product]]:
    """Step 3: a platform that serves this type of plan, and packages it can give together."""
    role = "uma operadora (TV/OTT)" if plan_type is PlanType.tv_ott else "um fornecedor (SVA)"
    platform = db.session.get(Platform, platform_id) if platform_id else None
    if platform is None:
        raise DomainError(f"Escolha {role}.", "platform_id")
    if plan is not None and platform.id != plan.platform_id:
        raise DomainError("A plataforma de um plano não muda: cadastre um novo plano.", "platform_id")
    if kind_of(platform.kind).plan_type != plan_type:
        raise DomainError(f"Um plano {plan_type.label} precisa de {role}; {platform.name} não é.", "platform_id")
    if plan is None and not platform.active:
        raise DomainError(f"A plataforma {platform.name} está desativada.", "platform_id")
    wanted = set(product_ids)
    products = [product for product in platform.products if product.id in wanted]
    if not wanted:
        raise DomainError("Selecione os pacotes do plano.", "product_ids")
    if len(products) != len(wanted):
        raise DomainError(f"Selecione somente pacotes de {platform.name}.", "product_ids")
    problem = package_problem(
        platform.kind, tuple(p.code for p in products), tuple(p.code for p in products if p.is_base)
    )
    if problem:
        raise DomainError(problem[:1].upper() + problem[1:], "product_ids")
    return platform, products


# -- saving ---------------------------------------------------------------------------------


def _snapshot(plan: Plan) -> dict:
    return {
        "name": plan.name,
        "plan_type": plan.plan_type,
        "contract_months": plan.contract_months,
        "monthly_value": money(plan.monthly_value),
        "composition": [describe_line(component) for component in plan.composition],
        "platform": plan.platform.code if plan.platform else None,
        "products": [product.code for product in plan.products],
        "active": plan.active,
    }


def describe_line(component: PlanComponent | fiscal.Line) -> str:
    is_percent = CompositionMode(component.mode) is CompositionMode.percent
    amount = percent(component.amount) if is_percent else money(component.amount)
    return f"{component.service} {amount}"


def _apply(plan: Plan, terms: PlanTerms, existing: Plan | None) -> None:
    name, plan_type = check_identity(terms.name, terms.plan_type, existing)
    check_terms(terms.contract_months, terms.monthly_value, terms.composition)
    platform, products = check_packages(plan_type, terms.platform_id, terms.product_ids, existing)
    plan.name, plan.plan_type, plan.platform = name, plan_type.value, platform
    plan.contract_months = terms.contract_months
    plan.monthly_value = terms.monthly_value
    plan.products = products
    plan.composition = [
        PlanComponent(position=index, service=line.service, mode=line.mode.value, amount=line.amount)
        for index, line in enumerate(terms.composition)
    ]


def create_plan(actor: Actor, terms: PlanTerms) -> Plan:
    """*Efetivar*: every step's checks again, then the plan, in one transaction."""
    plan = Plan(active=True)
    _apply(plan, terms, None)
    db.session.add(plan)
    db.session.flush()
    audit.record(
        actor,
        "plan.created",
        f"Cadastrou o plano {plan.name} ({plan.plan_type.label}).",
        target=plan,
        changes={key: [None, value] for key, value in _snapshot(plan).items()},
    )
    db.session.flush()
    return plan


def update_plan(actor: Actor, plan: Plan, terms: PlanTerms) -> Plan:
    before = _snapshot(plan)
    _apply(plan, terms, plan)  # checks everything before it changes anything
    changes = audit.diff(before, _snapshot(plan))
    if changes:
        audit.record(actor, "plan.updated", f"Alterou o plano {plan.name}.", target=plan, changes=changes)
    db.session.flush()
    return plan


def set_plan_active(actor: Actor, plan: Plan, active: bool) -> Plan:
    """A deactivated plan is no longer offered for new contracts; existing ones keep it."""
    if plan.active == bool(active):
        return plan
    plan.active = bool(active)
    audit.record(
        actor,
        "plan.updated",
        f"{'Reativou' if active else 'Desativou'} o plano {plan.name}.",
        target=plan,
        changes={"active": [not plan.active, plan.active]},
    )
    db.session.flush()
    return plan


def delete_plan(actor: Actor, plan: Plan) -> None:
    """Remove a plan no contract uses (contracts refer to their plan: once one exists the
    database refuses the removal, and the plan can only be deactivated)."""
    name = plan.name
    if contract_count(plan):
        raise DomainError(f"O plano {name} já é usado por contratos: desative-o em vez de removê-lo.")
    audit.record(
        actor,
        "plan.deleted",
        f"Removeu o plano {name}.",
        target=plan,
        changes={key: [value, None] for key, value in _snapshot(plan).items()},
    )
    db.session.delete(plan)
    try:
        db.session.flush()
    except IntegrityError:
        raise DomainError(f"O plano {name} já é usado por contratos: desative-o em vez de removê-lo.") from None


# -- reading --------------------------------------------------------------------------------


def contract_count(plan: Plan) -> int:
    return db.session.scalar(select(func.count()).select_from(Contract).where(Contract.plan_id == plan.id)) or 0


def list_plans() -> list[Plan]:
    return list(db.session.scalars(select(Plan).order_by(Plan.active.desc(), Plan.name)))


def composition_lines(plan: Plan) -> list[fiscal.Line]:
    return [fiscal.Line(c.service, CompositionMode(c.mode), c.amount) for c in plan.composition]


def resolved_composition(plan: Plan) -> list[fiscal.ResolvedLine]:
    return fiscal.resolve(plan.monthly_value, composition_lines(plan))


def plan_products(plan: Plan) -> PlanProducts:
    """The packages the plan gives at its platform, as the adapters take them."""
    base = tuple(p.code for p in plan.products if p.is_base) if kind_of(plan.platform.kind).has_partial_block else ()
    return PlanProducts(tuple(p.code for p in plan.products), base)
