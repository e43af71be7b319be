"""Jinja filters and globals: dates shown in the operators' time zone, role checks for menus."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from panel import formats
from panel.models import ClientKind, PlanType, Role, RuleAction, RuleType
from panel.providers import REGISTRY, AccessStatus


def local_datetime(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC datetime as the operators read it (America/Sao_Paulo by default)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)


# How audited fields read in the Auditoria page (the stored keys are the models' attributes).
AUDIT_FIELDS = {
    "username": "Login", "name": "Nome", "role": "Perfil", "active": "Situação", "password": "Senha",
    "kind": "Plataforma", "code": "Código", "server_url": "Servidor", "token": "Token",
    "concurrency_limit": "Requisições simultâneas", "is_base": "Pacote base", "plan_type": "Tipo do plano",
    "contract_months": "Meses de contrato", "monthly_value": "Valor mensal", "composition": "Composição fiscal",
    "platform": "Plataforma", "products": "Pacotes", "description": "Descrição", "rule_type": "Tipo da régua",
    "days_overdue": "Dias em atraso", "action": "Ação", "unblock_on_payment": "Desbloquear ao pagar",
    "added": "Adicionados", "renamed": "Nomes atualizados", "client_kind": "Tipo de cadastro", "document": "CPF/CNPJ",
    "email": "E-mail", "phone": "Telefone", "zipcode": "CEP", "street": "Endereço", "number": "Número",
    "complement": "Complemento", "city": "Cidade", "state": "UF",
}
# Stored codes shown by their labels.
_CODE_LABELS = {
    "role": {role.value: role.label for role in Role},
    "plan_type": {kind.value: kind.label for kind in PlanType},
    "action": {action.value: action.label for action in RuleAction},
    "rule_type": {kind.value: kind.label for kind in RuleType},
    "client_kind": {kind.value: kind.label for kind in ClientKind},
}


def audit_field(field: str) -> str:
    return AUDIT_FIELDS.get(field, field)


def audit_value(value, field: str) -> str:
    if value is None:
        return "—"
    if field == "active":
        return "Ativo" if value else "Inativo"
    if field == "kind" and value in REGISTRY:
        return REGISTRY[value].label
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, str) and value in _CODE_LABELS.get(field, {}):
        return _CODE_LABELS[field][value]
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    return str(value)


def platform_label(kind: str) -> str:
    """'ITTV (operadora)'."""
    adapter = REGISTRY.get(kind)
    return f"{adapter.label} ({adapter.role_label})" if adapter else kind


def access_label(status: str | None) -> str:
    """An access status as operators read it ("Bloqueio parcial"); "—" before any."""
    return AccessStatus(status).label if status else "—"


def can(role: str | Role) -> bool:
    """Whether the current user's role includes ``role``: menus and buttons use it to hide what
    the server would refuse anyway."""
    return bool(current_user.is_authenticated and current_user.has_role(Role(role)))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        local_datetime=local_datetime, audit_field=audit_field, audit_value=audit_value,
        money=formats.money, percent=formats.percent, document=formats.document, phone=formats.phone,
        zipcode=formats.zipcode, access_label=access_label,
    )
    from panel.domain import platforms

    app.jinja_env.globals.update(
        can=can, Role=Role, task_display_status=platforms.task_display_status, platform_label=platform_label,
        unreadable_token_message=platforms.UNREADABLE_TOKEN, supports_base_products=platforms.supports_base_products,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def machinery():
        # Only for logged-in pages: the banner that says the worker or scheduler has stopped.
        if not current_user.is_authenticated:
            return {}
        from panel.jobs.health import machinery_status

        return {"machinery": machinery_status(app.extensions["redis"], app.config["WORKER_TTL"])}
