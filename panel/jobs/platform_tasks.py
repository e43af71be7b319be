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

TASK_JOB = platforms.TASK_JOB


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


def hand_back(task_id: int) -> None:
    """The work horse running this task died (RQ says so): say it now, instead of showing the
    task as running until it is taken as lost. The operator is waiting and can ask again."""
    task = db.session.get(PlatformTask, task_id)
    if task is not None and not task.status_enum.finished:
        platforms.task_failed(task, "O processo que executava a tarefa parou inesperadamente; tente de novo.")
    db.session.remove()
