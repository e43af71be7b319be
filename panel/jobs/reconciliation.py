"""The reconciliation's jobs: ``reconcile_tick`` (rq cron) asks, once a night, for a run per
active platform; ``run_reconciliation`` carries one run out (panel.domain.reconciliation): the
platform's list read through its adapter, a batch per step, each step one short transaction (the
page's progress bar reads the counters it moves). No transaction stays open while the platform
answers a page of its list."""

from __future__ import annotations

import logging
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from panel.database import unit_of_work
from panel.domain import DomainError, reconciliation
from panel.domain.common import local_today
from panel.extensions import db
from panel.jobs.adapters import fresh_provider_for
from panel.models import OutboxStatus, Platform, ReconciliationRun, ReconciliationTrigger
from panel.providers import ProviderError

log = logging.getLogger(__name__)

INTERNAL = "Erro interno ao conciliar; ele foi registrado. Use Conciliar agora para tentar de novo."


def reconcile_tick() -> str:
    """Once a night, after RECONCILIATION_HOUR (DISPLAY_TIMEZONE): a run per active platform that
    has none from today. Any later tick finds them and does nothing; a missed hour is made up."""
    config = current_app.config
    zone = ZoneInfo(config["DISPLAY_TIMEZONE"])
    now = datetime.now(zone)
    if now.hour < config["RECONCILIATION_HOUR"]:
        return "before-hour"
    midnight = datetime.combine(local_today(), datetime.min.time(), tzinfo=zone)
    asked = 0
    with unit_of_work():
        for platform in db.session.scalars(select(Platform).where(Platform.active).order_by(Platform.id)):
            tonight = db.session.scalar(
                select(func.count()).where(
                    ReconciliationRun.platform_id == platform.id,
                    ReconciliationRun.trigger == ReconciliationTrigger.cron,
                    ReconciliationRun.created_at >= midnight,
                )
            )
            if not tonight:
                reconciliation.request_run(reconciliation.RECONCILIATION, platform, ReconciliationTrigger.cron)
                asked += 1
    return f"runs requested: {asked}"


def run_reconciliation(run_id: int) -> str | None:
    with unit_of_work():
        run = reconciliation.start(run_id)
        if run is None:
            return None  # done already, or running elsewhere: a second delivery
        scan = reconciliation.Scan(run.id, run.attempts, run.platform_id)
        platform = db.session.get(Platform, run.platform_id)
        try:
            provider = fresh_provider_for(platform)
        except DomainError as error:
            provider, refusal = None, error.message
    if provider is None:
        with unit_of_work():
            reconciliation.fail(run_id, scan.attempt, refusal)
        return OutboxStatus.failed.value
    try:
        with provider:
            listed = provider.list_subscribers()
            while batch := list(islice(listed, reconciliation.BATCH)):
                with unit_of_work():
                    reconciliation.compare_batch(scan, batch, provider)
            with unit_of_work():
                reconciliation.finish(scan)
    except reconciliation.RunLost:
        return None  # taken as lost and sent again: that delivery carries it now
    except (ProviderError, DomainError) as error:
        with unit_of_work():
            reconciliation.fail(run_id, scan.attempt, f"A plataforma não respondeu a lista: {error.message}")
        return OutboxStatus.failed.value
    except Exception:
        log.exception("reconciliation run %s failed", run_id)
        with unit_of_work():
            reconciliation.fail(run_id, scan.attempt, INTERNAL)
        return OutboxStatus.failed.value
    return OutboxStatus.done.value


def hand_back(run_id: int) -> None:
    """The work horse running this run died (RQ says so): it goes again now."""
    with unit_of_work():
        reconciliation.requeue_lost(run_ids=[run_id])
