"""Every periodic job, in one list, for `flask scheduler` (or `rq cron panel.jobs.cron_config`).

Each has a deterministic name (its cron job id in Redis) and an explicit timeout. The
reconciliation (issue 18, Conciliação) adds its nightly run here.
"""

from flask import current_app, has_app_context
from rq import cron

from panel.jobs.licences import compact_tab_counts, licence_snapshot_tick
from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import QUEUE_SPECS
from panel.jobs.reconciliation import reconcile_tick
from panel.jobs.regua import regua_tick
from panel.jobs.relay import relay

cron.register(
    heartbeat,
    queue_name="default",
    interval=30,
    name="painel-heartbeat",
    job_timeout=30,
    result_ttl=60,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)

# The relay: outbox rows whose job is missing from Redis go again, and runs whose worker died go
# again once their lease is over (see panel.jobs.relay).
cron.register(
    relay,
    queue_name="default",
    interval=current_app.config["RELAY_INTERVAL"] if has_app_context() else 30,
    name="painel-relay",
    job_timeout=120,
    result_ttl=60,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)

# The day's títulos and the régua: a tick every few minutes that acts once a day, after REGUA_HOUR
# in the operators' time zone (see panel.jobs.regua.regua_tick; a missed hour is made up).
cron.register(
    regua_tick,
    queue_name="default",
    interval=300,
    name="painel-regua",
    job_timeout=1800,
    result_ttl=3600,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)

# The night's reconciliation with every active platform: a tick every few minutes that asks once a
# night, after RECONCILIATION_HOUR (see panel.jobs.reconciliation.reconcile_tick).
cron.register(
    reconcile_tick,
    queue_name="default",
    interval=600,
    name="painel-reconciliation",
    job_timeout=300,
    result_ttl=3600,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)

# The tabs' counters: their +1/-1 rows folded into one per platform and tab (panel.domain.tab_counts).
cron.register(
    compact_tab_counts,
    queue_name="default",
    interval=60,
    name="painel-tab-counts",
    job_timeout=300,
    result_ttl=60,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)

# The licence snapshot: once a day (its first tick of the São Paulo day; see panel.jobs.licences).
cron.register(
    licence_snapshot_tick,
    queue_name="default",
    interval=300,
    name="painel-licence-snapshot",
    job_timeout=1800,
    result_ttl=3600,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)
