"""The contract's transitions, modelled once: which action each contract and subscriber state
accepts, and what it leads to. Pure (no database): the domain functions in ``contracts`` apply
the outcome, and the property tests explore every sequence of actions against it.

The seeds' rules it encodes:
- a cancelled contract accepts nothing (a new contract is needed);
- a suspended contract keeps its subscriber blocked, and comes back only by *Cancelar
  suspensão* (at ITTV the subscriber then stays blocked until the *Desbloqueio* in Integradores);
- while the contract is active, Integradores may block (partial or total) and unblock it.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.domain.common import DomainError
from panel.domain.vocabulary import AccessStatus
from panel.models import ContractStatus, OperationKind
from panel.models.types import LabelledEnum


class ContractAction(LabelledEnum):
    sync = "sync", "Sincronizar"
    suspend = "suspend", "Suspender contrato"
    reactivate = "reactivate", "Cancelar suspensão"
    cancel = "cancel", "Cancelar contrato"
    # Integradores: the subscriber's access while the contract stays active
    partial_block = "partial_block", "Bloqueio parcial dos pontos deste contrato"
    block = "block", "Bloqueio total dos pontos deste contrato"
    unblock = "unblock", "Desbloqueio dos pontos deste contrato"


@dataclass(frozen=True)
class PlatformTraits:
    """What the transitions need to know of the contract's platform (from its adapter)."""

    name: str
    supported: frozenset[AccessStatus]
    # ITTV: after *Cancelar suspensão* the subscriber stays blocked until the *Desbloqueio*.
    reactivation_needs_unblock: bool = False


@dataclass(frozen=True)
class State:
    contract: ContractStatus
    desired: AccessStatus | None  # None: never synced (no subscriber at the platform)


@dataclass(frozen=True)
class Outcome:
    state: State
    operation: OperationKind | None  # the request the platform must receive, if any


def decide(state: State, action: ContractAction, traits: PlatformTraits) -> Outcome:
    """What ``action`` does from ``state``; DomainError (pt-BR) when the rules refuse it."""
    contract, desired = state.contract, state.desired
    if contract is ContractStatus.cancelled:
        raise DomainError(
            "Este contrato está cancelado e não aceita mais ações: para voltar a atender o "
            "cliente, crie um novo contrato."
        )
    synced = desired is not None

    def to(new_contract: ContractStatus, new_desired: AccessStatus | None) -> Outcome:
        changed = synced and new_desired != desired
        return Outcome(State(new_contract, new_desired), OperationKind.set_status if changed else None)

    if action is ContractAction.sync:
        if contract is ContractStatus.suspended:
            raise DomainError("O contrato está suspenso: use Cancelar suspensão antes de sincronizar.")
        return Outcome(State(contract, desired or AccessStatus.ACTIVE), OperationKind.sync)
    if action is ContractAction.suspend:
        if contract is ContractStatus.suspended:
            raise DomainError("O contrato já está suspenso.")
        return to(ContractStatus.suspended, AccessStatus.BLOCKED if synced else None)
    if action is ContractAction.reactivate:
        if contract is not ContractStatus.suspended:
            raise DomainError("O contrato não está suspenso.")
        if not synced or traits.reactivation_needs_unblock:
            return to(ContractStatus.active, desired)
        return to(ContractStatus.active, AccessStatus.ACTIVE)
    if action is ContractAction.cancel:
        return to(ContractStatus.cancelled, AccessStatus.CANCELLED if synced else None)

    # Integradores' actions on the subscriber of an active contract.
    if not synced:
        raise DomainError("O contrato ainda não foi sincronizado com a plataforma.")
    if contract is ContractStatus.suspended:
        if action is ContractAction.unblock:
            raise DomainError(
                "O contrato está suspenso: use Cancelar suspensão no Painel do Cliente antes do desbloqueio."
            )
        raise DomainError("O contrato está suspenso: o acesso já está bloqueado.")
    wanted = SUBSCRIBER_ACTIONS[action]
    if wanted not in traits.supported:
        raise DomainError(f"{traits.name} não tem {action.label.split(' dos ')[0].lower()}.")
    if wanted == desired:
        raise DomainError(f"O assinante já está {_ALREADY[wanted]}.")
    return to(contract, wanted)


# Integradores' actions on a subscriber, by the access each asks for.
SUBSCRIBER_ACTIONS = {
    ContractAction.partial_block: AccessStatus.PARTIAL_BLOCK,
    ContractAction.block: AccessStatus.BLOCKED,
    ContractAction.unblock: AccessStatus.ACTIVE,
}

_ALREADY = {
    AccessStatus.ACTIVE: "desbloqueado",
    AccessStatus.PARTIAL_BLOCK: "com bloqueio parcial",
    AccessStatus.BLOCKED: "com bloqueio total",
}


def allowed(state: State, traits: PlatformTraits) -> set[ContractAction]:
    """The actions ``state`` accepts (the buttons a page offers)."""
    accepted = set()
    for action in ContractAction:
        try:
            decide(state, action, traits)
        except DomainError:
            continue
        accepted.add(action)
    return accepted
