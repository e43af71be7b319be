"""The operators' words, in one table: what every page, history line and message calls our
statuses (contract, subscriber access, a request's progress, a platform check's), the requests we
send to platforms, and the platforms' own status codes.

Where a platform's words differ, the table says so per platform kind: a platform without a
partial block (Skeelo, Watch) calls a blocked subscriber *Bloqueado* and the request a *Bloqueio*,
where ITTV — which has both — says *Bloqueio total*.
"""

from __future__ import annotations

from panel.domain.kinds import KINDS
from panel.domain.vocabulary import AccessStatus
from panel.models import ContractStatus, OperationKind, OutboxStatus, TaskKind

# A subscriber's access, by status; per platform where the words differ.
ACCESS_WORDS: dict[AccessStatus, str] = {status: status.label for status in AccessStatus}
ACCESS_WORDS_WITHOUT_PARTIAL_BLOCK: dict[AccessStatus, str] = {**ACCESS_WORDS, AccessStatus.BLOCKED: "Bloqueado"}

# A contract's status.
CONTRACT_WORDS: dict[ContractStatus, str] = {status: status.label for status in ContractStatus}

# Where a request (an operation, a platform check) stands.
PROGRESS_WORDS: dict[OutboxStatus, str] = {status: status.label for status in OutboxStatus}

# What a request to a platform asks, as operators name it (Operações, history): by the access
# it asks for; a sync that leaves the subscriber active is its activation.
REQUEST_WORDS: dict[AccessStatus, str] = {
    AccessStatus.ACTIVE: "Desbloqueio",
    AccessStatus.PARTIAL_BLOCK: "Bloqueio parcial",
    AccessStatus.BLOCKED: "Bloqueio total",
    AccessStatus.CANCELLED: "Cancelamento",
}
REQUEST_WORDS_WITHOUT_PARTIAL_BLOCK: dict[AccessStatus, str] = {**REQUEST_WORDS, AccessStatus.BLOCKED: "Bloqueio"}
SYNC_WORDS: dict[AccessStatus | None, str] = {AccessStatus.ACTIVE: "Ativação", None: "Sincronização"}
# A request by its kind alone (Operações' filter; a request without its target).
KIND_WORDS: dict[OperationKind, str] = {kind: kind.label for kind in OperationKind}

# An operator's check of a platform account (Configurações), as a request and once done ("Testada
# por Administrador").
TASK_WORDS: dict[TaskKind, str] = {
    TaskKind.test_connection: "Teste de conexão",
    TaskKind.sync_products: "Sincronização de produtos",
}
TASK_DONE_WORDS: dict[TaskKind, str] = {
    TaskKind.test_connection: "Testada",
    TaskKind.sync_products: "Sincronizados",
}

# The platforms' own status codes (ITTV ACTIVE/INACTIVE, Skeelo active/inactive/cancelled, Watch
# ativo/inativo/misto/sem tickets), read case-insensitively.
PLATFORM_STATUS_WORDS: dict[str, str] = {
    "active": "Ativo",
    "ativo": "Ativo",
    "inactive": "Inativo",
    "inativo": "Inativo",
    "blocked": "Bloqueado",
    "cancelled": "Cancelado",
    "canceled": "Cancelado",
    "misto": "Pacotes ativos e inativos",
    "sem tickets": "Sem tickets",
}


def _has_partial_block(platform_kind: str | None) -> bool:
    # Unknown or not given: the full vocabulary (it names every status apart).
    return platform_kind not in KINDS or KINDS[platform_kind].has_partial_block


def access_word(status: str | None, platform_kind: str | None = None) -> str:
    """A subscriber's access as operators read it at that platform: "Bloqueio total" at ITTV,
    "Bloqueado" at Skeelo; "—" before there is one."""
    if not status:
        return "—"
    words = ACCESS_WORDS if _has_partial_block(platform_kind) else ACCESS_WORDS_WITHOUT_PARTIAL_BLOCK
    return words[AccessStatus(status)]


def request_word(kind: str, target_status: str | None = None, platform_kind: str | None = None) -> str:
    """What a request asks, as operators name it: *Cancelamento*, *Bloqueio total* (at Skeelo
    *Bloqueio*), *Bloqueio parcial*, *Desbloqueio*, *Ativação*, *Atualização do login*."""
    kind = OperationKind(kind)
    target = AccessStatus(target_status) if target_status else None
    if kind is OperationKind.update_login or target is None:
        return KIND_WORDS[kind]
    if kind is OperationKind.sync:
        return SYNC_WORDS.get(target, SYNC_WORDS[None])
    words = REQUEST_WORDS if _has_partial_block(platform_kind) else REQUEST_WORDS_WITHOUT_PARTIAL_BLOCK
    return words[target]


def task_word(kind: str) -> str:
    """A platform check as a request: "Teste de conexão"."""
    return TASK_WORDS[TaskKind(kind)]


def task_done_word(kind: str, by: str) -> str:
    """Who did a platform check: "Testada por Administrador"."""
    return f"{TASK_DONE_WORDS[TaskKind(kind)]} por {by}"


def contract_word(status: str) -> str:
    return CONTRACT_WORDS[ContractStatus(status)]


def progress_word(status: str | None) -> str:
    """Where a request stands: Pendente, Na fila, Em execução, Concluída, Falhou."""
    return PROGRESS_WORDS[OutboxStatus(status)] if status else "—"


def platform_status_word(code: str | None) -> str:
    """A platform's own status code in our words ("INACTIVE" → "Inativo"); an unknown code as
    it came (it is the platform's word, and the operator may need it)."""
    if not code:
        return "—"
    return PLATFORM_STATUS_WORDS.get(code.strip().lower(), code)


def products_words(codes, names: dict[str, str]) -> str:
    """ "produto PlayHub Básico" / "produtos PlayHub Básico, Telecine": names where we know them,
    the code otherwise; "" for none."""
    codes = list(codes or ())
    if not codes:
        return ""
    listed = ", ".join(names.get(code) or code for code in codes)
    return ("produto " if len(codes) == 1 else "produtos ") + listed
