"""Billing rules (*Réguas de Configuração*, type *Manutenção de conexão*): after how many days
overdue which block is applied, at which platforms, and whether paying lifts it.

This module keeps the rules; running them (the daily régua) is its own job.
"""

from __future__ import annotations

from sqlalchemy import select

from panel.domain import audit
from panel.domain.common import Actor, DomainError
from panel.domain.kinds import kind_of
from panel.extensions import db
from panel.models import BillingRule, Platform, RuleAction, RuleType

MAX_DAYS = 365


def _check(
    rule_type: str, days_overdue: int | None, action: str, platform_id: int | None, description: str | None
) -> tuple[RuleType, int, RuleAction, Platform | None, str]:
    try:
        kind = RuleType(rule_type or "")
    except ValueError:
        raise DomainError("Escolha o tipo da régua.", "rule_type") from None
    if days_overdue is None or not 1 <= days_overdue <= MAX_DAYS:
        raise DomainError(f"Informe de 1 a {MAX_DAYS} dias em atraso.", "days_overdue")
    try:
        what = RuleAction(action or "")
    except ValueError:
        raise DomainError("Escolha a ação a ser executada.", "action") from None
    platform = None
    if platform_id:
        platform = db.session.get(Platform, platform_id)
        if platform is None:
            raise DomainError("Plataforma não encontrada.", "platform_id")
        if kind_of(platform.kind).plan_type != what.plan_type:
            raise DomainError(f"{what.label} não se aplica a {platform.name}.", "platform_id")
        if what is RuleAction.tv_partial_block and not kind_of(platform.kind).has_partial_block:
            raise DomainError(f"{platform.name} não tem bloqueio parcial.", "platform_id")
    description = " ".join((description or "").split())
    if len(description) > 120:
        raise DomainError("A descrição pode ter no máximo 120 caracteres.", "description")
    return kind, days_overdue, what, platform, description  # empty: BillingRule.title describes it


def scope_label(rule: BillingRule) -> str:
    if rule.platform is not None:
        return rule.platform.name
    return "Todas as operadoras (TV/OTT)" if rule.action.plan_type == "tv_ott" else "Todos os fornecedores (SVA)"


def _snapshot(rule: BillingRule) -> dict:
    return {
        "description": rule.description,
        "rule_type": rule.rule_type,
        "days_overdue": rule.days_overdue,
        "action": rule.action,
        "platform": rule.platform.code if rule.platform else "todas",
        "unblock_on_payment": rule.unblock_on_payment,
        "active": rule.active,
    }


def _refuse_duplicate(
    kind: RuleType, what: RuleAction, days: int, platform: Platform | None, exclude_id: int | None
) -> None:
    query = select(BillingRule.id).where(
        BillingRule.active,
        BillingRule.rule_type == kind.value,
        BillingRule.action == what.value,
        BillingRule.days_overdue == days,
        BillingRule.platform_id.is_(None) if platform is None else BillingRule.platform_id == platform.id,
    )
    if exclude_id is not None:
        query = query.where(BillingRule.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise DomainError("Já existe uma régua ativa com esta ação, estes dias e esta abrangência.", "days_overdue")


def save_rule(
    actor: Actor,
    rule: BillingRule | None,
    *,
    rule_type: str,
    days_overdue: int | None,
    action: str,
    platform_id: int | None,
    unblock_on_payment: bool,
    active: bool,
    description: str | None = None,
) -> BillingRule:
    """Create (``rule`` None) or change a rule."""
    kind, days, what, platform, description = _check(rule_type, days_overdue, action, platform_id, description)
    if active:
        _refuse_duplicate(kind, what, days, platform, rule.id if rule is not None else None)
    creating = rule is None
    before = {} if creating else _snapshot(rule)
    target = rule or BillingRule()
    target.rule_type, target.days_overdue, target.action = kind.value, days, what.value
    target.platform, target.description = platform, description
    target.unblock_on_payment, target.active = bool(unblock_on_payment), bool(active)
    if creating:
        db.session.add(target)
        db.session.flush()
        audit.record(
            actor,
            "billing_rule.created",
            f"Cadastrou a régua {target.title}.",
            target=target,
            changes={key: [None, value] for key, value in _snapshot(target).items()},
        )
    else:
        changes = audit.diff(before, _snapshot(target))
        if not changes:
            return target
        audit.record(actor, "billing_rule.updated", f"Alterou a régua {target.title}.", target=target, changes=changes)
    db.session.flush()
    return target


def delete_rule(actor: Actor, rule: BillingRule) -> None:
    audit.record(
        actor,
        "billing_rule.deleted",
        f"Removeu a régua {rule.title}.",
        target=rule,
        changes={key: [value, None] for key, value in _snapshot(rule).items()},
    )
    db.session.delete(rule)
    db.session.flush()


def list_rules() -> list[BillingRule]:
    return list(
        db.session.scalars(
            select(BillingRule).order_by(BillingRule.active.desc(), BillingRule.days_overdue, BillingRule.id)
        )
    )
