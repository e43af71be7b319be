"""The reconciliation's comparison at two sizes: does its memory stay bounded, and its time per
subscriber flat, as the platform grows?

Run by ``make bench`` (``.venv/bin/python bench/reconciliation.py``). On SQLite (the embedded
default) a database is loaded in bulk with N ITTV subscribers, synced and active; the platform's
list is a stream of N + N/20 customers as the ITTV adapter yields them: 94 % as our contracts say
(ACTIVE with the full product), 1 % INACTIVE (a *bloqueado lá* each), 5 % of ours missing (*ausente
lá*) and N/20 accounts of nobody (*desconhecido*) — enough, even at N/5, for the runs to write full
batches of differences (what a batch holds is the most a run holds). What runs is the run's body as the job runs
it, minus the HTTP: ``reconciliation.start``, ``compare_batch`` per 500 and ``finish``, each in
its own committed transaction, the real ITTV adapter comparing (its ``matches``/``status_of``/
``target`` make no call).

Measured at N and at N/5 (the smaller is the baseline of the same run, on the same machine):
- the peak of Python memory allocated during the run (tracemalloc, a pass of its own) —
  goal: at N ≤ 1.5 × at N/5 (bounded: a batch, not the list);
- the time per platform subscriber (a pass without tracemalloc) — goal: at N ≤ 1.5 × at N/5.
Printed for context: subscribers compared per second.

Environment: BENCH_QUICK=1 (N = 20,000; default 100,000), BENCH_RECONCILIATION_N.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
N = int(os.environ.get("BENCH_RECONCILIATION_N") or (20_000 if QUICK else 100_000))
GOAL = 1.5
LOAD_BATCH = 20_000
RESULTS: list[tuple[str, str, str, bool]] = []


def say(line: str = "") -> None:
    print(line, flush=True)


class Data:
    def __init__(self, size: int, workdir: Path) -> None:
        from cryptography.fernet import Fernet

        from panel import create_app
        from panel.extensions import db

        self.size = size
        self.app = create_app(
            {
                "PANEL_ENV": "development",
                "DATABASE_URL": f"sqlite:///{workdir / f'reconciliation-{size}.db'}",
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
                "INSTANCE_PATH": workdir / f"instance-{size}",
                "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
                "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "LOG_LEVEL": "WARNING",
            }
        )
        with self.app.app_context():
            db.drop_all()
            db.create_all()

    def load(self) -> None:
        from panel.extensions import db
        from panel.models import Client, Contract, Subscription
        from tests.factories import ITTV_PRODUCTS, make_client, make_contract, make_plan_in_db, make_platform

        app = self.app
        self.platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
        plan_id = make_plan_in_db(app, self.platform_id, "PlayHub", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"))
        template_client = make_client(app, document="52998224725", email="modelo@example.com.br")
        template_contract = make_contract(app, template_client, plan_id, start_date=date(2026, 1, 5))
        with app.app_context():
            client = dict(
                db.session.execute(select(Client.__table__).where(Client.id == template_client)).mappings().one()
            )
            contract = dict(
                db.session.execute(select(Contract.__table__).where(Contract.id == template_contract)).mappings().one()
            )
            first = 1 + max(
                db.session.scalar(select(func.max(table.c.id))) or 0
                for table in (Client.__table__, Contract.__table__, Subscription.__table__)
            )
            now = datetime.now(UTC)
            self.ids = range(first, first + self.size)
            for start in range(0, self.size, LOAD_BATCH):
                rows = self.ids[start : start + LOAD_BATCH]
                db.session.execute(
                    Client.__table__.insert(),
                    [
                        {
                            **client,
                            "id": i,
                            "document": f"{i:011d}",
                            "name": f"Assinante {i}",
                            "search_name": f"assinante {i}",
                            "email": f"a{i}@example.com.br",
                        }
                        for i in rows
                    ],
                )
                db.session.execute(Contract.__table__.insert(), [{**contract, "id": i, "client_id": i} for i in rows])
                db.session.execute(
                    Subscription.__table__.insert(),
                    [
                        {
                            "id": i,
                            "contract_id": i,
                            "platform_id": self.platform_id,
                            "exclusive_client_id": i,
                            "external_ref": f"psva-{i}",
                            "external_id": f"ext-{i}",
                            "desired_status": "active",
                            "remote_status": "active",
                            "list_tab": "active",
                            "created_at": now,
                            "updated_at": now,
                            "confirmed_at": now,
                        }
                        for i in rows
                    ],
                )
                db.session.commit()

    def platform_list(self):
        """The customers as ITTV lists them (a generator: the adapter's stream)."""
        from panel.domain.vocabulary import RemoteSubscriber

        for i in self.ids:
            if i % 20 == 1:
                continue  # ours, missing there
            status = "INACTIVE" if i % 100 == 2 else "ACTIVE"
            yield RemoteSubscriber(f"ext-{i}", None, f"{i:011d}", f"a{i}@example.com.br", status, ("PLAYHUB-PREMIUM",))
        for j in range(self.size // 20):
            yield RemoteSubscriber(f"manual-{j}", None, f"{j:011d}", "", "ACTIVE", ("PLAYHUB-PREMIUM",))

    def run_once(self) -> tuple[float, int, dict]:
        """One run through the domain, as the job does it without HTTP: (seconds, listed, counts)."""
        from itertools import islice

        from panel.database import unit_of_work
        from panel.domain import Actor, reconciliation
        from panel.extensions import db
        from panel.models import Platform, ReconciliationTrigger
        from panel.providers import make_provider

        comparer = make_provider("ittv", "http://127.0.0.1:9", "unused")  # compares only: no call made
        with self.app.app_context():
            with unit_of_work():
                platform = db.session.get(Platform, self.platform_id)
                run_id = reconciliation.request_run(
                    Actor.system("Bench"), platform, ReconciliationTrigger.cli, deliver=False
                ).id
            started = time.perf_counter()
            with unit_of_work():
                run = reconciliation.start(run_id)
                scan = reconciliation.Scan(run.id, run.attempts, run.platform_id)
            listed = self.platform_list()
            while batch := list(islice(listed, reconciliation.BATCH)):
                with unit_of_work():
                    reconciliation.compare_batch(scan, batch, comparer)
            with unit_of_work():
                run = reconciliation.finish(scan)
                counts = dict(run.counts)
            return time.perf_counter() - started, scan.listed, counts


def measure(size: int, workdir: Path) -> tuple[float, float]:
    """(seconds per platform subscriber, peak MiB) at ``size``."""
    data = Data(size, workdir)
    loaded = time.perf_counter()
    data.load()
    say(f"  {size:,} subscribers loaded in {time.perf_counter() - loaded:.1f} s")
    seconds, listed, counts = data.run_once()
    tracemalloc.start()
    data.run_once()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    expected = {"blocked_there": size // 100, "missing_there": size // 20, "unknown": size // 20}
    assert {k: v for k, v in counts.items() if v} == expected, counts
    per_row = seconds / listed
    say(
        f"  {size:,}: {listed:,} listed in {seconds:.2f} s ({listed / seconds:,.0f} per s); "
        f"peak Python memory during the run {peak / 2**20:.1f} MiB; differences {counts}"
    )
    return per_row, peak / 2**20


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-reconciliation-"))
    say("Reconciliation benchmark" + (" (BENCH_QUICK)" if QUICK else ""))
    say(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; SQLite; N = {N:,}")
    started = time.perf_counter()
    try:
        small_time, small_memory = measure(N // 5, workdir)
        big_time, big_memory = measure(N, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for what, ratio in (
        (f"peak memory of a run, {N:,} ÷ {N // 5:,} subscribers", big_memory / small_memory),
        (f"time per subscriber, {N:,} ÷ {N // 5:,}", big_time / small_time),
    ):
        RESULTS.append((what, f"{ratio:.2f}×", f"≤ {GOAL}×", ratio <= GOAL))
    say(f"\nSummary ({time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.2f})")
    for what, figure, goal, passed in RESULTS:
        say(f"  {'PASS' if passed else 'MISS'}  {what}: {figure} (goal {goal})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
