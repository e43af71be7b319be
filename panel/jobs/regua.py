"""The régua's jobs: ``regua_tick`` (rq cron, every few minutes) starts the day's work once the
operators' clock passes REGUA_HOUR — the month's títulos first, then a run per active rule — and
``run_regua`` carries one run out (panel.domain.regua). A run is an outbox row: a worker that dies
in the middle leaves it to the relay, and running it again is harmless (what is already blocked
is skipped)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from panel.database import unit_of_work
from panel.domain import invoices, regua
from panel.domain.common import local_today
from panel.models import OutboxStatus, ReguaTrigger

log = logging.getLogger(__name__)

# A run's lease: longer than any run takes (a worker silent this long is taken as dead, and the
# relay sends the run again; running it again is harmless).
RUN_LEASE_S = 1800


def regua_tick() -> str:
    """Once a day, after REGUA_HOUR (DISPLAY_TIMEZONE): today's títulos, then today's runs. Any
    tick after that finds them requested and does nothing; a tick missed (the scheduler was down
    at that hour) is made up by the next one."""
    config = current_app.config
    now = datetime.now(ZoneInfo(config["DISPLAY_TIMEZONE"]))
    if now.hour < config["REGUA_HOUR"]:
        return "before-hour"
    return start_day(regua.REGUA, ReguaTrigger.cron, local_today())


def start_day(actor, trigger: ReguaTrigger, day) -> str:
    """The day's títulos (each batch committed), then its runs requested (sent once committed)."""
    month = invoices.month_start(day)
    after_id = 0
    while after_id is not None:
        with unit_of_work():
            _made, after_id = invoices.generate_batch(actor, month, after_id)
    with unit_of_work():
        runs = regua.request_runs(actor, trigger, day)
    return f"runs requested: {len(runs)}"


def hand_back(run_id: int) -> None:
    """The work horse running this run died (RQ says so): it goes again now."""
    with unit_of_work():
        regua.requeue_lost(run_ids=[run_id])


def run_regua(run_id: int) -> str | None:
    with unit_of_work():
        run = regua.start(run_id, RUN_LEASE_S)
        if run is None:
            return None  # done already, or running elsewhere: a second delivery
        attempt = run.attempts
    try:
        with unit_of_work():
            regua.carry_out(run_id, attempt)
    except Exception:
        log.exception("régua run %s failed", run_id)
        with unit_of_work():
            regua.fail(
                run_id,
                attempt,
                "Erro interno ao executar a régua; ele foi registrado. Use Executar agora para tentar de novo.",
            )
        return OutboxStatus.failed.value
    return OutboxStatus.done.value
