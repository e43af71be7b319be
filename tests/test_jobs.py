"""The job machinery on real parts: the embedded Redis, a real RQ worker and the cron scheduler,
started as `flask worker` / `flask scheduler` processes."""

from __future__ import annotations

import logging
import signal
import subprocess

import pytest
import redis
from rq import Queue, Worker
from rq.job import Job

from panel.embedded_redis import EmbeddedRedis
from panel.jobs.health import HEARTBEAT_KEY, check_eviction_policy, machinery_status
from panel.jobs.maintenance import heartbeat
from panel.jobs.queues import QUEUE_SPECS, enqueue
from tests.conftest import FLASK, PROJECT_ROOT
from tests.processes import start_flask, stop, wait_until

# --- embedded Redis --------------------------------------------------------------------------


def test_embedded_redis_is_a_real_server_on_a_private_socket(tmp_path):
    server = EmbeddedRedis(tmp_path)
    url = server.ensure_running()
    try:
        assert url == f"unix://{tmp_path / 'redis.sock'}"
        client = redis.Redis.from_url(url)
        assert client.ping()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert client.config_get("port")["port"] == "0"  # no TCP port: 6379 may belong to someone else
        client.close()

        # A second process of the panel finds it alive and shares it instead of starting another.
        other = EmbeddedRedis(tmp_path)
        assert other.ensure_running() == url and not other.owned
    finally:
        process = server.process
        server.stop()
    assert process.poll() is not None
    assert not (tmp_path / "redis.sock").exists()


def test_app_without_redis_url_starts_and_uses_the_embedded_server(make_app, tmp_path):
    app = make_app(REDIS_URL="", INSTANCE_PATH=tmp_path)  # empty: even if the environment sets one
    server = app.extensions["embedded_redis"]
    try:
        assert app.config["REDIS_URL"] == f"unix://{tmp_path / 'redis.sock'}"
        assert app.extensions["redis"].ping()
    finally:
        app.extensions["redis"].close()
        server.stop()


def test_an_evicting_redis_is_reported_loudly(tmp_path, caplog):
    server = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(server.ensure_running())
    try:
        assert check_eviction_policy(client) == "noeviction"
        client.config_set("maxmemory-policy", "allkeys-lru")
        with caplog.at_level(logging.ERROR, logger="panel.jobs.health"):
            assert check_eviction_policy(client) == "allkeys-lru"
        assert "noeviction" in caplog.text and "drop queued jobs" in caplog.text
    finally:
        client.close()
        server.stop()


# --- queues, worker, scheduler ---------------------------------------------------------------


def test_enqueue_sets_explicit_timeouts_and_a_safe_description(app):
    with app.app_context():
        job = enqueue(heartbeat, queue="default", job_id="heartbeat-test", description="Heartbeat de teste")
        fetched = Job.fetch(job.id, connection=app.extensions["redis"])
    spec = QUEUE_SPECS["default"]
    assert fetched.description == "Heartbeat de teste"
    assert fetched.timeout == spec.job_timeout
    assert fetched.result_ttl == spec.result_ttl and fetched.failure_ttl == spec.failure_ttl
    assert fetched.args == ()


def test_a_real_worker_runs_a_job_against_the_database_and_redis(app, panel_env):
    connection = app.extensions["redis"]
    with app.app_context():
        job = enqueue(heartbeat, queue="default", description="Heartbeat")
    result = subprocess.run(
        [FLASK, "worker", "--burst"], cwd=PROJECT_ROOT, env=panel_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    job.refresh()
    assert job.get_status() == "finished"
    assert connection.get(HEARTBEAT_KEY) is not None
    status = machinery_status(connection)
    assert status.last_heartbeat_age_s is not None and status.last_heartbeat_age_s < 120


def test_banner_follows_the_worker_coming_and_going(app, panel_env, login_as, client):
    login_as("leitura")
    assert "nenhum worker rodando" in client.get("/").get_data(as_text=True)

    worker = start_flask(panel_env, "worker")
    try:
        wait_until(lambda: Worker.count(connection=app.extensions["redis"]) == 1, message="worker registration")
        assert "nenhum worker rodando" not in client.get("/").get_data(as_text=True)
        assert client.get("/status.json").get_json()["workers"] == 1
    finally:
        output = stop(worker)
    assert worker.returncode == 0, output
    wait_until(lambda: Worker.count(connection=app.extensions["redis"]) == 0, message="worker death")
    assert "nenhum worker rodando" in client.get("/").get_data(as_text=True)


def test_scheduler_registers_itself_and_enqueues_the_periodic_jobs(app, panel_env, login_as, client):
    connection = app.extensions["redis"]
    login_as("leitura")
    assert "O agendador está parado" in client.get("/").get_data(as_text=True)

    scheduler = start_flask(panel_env, "scheduler")
    try:
        wait_until(lambda: machinery_status(connection).schedulers == 1, message="scheduler registration")
        queue = Queue("default", connection=connection)
        wait_until(lambda: queue.count >= 2, message="the periodic jobs enqueued by cron")
        assert {job.func_name for job in queue.jobs} >= {
            "panel.jobs.maintenance.heartbeat",
            "panel.jobs.relay.relay",
        }
        assert "O agendador está parado" not in client.get("/").get_data(as_text=True)
    finally:
        output = stop(scheduler)
    assert scheduler.returncode in (0, -signal.SIGTERM), output
    wait_until(lambda: machinery_status(connection).schedulers == 0, message="scheduler unregistration")


def test_status_endpoint_reports_a_dead_redis(make_app, make_user):
    from tests.conftest import AuthActions

    dead = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    client = dead.test_client()
    AuthActions(client).login(make_user("leitura").username)
    status = client.get("/status.json").get_json()
    assert status["redis_ok"] is False
    assert status["problems"] == [
        "O envio às plataformas está fora do ar (o Redis não responde): nenhum pedido sai até ele voltar. "
        "Avise o suporte técnico."
    ]


@pytest.mark.parametrize("queue", sorted(QUEUE_SPECS))
def test_queue_timeouts_are_explicit_and_generous(queue):
    spec = QUEUE_SPECS[queue]
    # Longer than the platforms' HTTP timeouts (3 s connect + 10 s read) with room for retries.
    assert spec.job_timeout >= 60
    assert spec.failure_ttl >= 86400  # failed jobs stay visible for at least a day


def test_a_stale_heartbeat_warns_the_operators():
    from panel.jobs.health import MachineryStatus

    healthy = MachineryStatus(redis_ok=True, workers=1, schedulers=1, last_heartbeat_age_s=20)
    assert healthy.problems == []
    stuck = MachineryStatus(redis_ok=True, workers=1, schedulers=1, last_heartbeat_age_s=600)
    assert stuck.problems and "não completam um ciclo há 10 min" in stuck.problems[0]


def test_a_redis_that_hangs_fails_fast_instead_of_freezing_pages(make_app):
    """A server that accepts connections and never answers (a frozen Redis, a partition)."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        app = make_app(REDIS_URL=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        assert not machinery_status(app.extensions["redis"]).redis_ok
    finally:
        silent.close()


def test_a_job_past_its_timeout_is_stopped_and_the_worker_goes_on(app):
    """No process per job, and still job timeouts: RQ's SIGALRM stops the job, the worker lives."""
    from panel.jobs.worker import PanelWorker

    connection = app.extensions["redis"]
    queue = Queue("default", connection=connection)
    too_long = queue.enqueue("time.sleep", 30, job_timeout=1)
    with app.app_context():
        after = enqueue(heartbeat, queue="default", description="Heartbeat")
        PanelWorker([queue], connection=connection).work(burst=True, with_scheduler=False)
    assert too_long.get_status(refresh=True) == "failed"
    assert "JobTimeoutException" in too_long.latest_result().exc_string
    assert after.get_status(refresh=True) == "finished" and connection.get(HEARTBEAT_KEY) is not None
