"""The assinantes CSV export at a large number of subscriptions against a small one: rows per
second, and the memory it holds (a streamed export keeps one batch, whatever the size).

Run by ``make bench`` (``.venv/bin/python bench/exports.py``). Each size has a database of its
own, loaded by bench/provisioning.py's ``ListData`` (the list bench's data: 60 % ITTV, 40 %
Skeelo; ~85 % of them in *Assinantes ativos*). What is measured is
``GET /integradores/tv/clientes.csv?aba=ativos`` (every active ITTV subscriber, ~51 % of the
subscriptions) through the Flask test client, logged in as *leitura*, reading the streamed body
chunk by chunk as a browser would and counting its lines:

- rows/s = rows written ÷ seconds from the request to the last byte, the best of 5 runs per
  size, the sizes in turn; printed for each size, with the ratio of the rate at the large size to
  the rate at the small one (goal ≥ 0.67×, i.e. a row costs at most 1.5× as much at 1M as at
  100k: keyset batches, no OFFSET, no sort of the whole table);
- peak memory: the peak of Python's allocations (tracemalloc) during one more export of each size,
  measured apart (tracemalloc slows the run), printed beside the size of the file written. A
  streamed export holds one batch at a time, so the peak does not follow the number of rows: goal
  ≤ 16 MiB at every size (a few MiB: one batch and the machinery), while the large file is tens
  of MB (a ratio of two such small peaks would mostly measure the garbage collector's timing).
  The process's peak RSS (getrusage) is printed too, for scale (it includes loading the data).

SQLite in temporary files, then PostgreSQL (BENCH_PG_URL, default this machine's ``test``
database, one schema per size, dropped and made again; ``none`` skips it; ANALYZE after the load).

Environment:
  BENCH_QUICK=1                 10,000 vs 100,000 subscriptions (default 100,000 vs 1,000,000)
  BENCH_EXPORT_SMALL / BENCH_EXPORT_LARGE   the two sizes
  BENCH_PG_URL                  the PostgreSQL database ("none": SQLite only)
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import provisioning  # bench/provisioning.py: its data loader and helpers, not restructured
from _private_redis import PrivateRedis
from provisioning import ListData, db_kind, list_app, logged_in_client, pg_schema_url, say, verdict
from sqlalchemy import text

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SMALL = int(os.environ.get("BENCH_EXPORT_SMALL") or (10_000 if QUICK else 100_000))
LARGE = int(os.environ.get("BENCH_EXPORT_LARGE") or (100_000 if QUICK else 1_000_000))
RUNS = 5  # the best of these per size (a shared machine's noise only slows a run down)
REDIS_PORT = 5883
URL = "/integradores/tv/clientes.csv?aba=ativos"


SIZES: dict[int, int] = {}  # the file's bytes, per number of rows


def export(client) -> tuple[int, float]:
    """(rows, seconds) of one export, its body read as it streams."""
    started = time.perf_counter()
    response = client.get(URL)
    assert response.status_code == 200 and response.is_streamed, response.status_code
    lines = written = 0
    for chunk in response.response:  # the streamed body, one row at a time
        lines += chunk.count(b"\n")
        written += len(chunk)
    response.close()
    SIZES[lines - 1] = written
    return lines - 1, time.perf_counter() - started  # (the header line)


def peak_memory(client) -> int:
    """The peak of Python's allocations, in bytes, during one export."""
    tracemalloc.start()
    try:
        export(client)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_on(label: str, database_urls: dict[int, str], workdir: Path, redis_url: str) -> None:
    from panel.extensions import db

    apps, clients = {}, {}
    for size, database_url in database_urls.items():
        app = apps[size] = list_app(database_url, workdir, redis_url)
        seconds = ListData(app).grow_to(size)
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
        clients[size] = logged_in_client(app)
        say(f"  {label}, {size:>9,} subscriptions: loaded in {seconds:.0f} s")
    say(f"  {label}: {db_kind(apps[SMALL])}")
    rates: dict[int, float] = dict.fromkeys(apps, 0.0)
    rows: dict[int, int] = {}
    for round_number in range(RUNS):
        for size in sorted(apps, reverse=bool(round_number % 2)):  # the order alternating
            rows[size], seconds = export(clients[size])
            rates[size] = max(rates[size], rows[size] / seconds)
    peaks = {size: peak_memory(clients[size]) for size in apps}
    for size in sorted(apps):
        say(
            f"    {size:>9,} subscriptions: {rows[size]:,} rows ({SIZES[rows[size]] / 2**20:.1f} MiB of CSV), "
            f"{rates[size]:,.0f} rows/s, peak Python memory {peaks[size] / 2**20:.1f} MiB"
        )
    verdict(f"export rows/s {LARGE:,} / {SMALL:,} ({label})", rates[LARGE] / rates[SMALL], 0.67, at_least=True)
    for size in sorted(apps):
        verdict(f"export peak memory at {size:,} ({label})", peaks[size] / 2**20, 16, at_least=False, unit=" MiB")
    for app in apps.values():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    private = PrivateRedis(workdir, REDIS_PORT)
    try:
        say("Export benchmark" + (" (BENCH_QUICK)" if QUICK else ""))
        say(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; GET {URL}")
        measure_on(
            "SQLite",
            {size: f"sqlite:///{workdir / f'export-{size}.db'}" for size in (SMALL, LARGE)},
            workdir,
            private.url,
        )
        pg_url = os.environ.get("BENCH_PG_URL", provisioning.DEFAULT_PG_URL)
        if pg_url.lower() != "none":
            urls = {size: pg_schema_url(pg_url, f"bench_export_{size}") for size in (SMALL, LARGE)}
            measure_on("PostgreSQL", urls, workdir, private.url)
            drop_schemas(pg_url, [f"bench_export_{size}" for size in (SMALL, LARGE)])
    finally:
        private.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(f"\nSummary (load average now {os.getloadavg()[0]:.2f}; process peak RSS {rss:.0f} MiB, loading included)")
    for what, figure, goal, passed in provisioning.RESULTS:
        say(f"  {'PASS' if passed else 'MISS'}  {what}: {figure} (goal {goal})")
    return 0


def drop_schemas(base_url: str, schemas: list[str]) -> None:
    from sqlalchemy import create_engine

    from panel.config import normalise_database_url

    engine = create_engine(normalise_database_url(base_url))
    try:
        with engine.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
