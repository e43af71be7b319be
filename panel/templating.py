"""Jinja filters and globals, app-wide (every blueprint's templates use them): dates in the
operators' time zone, pt-BR numbers, the operators' words for statuses and platforms, a
request's progress in one line, role checks for menus, and the machinery banner."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from panel import formats
from panel.domain import platform_checks, words
from panel.domain.kinds import KINDS, kind_of
from panel.domain.platforms import UNREADABLE_TOKEN
from panel.domain.provisioning import asked_words
from panel.formats import local_datetime
from panel.jobs.circuit import circuit_state
from panel.jobs.health import machinery_status
from panel.models import (
    ClientKind,
    Operation,
    OutboxStatus,
    PlanType,
    Platform,
    Role,
    RuleAction,
    RuleType,
)
from panel.models.types import utcnow

# How audited fields read in the Auditoria page (the stored keys are the models' attributes).
AUDIT_FIELDS = {
    "username": "Login",
    "name": "Nome",
    "role": "Perfil",
    "active": "Situação",
    "password": "Senha",
    "kind": "Plataforma",
    "code": "Código",
    "server_url": "Servidor",
    "token": "Token",
    "concurrency_limit": "Requisições simultâneas",
    "is_base": "Pacote base",
    "plan_type": "Tipo do plano",
    "contract_months": "Meses de contrato",
    "monthly_value": "Valor mensal",
    "composition": "Composição fiscal",
    "platform": "Plataforma",
    "products": "Pacotes",
    "description": "Descrição",
    "rule_type": "Tipo da régua",
    "days_overdue": "Dias em atraso",
    "action": "Ação",
    "unblock_on_payment": "Desbloquear ao pagar",
    "added": "Adicionados",
    "renamed": "Nomes atualizados",
    "client_kind": "Tipo de cadastro",
    "document": "CPF/CNPJ",
    "email": "E-mail",
    "phone": "Telefone",
    "zipcode": "CEP",
    "street": "Endereço",
    "number": "Número",
    "complement": "Complemento",
    "city": "Cidade",
    "state": "UF",
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


# A client's document, phone and CEP as the pages show them ("529.982.247-25").
_FORMATTED = {"document": formats.document, "phone": formats.phone, "zipcode": formats.zipcode}


def audit_value(value, field: str) -> str:
    if value is None:
        return "—"
    if field == "active":
        return "Ativo" if value else "Inativo"
    if field == "kind" and value in KINDS:
        return KINDS[value].label
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, str) and value in _CODE_LABELS.get(field, {}):
        return _CODE_LABELS[field][value]
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, str) and field in _FORMATTED:
        return _FORMATTED[field](value)
    return str(value)


def platform_label(kind: str) -> str:
    """'ITTV (operadora)'."""
    return KINDS[kind].title if kind in KINDS else kind


def supports_base_products(kind: str) -> bool:
    return kind_of(kind).has_partial_block


def describe(operation: Operation) -> str:
    """One line for operators: where the request is, and what happened to it."""
    status = operation.status
    max_attempts = current_app.config["PROVISIONING_MAX_ATTEMPTS"]
    if status is OutboxStatus.done:
        return f"Concluída: {operation.result}" if operation.result else "Concluída"
    if status is OutboxStatus.failed:
        return f"Falhou: {operation.last_error}" if operation.last_error else "Falhou"
    if status is OutboxStatus.running:
        return (
            f"Em execução (tentativa {operation.attempts} de {max_attempts})"
            if operation.attempts > 1
            else "Em execução"
        )
    if operation.next_attempt_at is not None and operation.next_attempt_at > utcnow():
        when = local_datetime(operation.next_attempt_at, "%H:%M:%S")
        if operation.last_error:
            return (
                f"Nova tentativa às {when} (tentativa {operation.attempts + 1} de {max_attempts}): "
                f"{operation.last_error}"
            )
        return f"Na fila, para as {when}"
    if status is OutboxStatus.pending:
        return "Pendente: aguardando o envio"
    return "Na fila"


def operation_detail(operation: Operation) -> str:
    """``describe`` without its leading progress label, for a page that shows the label as a
    badge: "tentativa 2 de 8", "ITTV confirmou ACTIVE", the platform's error…"""
    text = describe(operation)
    label = operation.status.label
    if text.startswith(label):
        text = text[len(label) :].lstrip(":").strip()
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
    return text


def platform_circuit(platform: Platform):
    """The platform's open circuit, if calls to it are paused."""
    return circuit_state(platform.id, platform.name)


def can(role: str | Role) -> bool:
    """Whether the current user's role includes ``role``: menus and buttons use it to hide what
    the server would refuse anyway."""
    return bool(current_user.is_authenticated and current_user.has_role(Role(role)))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        audit_field=audit_field,
        audit_value=audit_value,
        money=formats.money,
        count=formats.count,
        percent=formats.percent,
        document=formats.document,
        phone=formats.phone,
        zipcode=formats.zipcode,
        access_label=words.access_word,
        describe=describe,
    )
    app.jinja_env.globals.update(
        can=can,
        Role=Role,
        ngettext=formats.ngettext,
        access_label=words.access_word,
        operation_word=asked_words,
        request_word=words.request_word,
        contract_word=words.contract_word,
        task_word=words.task_word,
        task_done_word=words.task_done_word,
        progress_word=words.progress_word,
        platform_status_word=words.platform_status_word,
        task_display_status=platform_checks.display_status,
        platform_label=platform_label,
        operation_state=describe,
        operation_detail=operation_detail,
        platform_circuit=platform_circuit,
        unreadable_token_message=UNREADABLE_TOKEN,
        supports_base_products=supports_base_products,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def machinery():
        # Only for logged-in pages: the banner that says the worker or scheduler has stopped.
        if not current_user.is_authenticated:
            return {}
        return {"machinery": machinery_status(app.extensions["redis"], app.config["WORKER_TTL"])}
