"""The provisioning engine: ``run_operation`` is the only job that talks to platforms about
subscribers. It carries an operation id and nothing else, reads the platform's state for the
subscriber, applies only the difference to what the contract wants *now* (so running it twice,
late, or after another one ends in the same place), and records the outcome — each step one short
transaction (panel.jobs.dispatch.unit_of_work), none open while the platform answers; see
panel.domain.provisioning for each change of state.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app

from panel.database import unit_of_work
from panel.domain import DomainError, provisioning, words
from panel.domain.provisioning import Busy, Work
from panel.domain.vocabulary import AccessStatus, RemoteSubscriber
from panel.extensions import db
from panel.jobs import circuit
from panel.jobs.adapters import provider_for
from panel.models import OperationKind
from panel.models.types import utcnow
from panel.providers import PermanentError, Provider, RetryableError

log = logging.getLogger(__name__)

# When the platform's call slots are all taken, look again after about this long.
SLOT_WAIT_S = 1.0


def run_operation(operation_id: int) -> str | None:
    """Bring one subscriber at its platform to what its contract wants. Returns a word for the
    job dashboard; everything an operator needs is written on the operation."""
    with unit_of_work():
        ticket = provisioning.peek(operation_id)
    if ticket is None:
        return None  # done, failed or running elsewhere: a second delivery
    holder = f"op-{operation_id}-{uuid.uuid4().hex[:8]}"  # this run's own: a duplicate never frees it
    lease = current_app.config["PROVISIONING_LEASE"]
    entry = circuit.enter(ticket.platform_id, ticket.concurrency_limit, holder, lease)
    if entry.paused_until is not None:
        with unit_of_work():
            provisioning.defer(operation_id, ticket.deliveries, _epoch(entry.paused_until + random.uniform(0, 3)))
        return "circuit-open"
    if not entry.slot:
        with unit_of_work():
            wait = timedelta(seconds=SLOT_WAIT_S * random.uniform(0.5, 1.5))
            provisioning.defer(operation_id, ticket.deliveries, utcnow() + wait)
        return "no-slot"
    try:
        with unit_of_work():
            work = provisioning.claim(operation_id, ticket)
        if work is None:
            return None
        if isinstance(work, Busy):
            # Another operation for the same customer is running: it hands this one on when it
            # ends (and the relay does, should it die).
            with unit_of_work():
                provisioning.defer(operation_id, ticket.deliveries, work.until)
            return "busy"
        return _run(work, entry.failures_known)
    finally:
        circuit.release_slot(ticket.platform_id, holder)


def _epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _run(work: Work, failures_known: bool) -> str:
    # No transaction stays open while the platform answers.
    try:
        provider = provider_for(work.platform)
        confirmed, remote, answer = converge(provider, work)
    except RetryableError as error:
        if error.status_code != 429:  # a 429 is the platform pacing us, not the platform failing
            circuit.record_failure(work.platform_id, error.message)
        with unit_of_work():
            provisioning.retry_later(work, error.message, error.retry_after)
        return "retry"
    except PermanentError as error:
        if error.status_code is not None:  # the platform's refusal is an answer: it is up (ours is not)
            _platform_answered(work.platform_id, failures_known)
        with unit_of_work():
            provisioning.fail(work, error.message)
        return "failed"
    except DomainError as error:  # our side: the token cannot be read, the URL is not allowed
        with unit_of_work():
            provisioning.fail(work, error.message)
        return "failed"
    except Exception:
        log.exception("operation %s failed unexpectedly", work.operation_id)
        with unit_of_work():
            provisioning.retry_later(work, "Erro interno ao executar a operação; ele foi registrado.")
        return "retry"
    _platform_answered(work.platform_id, failures_known)
    with unit_of_work():
        provisioning.complete(
            work, confirmed=confirmed, external_id=remote.external_id if remote else None, answer=answer
        )
    return "done"


def _platform_answered(platform_id: int, failures_known: bool) -> None:
    if failures_known and circuit.record_success(platform_id):  # back after an outage: what waited for it goes now
        with unit_of_work():
            provisioning.wake(platform_id)


def converge(provider: Provider, work: Work) -> tuple[AccessStatus | None, RemoteSubscriber | None, str]:
    """Read the subscriber at the platform and apply only what differs. Returns the status the
    platform now holds (None when the operation does not confirm one), the subscriber as it
    stands there, and the answer for the contract history."""
    name = work.platform_name
    if work.kind is OperationKind.update_login:
        remote = provider.get(work.ref)
        if remote is None:
            raise PermanentError(f"O assinante não existe na {name}: use Sincronizar para criá-lo.")
        sent = []
        if "email" in work.fields and remote.email != work.data.email:
            remote = provider.change_login(remote, username=work.data.email, email=work.data.email)
            sent.append("e-mail e usuário")
        if "document" in work.fields:
            provider.change_password(remote, work.data.document)
            sent.append("senha")
        what = " e ".join(sent) if sent else "nada (a plataforma já tinha estes dados)"
        return None, remote, f"{name} atualizou o login: {what}."
    if work.shared_with_contract is not None:
        return (
            work.desired,
            None,
            (f"Nada enviado: o assinante na {name} agora atende o contrato {work.shared_with_contract} deste cliente."),
        )
    remote = provider.get(work.ref)
    if remote is None:
        if work.desired is AccessStatus.CANCELLED:
            return work.desired, None, f"{name} não tem este assinante: nada a cancelar."
        remote = provider.create(work.data, work.desired)
        return work.desired, remote, f"{name} criou o assinante: {_platform_words(remote, work.desired, work)}."
    login = ""
    if provider.has_login and work.desired is not AccessStatus.CANCELLED and remote.email != work.data.email:
        # The customer was there already with other login data (a client's new contract taking
        # over the customer of a cancelled one, or an edit at the platform): the seed's login wins.
        remote = provider.change_login(remote, username=work.data.email, email=work.data.email)
        login = " Login atualizado para o e-mail do cliente."
    if provider.matches(remote, work.desired, work.plan):
        return (
            work.desired,
            remote,
            (
                f"{name} já estava assim: {_platform_words(remote, work.desired, work)}; nada enviado.{login}"
                if not login
                else f"{name} confirmou: {_platform_words(remote, work.desired, work)}.{login}"
            ),
        )
    remote = provider.set_status(remote, work.desired, work.plan)
    return work.desired, remote, f"{name} confirmou: {_platform_words(remote, work.desired, work)}.{login}"


def _platform_words(remote: RemoteSubscriber, status: AccessStatus, work: Work) -> str:
    """How the platform holds the subscriber, in our words: "Bloqueio total — Inativo, produto
    PlayHub Básico" (its status code and product codes through the vocabulary)."""
    held = words.platform_status_word(remote.platform_status)
    products = words.products_words(remote.products, work.product_names)
    ours = words.access_word(status, work.platform.kind)
    head = ours if held.lower() == ours.lower() else f"{ours} — {held}"  # "Ativo", not "Ativo — Ativo"
    return head + (f", {products}" if products else "")


def hand_back(operation_id: int) -> None:
    """The work horse running this operation died (RQ says so): it goes again now, instead of
    after its lease (or fails, had that been its last attempt)."""
    with unit_of_work():
        provisioning.requeue_lost(operation_ids=[operation_id])
    db.session.remove()
