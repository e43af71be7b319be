"""Every periodic job, in one list, for `flask scheduler` (or `rq cron panel.jobs.cron_config`).

Each has a deterministic name (its cron job id in Redis) and an explicit timeout. Later issues
add the relay, the régua, reconciliation and the licence snapshot here.
"""

from rq import cron

from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import QUEUE_SPECS

cron.register(
    heartbeat,
    queue_name="default",
    interval=30,
    name="painel-heartbeat",
    job_timeout=30,
    result_ttl=60,
    failure_ttl=QUEUE_SPECS["default"].failure_ttl,
)
