"""The job behind *Testar conexão* and *Sincronizar produtos*.

It receives only the task's id; the token is read from the database (encrypted) here, in the
worker. The result, good or bad, is written on the task for the platform's page: no retry, the
operator is waiting for the answer and can ask again.
"""

from __future__ import annotations

import logging

from panel.domain import DomainError
from panel.domain import platforms
from panel.extensions import db
from panel.models import PlatformTask, TaskKind
from panel.providers import ProviderError

log = logging.getLogger(__name__)


def run_platform_task(task_id: int) -> str | None:
    task = db.session.get(PlatformTask, task_id)
    if task is None or not platforms.start_task(task):
        return None  # removed with its platform, or delivered twice and already done
    try:
        with platforms.provider_for(task.platform) as provider:
            if task.kind_enum is TaskKind.test_connection:
                platforms.connection_ok(task, provider.test_connection().message)
            else:
                platforms.import_catalogue(task, provider.list_products())
    except (ProviderError, DomainError) as error:
        return _record_failure(task_id, error.message)
    except Exception:
        log.exception("platform task %s failed unexpectedly", task_id)
        return _record_failure(task_id, "Erro interno ao executar a tarefa; ele foi registrado. Tente de novo.")
    return task.status


def _record_failure(task_id: int, message: str) -> str | None:
    db.session.rollback()
    task = db.session.get(PlatformTask, task_id)
    if task is None:
        return None  # its platform was removed meanwhile: nobody is waiting for the answer
    platforms.task_failed(task, message)
    return task.status
