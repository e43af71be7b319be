"""Is the machinery running? Read by the pages (a banner when the worker or the scheduler has
stopped) and checked at start (Redis must never evict queued jobs)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis, RedisError
from rq.cron_scheduler_registry import get_registry_key as cron_registry_key
from rq.defaults import DEFAULT_CRON_SCHEDULER_TTL
from rq.utils import utcparse
from rq.worker_registration import REDIS_WORKER_KEYS

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "painel:heartbeat:last_job"
# The heartbeat job runs every 30 s; three missed beats mean the chain is broken somewhere.
HEARTBEAT_STALE_AFTER_S = 90
CALL_SUPPORT = "Avise o suporte técnico."


def check_eviction_policy(connection: Redis) -> str | None:
    """Warn loudly unless Redis keeps every key: an evicted job is a request silently lost."""
    try:
        policy = connection.config_get("maxmemory-policy").get("maxmemory-policy")
    except RedisError as exc:
        log.warning("could not read Redis maxmemory-policy (%s); make sure it is 'noeviction'", type(exc).__name__)
        return None
    if policy != "noeviction":
        log.error(
            "REDIS EVICTION POLICY IS %r: Redis may drop queued jobs under memory pressure. "
            "Set 'maxmemory-policy noeviction' on this Redis.",
            policy,
        )
    return policy


@dataclass(frozen=True)
class MachineryStatus:
    redis_ok: bool
    workers: int
    schedulers: int
    last_heartbeat_age_s: float | None

    @property
    def problems(self) -> list[str]:
        """What an operator must know, in their words (and whom to tell)."""
        if not self.redis_ok:
            return [
                "O envio às plataformas está fora do ar (o Redis não responde): nenhum pedido sai até ele voltar. "
                + CALL_SUPPORT
            ]
        found = []
        if self.workers == 0:
            found.append(
                "O envio às plataformas está parado (nenhum worker rodando): os pedidos ficam pendentes até "
                f"ele voltar. {CALL_SUPPORT}"
            )
        if self.schedulers == 0:
            found.append(
                "O agendador está parado: as tarefas periódicas (régua de cobrança, conciliação, reenvio de "
                f"pendências) não rodam. {CALL_SUPPORT}"
            )
        stale = self.last_heartbeat_age_s is not None and self.last_heartbeat_age_s > HEARTBEAT_STALE_AFTER_S
        if stale and not found:
            minutes = max(1, int(self.last_heartbeat_age_s // 60))
            found.append(
                f"As tarefas em segundo plano não completam um ciclo há {minutes} min: o processamento pode estar "
                f"travado ou sem acesso ao banco de dados. {CALL_SUPPORT}"
            )
        return found


def live_workers(connection: Redis, worker_ttl: float) -> int:
    """Workers alive now: listed by RQ, not marked dead, and heard from in the last
    ``worker_ttl`` seconds (an idle worker beats every ``worker_ttl`` − 15 s, a busy one at
    least that often). RQ's own count keeps a worker killed outright listed until its key
    expires; a worker whose listing Redis lost registers again (see ``panel.jobs.worker``)."""
    keys = list(connection.smembers(REDIS_WORKER_KEYS))
    if not keys:
        return 0
    pipe = connection.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, "last_heartbeat", "death")
    now = datetime.now(UTC)
    alive = 0
    for heartbeat, death in pipe.execute():
        if heartbeat and not death:
            try:
                age = (now - utcparse(heartbeat.decode())).total_seconds()
            except ValueError:
                continue
            alive += age <= worker_ttl
    return alive


def machinery_status(connection: Redis, worker_ttl: float = 60) -> MachineryStatus:
    try:
        workers = live_workers(connection, worker_ttl)
        # Read-only count of schedulers whose heartbeat is recent (RQ's own registry).
        schedulers = connection.zcount(cron_registry_key(), time.time() - DEFAULT_CRON_SCHEDULER_TTL, "+inf")
        raw = connection.get(HEARTBEAT_KEY)
    except RedisError:
        return MachineryStatus(redis_ok=False, workers=0, schedulers=0, last_heartbeat_age_s=None)
    age = time.time() - float(raw) if raw else None
    return MachineryStatus(redis_ok=True, workers=workers, schedulers=schedulers, last_heartbeat_age_s=age)
