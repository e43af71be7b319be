"""The *Histórico do contrato*: every action on a contract, manual or automatic, and every answer
of its platform, one line each (append-only: the model refuses changes)."""

from __future__ import annotations

from sqlalchemy import insert, select

from panel.domain import audit
from panel.domain.common import Actor
from panel.extensions import db
from panel.models import Contract, ContractEvent, Operation


def add_event(
    contract: Contract,
    actor: Actor,
    action: str,
    asked: str,
    *,
    operation: Operation | None = None,
    answer: str | None = None,
    details: dict | None = None,
    audited: bool = True,
) -> ContractEvent:
    """A line of the contract history, in the caller's transaction; also in the audit trail
    unless ``audited`` is off (the platforms' answers, recorded by the workers, are history only)."""
    line = _line(actor, action, asked, answer)
    event = ContractEvent(contract=contract, operation=operation, details=details, **line)
    db.session.add(event)
    if audited:
        audit.record(actor, f"contract.{action}", f"Contrato {contract.id}: {asked}", target=contract)
    return event


def add_answer(contract_id: int, actor: Actor, action: str, asked: str, *, operation_id: int, answer: str) -> None:
    """A line of the contract history written by a worker about an operation (one INSERT: the
    worker holds ids, not objects; history only, like the platforms' answers in ``add_event``)."""
    db.session.execute(
        insert(ContractEvent).values(
            contract_id=contract_id, operation_id=operation_id, **_line(actor, action, asked, answer)
        )
    )


def _line(actor: Actor, action: str, asked: str, answer: str | None) -> dict:
    """The columns every history line fills: who, what was asked, what was answered."""
    return {
        "actor_id": actor.user.id if actor.user is not None else None,
        "actor_name": actor.name,
        "action": action,
        "asked": asked,
        "answer": answer,
    }


def history(contract: Contract) -> list[ContractEvent]:
    return list(
        db.session.scalars(
            select(ContractEvent).where(ContractEvent.contract_id == contract.id).order_by(ContractEvent.id.desc())
        )
    )
