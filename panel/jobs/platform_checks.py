"""The job behind *Testar conexão* and *Sincronizar produtos* (panel.domain.platform_checks).

It receives only the check's id; the token is read from the database (encrypted) and decrypted
here, in the worker. The result, good or bad, is written on the check for the platform's page: no
retry, the operator is waiting for the answer and can ask again.
"""

from __future__ import annotations

import logging

from panel.database import unit_of_work
from panel.domain import DomainError, platform_checks, products
from panel.extensions import db
from panel.jobs.adapters import provider_for
from panel.models import OutboxStatus, Platform, PlatformTask, TaskKind
from panel.providers import ProviderError

log = logging.getLogger(__name__)


def run_platform_check(task_id: int) -> str | None:
    with unit_of_work():
        task = platform_checks.start(task_id)
        if task is None:
            return None  # removed with its platform, or delivered twice and already done
        attempt, kind, platform_id = task.attempts, task.kind, task.platform_id
    try:
        with unit_of_work():
            provider = provider_for(db.session.get(Platform, platform_id))
        if kind is TaskKind.test_connection:
            outcome = (OutboxStatus.done, provider.test_connection().message, None)
        else:
            catalogue = provider.list_products()
            with unit_of_work():
                task = db.session.get(PlatformTask, task_id)
                message, details = products.import_catalogue(platform_checks.requester(task), task.platform, catalogue)
                platform_checks.finish(task_id, attempt, OutboxStatus.done, message, details)
            return OutboxStatus.done.value
    except (ProviderError, DomainError) as error:
        outcome = (OutboxStatus.failed, error.message, None)
    except Exception:
        log.exception("platform check %s failed unexpectedly", task_id)
        outcome = (OutboxStatus.failed, "Erro interno ao executar a tarefa; ele foi registrado. Tente de novo.", None)
    with unit_of_work():
        platform_checks.finish(task_id, attempt, *outcome)
    return outcome[0].value


def hand_back(task_id: int) -> None:
    """The work horse running this check died (RQ says so): it goes again now (once), instead of
    showing *Em execução* until its lease ends."""
    with unit_of_work():
        platform_checks.requeue_lost(task_ids=[task_id])
    db.session.remove()
