"""The provisioning engine and the Integradores lists, measured against baselines of the same run.

Run by ``make bench`` (``.venv/bin/python bench/provisioning.py``). Every figure printed is a
ratio between two things measured here, one after the other, on the same machine, so the noise
of a shared machine mostly cancels out; each has its goal and PASS/MISS.

Parts 1 to 3 run on SQLite (a temporary file) and then on PostgreSQL (this machine's, in a
schema ``bench_engine`` of its own; BENCH_PG_URL to choose another, ``none`` to skip).

1. G1, enqueue rate. ``panel.jobs.dispatch.send`` of N operations (the real path: one atomic
   script per batch, ``panel.jobs.batch_enqueue``, doing the existence check and the writes)
   against the minimum a Redis queue needs for the same N jobs, written with a raw redis-py
   pipeline: per job one HSET of the job's hash (the fields a worker needs: the pickled+zlib'd
   call ``(function, None, (op_id,), {})`` exactly as RQ stores it, status, origin,
   description, created_at, enqueued_at, timeout) and one RPUSH of its id onto the queue's
   list, i.e. 2 writes per job in one non-transactional pipeline. Printed: rate ours / rate raw
   (goal >= 0.8x), the median of several alternating rounds; plus Redis commands per job of
   each.
2. G2, Redis commands per completed job (goal <= 40). ``INFO commandstats`` (calls + rejected
   calls of every command, those a script runs included) before and after N syncs of new
   Skeelo contracts run end to end: ``contracts.act_many`` (the operator's bulk action: records
   the operations and enqueues them with ``send``) and one real ``flask worker`` process
   (``panel.jobs.worker.PanelWorker``, with RQ's scheduler process) converging them against the
   Skeelo sandbox. The bench polls the database, never Redis, while they run; its own two INFO
   calls are taken out. With the default private redis-server nobody else's commands count.
3. G3, throughput of k workers (k = 1, 2, 4 real ``flask worker`` processes) syncing N new
   Skeelo contracts against the sandbox with 20 ms of added latency per request, against a
   plain loop in this process calling the adapter directly for N/2 other subscribers (``get``,
   then ``create``, which looks up again and POSTs: the same three requests a sync makes), run
   just before and just after each k (the mean of the two is the baseline). The workers' rate
   is N / (last ``finished_at`` - first ``started_at`` of the operations, from the database);
   the platform's concurrency limit is 8 so it never throttles. Goal: ratio >= 0.7*k.
4. Integradores list page at a large number of subscriptions against a small one (goal <= 1.5x):
   ``GET /integradores/tv/clientes?aba=ativos`` (first page, with its tabs' counts) and the same
   with ``antes=<id in the middle>`` (a keyset page deep inside), and the home page (Visão geral:
   the counts per platform and tab, failed operations, overdue títulos, 90 days of snapshots in
   the chart), rendered through the Flask test client, logged in as *leitura*. The counts come
   from the trigger-kept counters, compacted once after the load as the cron job does every
   minute. Each size has a database of its own (clients, contracts, subscriptions and their
   operations bulk-inserted with SQLAlchemy Core in batches of 20,000; 60 % ITTV, 40 % Skeelo;
   tabs ~85 % active, 10 % blocked, 5 % suspended or cancelled); the two are then requested in
   turn, the order alternating, and the medians compared. SQLite in temporary files, and
   PostgreSQL too when BENCH_PG_URL is set (one schema per size; ANALYZE after the load, as
   autovacuum would do before long: without statistics the planner scans whole tables).

Environment:
  BENCH_QUICK=1          smaller run (list 10k vs 100k, fewer jobs); the default is the full size
  BENCH_PARTS=1234       which parts to run
  BENCH_ENQUEUE_N        jobs per enqueue round (default 3000; quick 1000)
  BENCH_COMMANDS_N       syncs counted in part 2 (default 400; quick 100)
  BENCH_THROUGHPUT_N     syncs per throughput run in part 3 (default 300, at most 500; quick 100)
  BENCH_LIST_SMALL / BENCH_LIST_LARGE   subscriptions in part 4 (default 100000 / 1000000)
  BENCH_REDIS_URL        use this Redis (flushed!) instead of a private redis-server on
                         127.0.0.1:BENCH_REDIS_PORT (default 5879); a shared server's
                         commandstats also count other clients, so part 2 is exact only privately
  BENCH_PG_URL           the PostgreSQL database of parts 1-3 (default this machine's, "none" to
                         skip); when set, part 4 runs on it too (schemas bench_list_<size>,
                         dropped and made again), e.g. postgresql://postgres@127.0.0.1:5432/bench
  BENCH_SANDBOX_PORT     the Skeelo sandbox's port (default 5801)
"""

from __future__ import annotations

import os
import pickle
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from _private_redis import PrivateRedis  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PARTS = os.environ.get("BENCH_PARTS", "1234")


def _int_env(name: str, full: int, quick: int) -> int:
    return int(os.environ.get(name) or (quick if QUICK else full))


ENQUEUE_N = _int_env("BENCH_ENQUEUE_N", 3000, 1000)
ENQUEUE_ROUNDS = 7 if not QUICK else 3
COMMANDS_N = _int_env("BENCH_COMMANDS_N", 400, 100)
THROUGHPUT_N = min(_int_env("BENCH_THROUGHPUT_N", 300, 100), 500)  # one act_many batch
THROUGHPUT_KS = (1, 2, 4)
LIST_SMALL = _int_env("BENCH_LIST_SMALL", 100_000, 10_000)
LIST_LARGE = _int_env("BENCH_LIST_LARGE", 1_000_000, 100_000)
LIST_RUNS = 15
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT") or 5879)
SANDBOX_PORT = int(os.environ.get("BENCH_SANDBOX_PORT") or 5801)
LATENCY_MS = 20
CONCURRENCY_LIMIT = 8
FLASK = str(Path(sys.executable).with_name("flask"))
# This machine's PostgreSQL (trust auth); BENCH_PG_URL=none measures SQLite alone.
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

RESULTS: list[tuple[str, str, str, bool]] = []  # (what, figure, goal, passed)


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(what: str, value: float, goal: float, *, at_least: bool, unit: str = "x") -> None:
    passed = value >= goal if at_least else value <= goal
    figure = f"{value:.2f}{unit}"
    goal_text = f"{'>=' if at_least else '<='} {goal:.2f}{unit}"
    RESULTS.append((what, figure, goal_text, passed))
    say(f"  => {what}: {figure}  (goal {goal_text})  {'PASS' if passed else 'MISS'}")


# -- the parts' surroundings ------------------------------------------------------------------


def cpf(n: int) -> str:
    """A valid CPF (check digits right) for a counter: the sandboxes validate documents."""
    base = [int(c) for c in f"{n % 10**9:09d}"]
    if len(set(base)) == 1:
        base[0] = (base[0] + 1) % 10
    for weight_from in (10, 11):
        total = sum(d * w for d, w in zip(base, range(weight_from, 1, -1), strict=False))
        base.append(total * 10 % 11 % 10)
    return "".join(map(str, base))


def command_counts(connection: redis.Redis) -> Counter:
    """Commands the server received so far, by name (calls + rejected calls)."""
    counts = Counter()
    for name, stats in connection.info("commandstats").items():
        counts[name.removeprefix("cmdstat_")] = int(stats.get("calls", 0)) + int(stats.get("rejected_calls", 0))
    return counts


class Bench:
    """The app the bench drives (its own temporary SQLite file, the bench's Redis) and the
    environment of the ``flask worker`` processes it starts on the same parts."""

    def __init__(self, workdir: Path, redis_url: str, database_url: str, label: str) -> None:
        from cryptography.fernet import Fernet

        from panel import create_app
        from panel.extensions import db

        self.workdir = workdir
        self.redis_url = redis_url
        self.database_url = database_url
        self.label = label
        self.settings = {
            "PANEL_ENV": "development",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
        self.app = create_app({**self.settings, "INSTANCE_PATH": workdir / "instance", "LOG_LEVEL": "WARNING"})
        with self.app.app_context():
            db.drop_all()
            db.create_all()
        self.redis: redis.Redis = self.app.extensions["redis"]
        self.workers: list[subprocess.Popen] = []

    def worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({key: str(value) for key, value in self.settings.items()})
        env.update({"FLASK_APP": "app", "PANEL_INSTANCE_PATH": str(self.workdir / "instance"), "PYTHONUNBUFFERED": "1"})
        return env

    def start_workers(self, count: int) -> None:
        """``count`` real ``flask worker`` processes, registered and idle when this returns."""
        from rq import Worker

        for index in range(count):
            with open(self.workdir / f"worker-{len(self.workers) + index}.log", "wb") as log:
                self.workers.append(
                    subprocess.Popen(
                        [FLASK, "worker"],
                        cwd=ROOT,
                        env=self.worker_env(),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        while Worker.count(connection=self.redis) < len(self.workers):
            if time.monotonic() > deadline or any(w.poll() is not None for w in self.workers):
                raise RuntimeError(f"workers did not start; see {self.workdir}/worker-*.log")
            time.sleep(0.1)
        time.sleep(1.5)  # their schedulers start and settle

    def close(self) -> None:
        from panel.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.workers = []


def skeelo_platform(bench: Bench, sandbox) -> tuple[int, int]:
    """The Skeelo sandbox registered in Configurações, with a plan; (platform id, plan id)."""
    from panel.domain import platforms as platforms_domain
    from panel.extensions import db
    from panel.models import Platform
    from tests.factories import SKEELO_PRODUCTS, SYSTEM, make_plan_in_db, make_platform

    app = bench.app
    platform_id = make_platform(app, "skeelo", SKEELO_PRODUCTS)
    with app.app_context():
        platform = db.session.get(Platform, platform_id)
        platforms_domain.update_platform(
            SYSTEM,
            platform,
            code=platform.code,
            name=platform.name,
            server_url=sandbox.url,
            token=sandbox.token,
            concurrency_limit=CONCURRENCY_LIMIT,
            active=True,
        )
    return platform_id, make_plan_in_db(app, platform_id, "Skeelo Leitura", codes=("SKEELO-EBOOKS",))


def template_rows(app, plan_id: int) -> tuple[dict, dict]:
    """One client and one contract made through the domain, as rows to clone in bulk."""
    from panel.extensions import db
    from panel.models import Client, Contract
    from tests.factories import make_client, make_contract

    marker = uuid.uuid4().hex[:6]
    client_id = make_client(
        app,
        document=cpf(900_000_000 + random.randrange(99_999_999)),
        email=f"modelo-{marker}@example.com.br",
        name="Cliente Modelo",
        phone="11987654321",
        zipcode="01310100",
        street="Avenida Paulista",
        number="1000",
        city="São Paulo",
        state="SP",
    )
    contract_id = make_contract(app, client_id, plan_id)
    with app.app_context():
        client = dict(db.session.execute(select(Client.__table__).where(Client.id == client_id)).mappings().one())
        contract = dict(
            db.session.execute(select(Contract.__table__).where(Contract.id == contract_id)).mappings().one()
        )
    return client, contract


def clone_contracts(app, plan_id: int, count: int, first_number: int) -> list[int]:
    """``count`` new clients, each with an active contract for the plan (bulk INSERTs); ids."""
    from panel.extensions import db
    from panel.models import Client, Contract

    client, contract = template_rows(app, plan_id)
    with app.app_context():
        next_client = db.session.scalar(select(func.max(Client.id))) + 1
        next_contract = db.session.scalar(select(func.max(Contract.id))) + 1
        clients, contracts = [], []
        for i in range(count):
            number = first_number + i
            clients.append(
                {
                    **client,
                    "id": next_client + i,
                    "document": cpf(number),
                    "name": f"Assinante {number}",
                    "search_name": f"assinante {number}",
                    "email": f"assinante{number}@example.com.br",
                }
            )
            contracts.append({**contract, "id": next_contract + i, "client_id": next_client + i})
        db.session.execute(insert(Client.__table__), clients)
        db.session.execute(insert(Contract.__table__), contracts)
        if db.engine.dialect.name == "postgresql":  # ids given explicitly: move the sequences past them
            for table in ("clients", "contracts"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                db.session.execute(text(f"SELECT setval({sequence}, max(id)) FROM {table}"))
        db.session.commit()
    return [row["id"] for row in contracts]


def sync_all(app, contract_ids: list[int]) -> list[int]:
    """*Sincronizar* on each contract through the domain's bulk action (records the operations,
    then enqueues them with ``send``); the operations' ids."""
    from panel.domain import contracts
    from panel.extensions import db
    from tests.factories import SYSTEM

    op_ids = []
    with app.app_context():
        for start in range(0, len(contract_ids), contracts.BULK_LIMIT):
            outcome = contracts.act_many(SYSTEM, contract_ids[start : start + contracts.BULK_LIMIT], "sync")
            assert not outcome.refused, outcome.refused[:3]
            db.session.commit()  # each batch is a request's worth: committed, then sent
            op_ids += [result.operation.id for result in outcome.results]
    return op_ids


def wait_finished(app, op_ids: list[int], timeout: float) -> dict[str, int]:
    """Poll the database (never Redis) until every operation is done or failed."""
    from panel.extensions import db
    from panel.models import Operation

    deadline = time.monotonic() + timeout
    low, high = min(op_ids), max(op_ids)
    with app.app_context():
        while True:
            counts = dict(
                db.session.execute(
                    select(Operation.status, func.count())
                    .where(Operation.id.between(low, high))
                    .group_by(Operation.status)
                ).all()
            )
            db.session.rollback()
            if counts.get("done", 0) + counts.get("failed", 0) >= len(op_ids):
                return counts
            if time.monotonic() > deadline:
                raise RuntimeError(f"operations not finished after {timeout:.0f} s: {counts}")
            time.sleep(0.05)


# -- 1. enqueue rate --------------------------------------------------------------------------


def raw_enqueue(connection: redis.Redis, jobs: list[tuple[int, str]]) -> None:
    """The minimum a queue needs: per job one HSET (the job's hash with the fields a worker
    needs, the call pickled and compressed as RQ stores it) and one RPUSH, in one pipeline."""
    from panel.jobs.dispatch import JOBS
    from panel.models import Operation

    OPERATION_JOB = JOBS[Operation].func

    pipe = connection.pipeline(transaction=False)
    for op_id, job_id in jobs:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = zlib.compress(pickle.dumps((OPERATION_JOB, None, (op_id,), {}), protocol=pickle.HIGHEST_PROTOCOL))
        pipe.hset(
            f"bench:job:{job_id}",
            mapping={
                "data": data,
                "status": "queued",
                "origin": "provisioning",
                "description": f"Operação {op_id}",
                "created_at": stamp,
                "enqueued_at": stamp,
                "timeout": 120,
            },
        )
        pipe.rpush("bench:queue:provisioning", job_id)
    pipe.execute()


def part_enqueue(bench: Bench) -> None:
    from rq import Queue

    from panel.domain.outbox import Delivery
    from panel.jobs import dispatch
    from panel.models import Operation

    def send(batch: list[tuple[int, str]]) -> int:
        return dispatch.send([Delivery(Operation, op_id, job_id) for op_id, job_id in batch])

    n = ENQUEUE_N
    say(
        f"\n[1] Enqueue rate: send() of {n} operations vs a raw pipeline of HSET+RPUSH per job "
        f"(median of {ENQUEUE_ROUNDS} alternating rounds)"
    )
    connection = bench.redis
    jobs = [(op_id, f"op-{op_id}") for op_id in range(1, n + 1)]
    ours, raw = [], []
    with bench.app.app_context():
        send(jobs[:50])  # warm-up: imports, the queue's Redis version lookup
        connection.flushdb()
        raw_enqueue(connection, jobs[:50])
        connection.flushdb()
        for _ in range(ENQUEUE_ROUNDS):
            started = time.perf_counter()
            sent = send(jobs)
            ours.append(time.perf_counter() - started)
            assert sent == n and Queue("provisioning", connection=connection).count == n
            connection.flushdb()
            started = time.perf_counter()
            raw_enqueue(connection, jobs)
            raw.append(time.perf_counter() - started)
            assert connection.llen("bench:queue:provisioning") == n
            connection.flushdb()

        # Commands per job of each (the server's own count).
        before = command_counts(connection)
        send(jobs)
        ours_commands = command_counts(connection) - before
        connection.flushdb()
        before = command_counts(connection)
        raw_enqueue(connection, jobs)
        raw_commands = command_counts(connection) - before
        connection.flushdb()

    ours_rate, raw_rate = n / statistics.median(ours), n / statistics.median(raw)
    say(
        f"  ours: {ours_rate:,.0f} jobs/s   raw: {raw_rate:,.0f} jobs/s   "
        f"(Redis commands per job: ours {sum(ours_commands.values()) / n:.2f}, "
        f"raw {sum(raw_commands.values()) / n:.2f})"
    )
    say("  ours per job: " + ", ".join(f"{name} {count / n:.2f}" for name, count in ours_commands.most_common()))
    verdict(f"G1 enqueue rate ours/raw ({bench.label})", ours_rate / raw_rate, 0.8, at_least=True)


# -- 2. Redis commands per completed job ------------------------------------------------------


def part_commands(bench: Bench, sandbox, platform_id: int, plan_id: int) -> None:
    n = COMMANDS_N
    say(f"\n[2] Redis commands per completed job: {n} Skeelo syncs, act_many + 1 flask worker, INFO commandstats delta")
    sandbox.reset()
    contract_ids = clone_contracts(bench.app, plan_id, n, first_number=100_000)
    bench.redis.flushdb()
    bench.start_workers(1)
    try:
        counter = redis.Redis.from_url(bench.redis_url)  # for INFO only
        before = command_counts(counter)
        op_ids = sync_all(bench.app, contract_ids)
        outcome = wait_finished(bench.app, op_ids, timeout=120 + n)
        time.sleep(1.0)  # the work horse's bookkeeping after the job's last database commit
        delta = command_counts(counter) - before
        delta["info"] -= 1  # the bench's own first INFO (the second one is not in its own count)
        counter.close()
    finally:
        bench.stop_workers()
    total = sum(delta.values())
    say(f"  operations: {outcome}; commands: {total} in all")
    say("  per job: " + ", ".join(f"{name} {count / n:.2f}" for name, count in delta.most_common() if count))
    verdict(f"G2 Redis commands per completed job ({bench.label})", total / n, 40, at_least=False, unit="")


# -- 3. throughput of k workers ---------------------------------------------------------------


def baseline_loop(bench: Bench, platform_id: int, plan_id: int, n: int, first_number: int) -> float:
    """A plain loop calling the adapter: get, then create (lookup + POST), for n subscribers."""
    from panel.extensions import db
    from panel.jobs.adapters import fresh_provider_for
    from panel.models import Platform
    from panel.providers import AccessStatus, PlanProducts, SubscriberData

    plan = PlanProducts(("SKEELO-EBOOKS",))
    datas = [
        SubscriberData(
            external_ref=f"loop-{uuid.uuid4().hex[:12]}",
            name=f"Laço {i}",
            document=cpf(first_number + i),
            email=f"laco{i}@example.com.br",
            plan=plan,
        )
        for i in range(n)
    ]
    with bench.app.app_context():
        platform = db.session.get(Platform, platform_id)
        with fresh_provider_for(platform) as provider:
            started = time.perf_counter()
            for data in datas:
                if provider.get(data.ref) is None:
                    provider.create(data, AccessStatus.ACTIVE)
            elapsed = time.perf_counter() - started
        db.session.rollback()
    return n / elapsed


def workers_run(bench: Bench, plan_id: int, k: int, n: int, first_number: int) -> tuple[float, float, dict]:
    """n syncs by k flask workers: (rate by the operations' own times, end-to-end rate, outcome)."""
    from panel.extensions import db
    from panel.models import Operation

    contract_ids = clone_contracts(bench.app, plan_id, n, first_number=first_number)
    bench.start_workers(k)
    try:
        started = time.perf_counter()
        op_ids = sync_all(bench.app, contract_ids)
        outcome = wait_finished(bench.app, op_ids, timeout=120 + n)
        end_to_end = n / (time.perf_counter() - started)
    finally:
        bench.stop_workers()
    with bench.app.app_context():
        first, last = db.session.execute(
            select(func.min(Operation.started_at), func.max(Operation.finished_at)).where(Operation.id.in_(op_ids))
        ).one()
    return n / (last - first).total_seconds(), end_to_end, outcome


def part_throughput(bench: Bench, sandbox, platform_id: int, plan_id: int) -> None:
    n = THROUGHPUT_N
    say(
        f"\n[3] Throughput: {n} Skeelo syncs by k flask workers vs a plain adapter loop, "
        f"sandbox latency {LATENCY_MS} ms, concurrency limit {CONCURRENCY_LIMIT}"
    )
    sandbox.reset()
    sandbox.admin("PUT", "/latency", json={"ms": LATENCY_MS})
    bench.redis.flushdb()
    # The loop runs before and after each k (half as many subscribers), and each k is compared with
    # the mean of the two around it, so a drift of the machine's load weighs on both sides.
    loops = [baseline_loop(bench, platform_id, plan_id, n // 2, first_number=700_000)]
    for index, k in enumerate(THROUGHPUT_KS):
        rate, end_to_end, outcome = workers_run(bench, plan_id, k, n, first_number=200_000 + index * 10_000)
        loops.append(baseline_loop(bench, platform_id, plan_id, n // 2, first_number=710_000 + index * 10_000))
        loop_rate = (loops[-2] + loops[-1]) / 2
        say(f"  plain loop around it: {loops[-2]:.1f} and {loops[-1]:.1f} subscribers/s")
        say(
            f"  k={k}: {rate:.1f} ops/s by the operations' times, {rate / k / loop_rate:.2f}x the loop per worker "
            f"({end_to_end:.1f} ops/s end to end, act_many included: {end_to_end / loop_rate:.2f}x); {outcome}"
        )
        verdict(f"G3 throughput k={k} / plain loop ({bench.label})", rate / loop_rate, 0.7 * k, at_least=True)
    sandbox.admin("PUT", "/latency", json={"ms": 0})


# -- 4. Integradores list page ----------------------------------------------------------------


class ListData:
    """Subscriptions with their clients, contracts and operations, inserted in bulk: 60 % at
    ITTV, 40 % at Skeelo, interleaved; tabs ~85 % active, ~10 % blocked, ~5 % cancelled or
    suspended; one sync per subscriber, one more operation for the blocked and inactive ones,
    ~1 % failed or still on the way."""

    BATCH = 20_000

    def __init__(self, app) -> None:
        from panel.extensions import db
        from panel.models import Platform
        from tests.factories import ITTV_PRODUCTS, SKEELO_PRODUCTS, SYSTEM, make_plan_in_db, make_platform

        self.app = app
        self.rng = random.Random(20260105)
        self.loaded = 0
        ittv = make_platform(app, "ittv", ITTV_PRODUCTS)
        skeelo = make_platform(app, "skeelo", SKEELO_PRODUCTS)
        self.platforms = {"ittv": ittv, "skeelo": skeelo}
        plans = {
            "ittv": make_plan_in_db(app, ittv, "PlayHub Premium 12 meses", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM")),
            "skeelo": make_plan_in_db(app, skeelo, "Skeelo Leitura 12 meses", codes=("SKEELO-EBOOKS",)),
        }
        self.templates = {kind: template_rows(app, plan_id) for kind, plan_id in plans.items()}
        with app.app_context():
            self.first_id = 1 + max(db.session.scalar(select(func.max(t.c.id))) or 0 for t in self._tables())
            assert db.session.get(Platform, ittv).kind == "ittv"
        self.actor = SYSTEM.name

    @staticmethod
    def _tables():
        from panel.models import Client, Contract, Operation, Subscription

        return [Client.__table__, Contract.__table__, Subscription.__table__, Operation.__table__]

    def grow_to(self, total: int) -> float:
        """Insert subscribers until there are ``total``; returns the seconds it took."""
        from panel.extensions import db
        from panel.models import Client, Contract, Operation, Subscription

        started = time.perf_counter()
        now = datetime.now(UTC)
        with self.app.app_context():
            while self.loaded < total:
                count = min(self.BATCH, total - self.loaded)
                clients, contracts, subscriptions, operations = [], [], [], []
                for i in range(self.loaded, self.loaded + count):
                    row_id = self.first_id + i
                    kind = "ittv" if self.rng.random() < 0.6 else "skeelo"
                    client, contract = self.templates[kind]
                    roll = self.rng.random()
                    if roll < 0.85:
                        status, desired, tab = "active", "active", "active"
                    elif roll < 0.95:
                        status, tab = "active", "blocked"
                        desired = "partial_block" if kind == "ittv" and roll < 0.90 else "blocked"
                    elif roll < 0.98:
                        status, desired, tab = "suspended", "blocked", "inactive"
                    else:
                        status, desired, tab = "cancelled", "cancelled", "inactive"
                    last = "done" if self.rng.random() > 0.01 else self.rng.choice(("failed", "queued"))
                    clients.append(
                        {
                            **client,
                            "id": row_id,
                            "document": f"{row_id:011d}",
                            "name": f"Assinante {row_id}",
                            "search_name": f"assinante {row_id}",
                            "email": f"assinante{row_id}@example.com.br",
                        }
                    )
                    contracts.append({**contract, "id": row_id, "client_id": row_id, "status": status})
                    subscriptions.append(
                        {
                            "id": row_id,
                            "contract_id": row_id,
                            "platform_id": self.platforms[kind],
                            "exclusive_client_id": row_id if kind == "ittv" and status != "cancelled" else None,
                            "external_ref": f"psva-{row_id}-{row_id:08x}",
                            "external_id": f"ext-{row_id}",
                            "desired_status": desired,
                            "remote_status": desired if last == "done" else "active",
                            "list_tab": tab,
                            "last_error": "Erro de teste." if last == "failed" else None,
                            "created_at": now,
                            "updated_at": now,
                            "confirmed_at": now,
                        }
                    )
                    ops = [("sync", "active")] + ([("set_status", desired)] if desired != "active" else [])
                    for number, (op_kind, target) in enumerate(ops):
                        final = number == len(ops) - 1
                        operations.append(
                            {
                                "subscription_id": row_id,
                                "kind": op_kind,
                                "target_status": target,
                                "details": None,
                                "status": last if final else "done",
                                "attempts": 1,
                                "deliveries": 0,
                                "next_attempt_at": None,
                                "last_error": None,
                                "result": "Skeelo confirmou: active.",
                                "lease_until": None,
                                "requested_by_id": None,
                                "requested_by_name": self.actor,
                                "created_at": now,
                                "updated_at": now,
                                "started_at": now,
                                "finished_at": now,
                            }
                        )
                db.session.execute(insert(Client.__table__), clients)
                db.session.execute(insert(Contract.__table__), contracts)
                db.session.execute(insert(Subscription.__table__), subscriptions)
                db.session.execute(insert(Operation.__table__), operations)
                db.session.commit()
                self.loaded += count
        return time.perf_counter() - started

    def deep_id(self) -> int:
        """An id in the middle of the loaded range: a keyset page deep inside the list."""
        return self.first_id + self.loaded // 2


def snapshot_history(data: ListData) -> None:
    """90 days of daily snapshots per platform (the home page's chart), as the cron job leaves them."""
    from datetime import timedelta

    from panel.domain.common import local_today
    from panel.extensions import db
    from panel.models import LicenceSnapshot

    today = local_today()
    for number, platform_id in enumerate(data.platforms.values()):
        db.session.add_all(
            LicenceSnapshot(
                platform_id=platform_id,
                day=today - timedelta(days=days_ago),
                active=data.loaded * (6 - 2 * number) // 10 - days_ago * 7,
                blocked=data.loaded // 10,
                inactive=data.loaded // 20,
            )
            for days_ago in range(90)
        )


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "page has no csrf_token field"
    return match.group(1)


def logged_in_client(app):
    from panel.domain.users import create_user
    from tests.factories import SYSTEM

    username = f"bench-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        create_user(SYSTEM, username=username, name="Bench", role="leitura", password="senha-do-bench-123")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": username, "password": "senha-do-bench-123", "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return client


def list_app(database_url: str, workdir: Path, redis_url: str):
    """An app on its own database (schema created afresh) for one size of part 4."""
    from panel import create_app
    from panel.extensions import db

    app = create_app(
        {
            "PANEL_ENV": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "INSTANCE_PATH": workdir / "instance",
            "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
            "LOG_LEVEL": "WARNING",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 8,
            "ARGON2_PARALLELISM": 1,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def list_pages_on(label: str, database_urls: dict[int, str], workdir: Path, redis_url: str) -> None:
    """Both sizes loaded into databases of their own, then each page requested on one and the
    other in turn (the order alternating), so that a change in the machine's load during the
    measurement weighs on both sides alike."""
    from panel.extensions import db
    from panel.jobs.licences import compact_tab_counts

    apps, clients, deep = {}, {}, {}
    for size, database_url in database_urls.items():
        app = apps[size] = list_app(database_url, workdir, redis_url)
        data = ListData(app)
        seconds = data.grow_to(size)
        with app.app_context():
            compact_tab_counts()  # the cron job (every minute): folds the counters, vacuums after a bulk load
            snapshot_history(data)
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
        clients[size], deep[size] = logged_in_client(app), data.deep_id()
        say(f"  {label}, {size:>9,} subscriptions: loaded in {seconds:.0f} s")
    say(f"  {label}: {db_kind(apps[LIST_SMALL])}")
    pages = {
        "first page": lambda size: "/integradores/tv/clientes?aba=ativos",
        "deep keyset page": lambda size: f"/integradores/tv/clientes?aba=ativos&antes={deep[size]}",
        "home page (Visão geral)": lambda size: "/",
    }
    for name, url_for_size in pages.items():
        times: dict[int, list[float]] = {size: [] for size in apps}
        rows = {}
        for round_number in range(LIST_RUNS + 2):  # the first two warm up
            order = sorted(apps, reverse=bool(round_number % 2))
            for size in order:
                started = time.perf_counter()
                response = clients[size].get(url_for_size(size))
                body = response.get_data()
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (size, name, response.status_code)
                rows[size] = body.count(b'data-testid="subscriber-row"') or body.count(b'data-testid="count-ativos"')
                if round_number >= 2:
                    times[size].append(elapsed)
        small, large = statistics.median(times[LIST_SMALL]), statistics.median(times[LIST_LARGE])
        say(
            f"    {name}: {small * 1000:.1f} ms at {LIST_SMALL:,} ({rows[LIST_SMALL]} rows), "
            f"{large * 1000:.1f} ms at {LIST_LARGE:,} ({rows[LIST_LARGE]} rows)"
        )
        verdict(f"list {name} {LIST_LARGE:,} / {LIST_SMALL:,} ({label})", large / small, 1.5, at_least=False)
    for app in apps.values():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def pg_schema_urls(base_url: str) -> dict[int, str]:
    """One schema per size in the PostgreSQL database (dropped and made again)."""
    return {size: pg_schema_url(base_url, f"bench_list_{size}") for size in (LIST_SMALL, LIST_LARGE)}


def pg_schema_url(base_url: str, schema: str) -> str:
    """The database's URL with ``schema`` (dropped and made again) as its search path."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from panel.config import normalise_database_url

    base = normalise_database_url(base_url)
    engine = create_engine(base, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def part_list(workdir: Path, redis_url: str) -> None:
    say(
        f"\n[4] Integradores list page (GET /integradores/tv/clientes?aba=ativos, test client, logged in): "
        f"{LIST_LARGE:,} vs {LIST_SMALL:,} subscriptions, median of {LIST_RUNS} interleaved requests"
    )
    list_pages_on(
        "SQLite",
        {size: f"sqlite:///{workdir / f'list-{size}.db'}" for size in (LIST_SMALL, LIST_LARGE)},
        workdir,
        redis_url,
    )
    if os.environ.get("BENCH_PG_URL", "none").lower() != "none":  # (a million rows: asked for, not by default)
        list_pages_on("PostgreSQL", pg_schema_urls(os.environ["BENCH_PG_URL"]), workdir, redis_url)


# -- the run ----------------------------------------------------------------------------------


def db_kind(app) -> str:
    from panel.extensions import db

    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                version = connection.exec_driver_sql("select sqlite_version()").scalar()
                return f"SQLite {version} (WAL, temporary file)"
            version = connection.exec_driver_sql("show server_version").scalar()
            return f"{engine.dialect.name} {version}"


@contextmanager
def skeelo_sandbox(workdir: Path):
    from tests.sandboxes import start_sandbox

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", SANDBOX_PORT)) == 0:
            raise RuntimeError(f"port {SANDBOX_PORT} is taken: set BENCH_SANDBOX_PORT")
    sandbox = start_sandbox("skeelo", workdir, port=SANDBOX_PORT)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def engine_databases(workdir: Path) -> list[tuple[str, str]]:
    """Parts 1 to 3 run on each: a temporary SQLite file, and PostgreSQL (BENCH_PG_URL, by default
    this machine's, in a schema of the bench's own) when it answers."""
    databases = [("SQLite", f"sqlite:///{workdir / 'bench.db'}")]
    base = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    if base.lower() != "none":
        try:
            databases.append(("PostgreSQL", pg_schema_url(base, "bench_engine")))
        except Exception as error:  # no server here: say so, and measure SQLite alone
            say(f"  (PostgreSQL skipped: {type(error).__name__}: {str(error).splitlines()[0]})")
    return databases


def main() -> int:
    import rq
    import sqlalchemy

    workdir = Path(tempfile.mkdtemp(prefix="bench-provisioning-"))
    private = bench = None
    try:
        if os.environ.get("BENCH_REDIS_URL"):
            redis_url = os.environ["BENCH_REDIS_URL"]
            where = f"{redis_url} (shared server: part 2 also counts other clients' commands)"
        else:
            private = PrivateRedis(workdir, REDIS_PORT)
            redis_url = private.url
            where = f"private redis-server on 127.0.0.1:{REDIS_PORT}"
        say("Provisioning benchmark" + (" (BENCH_QUICK)" if QUICK else ""))
        say(
            f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
            f"Python {sys.version.split()[0]}, SQLAlchemy {sqlalchemy.__version__}, RQ {rq.__version__}"
        )
        if PARTS.strip("4"):
            with skeelo_sandbox(workdir) as sandbox:
                for label, database_url in engine_databases(workdir):
                    bench = Bench(workdir, redis_url, database_url, label)
                    server = bench.redis.info("server")
                    say(f"\n== {label}: {db_kind(bench.app)}; Redis {server['redis_version']}: {where}")
                    if "1" in PARTS:
                        part_enqueue(bench)
                    platform_id, plan_id = skeelo_platform(bench, sandbox)
                    if "2" in PARTS:
                        part_commands(bench, sandbox, platform_id, plan_id)
                    if "3" in PARTS:
                        part_throughput(bench, sandbox, platform_id, plan_id)
                    bench.stop_workers()
                    bench.redis.flushdb()
                    bench.close()
        if "4" in PARTS:
            part_list(workdir, redis_url)
    finally:
        if bench is not None:
            bench.stop_workers()
        if private is not None:
            private.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    say(f"\nSummary (load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    for what, figure, goal, passed in RESULTS:
        say(f"  {'PASS' if passed else 'MISS'}  {what}: {figure} (goal {goal})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
