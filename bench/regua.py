"""The régua's run against one raw SQL UPDATE of the same rows, on SQLite and PostgreSQL.

Run by ``make bench`` (``.venv/bin/python bench/regua.py``). Every figure judged is a ratio of two
things measured here, one after the other, on the same machine and data, so the noise of a shared
machine mostly cancels out; the absolute times are printed for context only.

The data (bulk-inserted with SQLAlchemy Core, batches of 20,000): N clients (default 100,000),
each with an active ITTV contract (TV/OTT plan, due day 10), its subscriber synced and active (one
finished *Sincronizar* operation each) and two títulos: 10/2026, due 10/10/2026, paid by 90 % of
the contracts and unpaid by every 10th (51 days overdue on the day judged), and 11/2026, due
20/11/2026, unpaid by everyone (10 days overdue: under the rule's 15). One rule, *Manutenção de
conexão, 15 dias — Bloqueio de TV* at ITTV; the day judged is 30/11/2026. So each run has N/10
candidates, all of them blocked, out of 1.1 N unpaid títulos. PostgreSQL gets ANALYZE after the
load (as autovacuum would do before long); SQLite is left as the panel leaves it (no ANALYZE).

What is timed (each the median of ROUNDS rounds after one warm-up round; the order of the three
rotates from round to round; the database is reset before each one, not timed):

1. dry: ``regua.judge(rule, day)`` — what *Simular régua* and ``flask regua run --dry-run`` do
   for a rule: the candidates' query, the liftable blocks' query and a verdict per candidate.
2. real: a fresh transaction, ``regua.apply(run, rule)`` on a run already requested and taken
   (as ``carry_out`` does, minus its row lock): judge, then the blocks written set-based (the
   subscribers' UPDATE, the background Operations' INSERT … RETURNING and the history lines'
   INSERT, a statement each per batch of ``regua.WRITE_BATCH``), the run's counts and its audit
   line — and the COMMIT. Not timed and not done: handing the operations to Redis (the deliveries
   ``apply`` notes are taken off the session before the commit, so the after-commit hook sends
   nothing; their count is checked) and the platforms' calls (the worker's job).
3. raw: the baseline, one hand-written SQL UPDATE of the same subscriber rows (the same columns
   the régua sets) selected by the same condition — an unpaid título due on or before the day
   minus the rule's days, contract not cancelled and of the rule's plan type, subscriber at the
   rule's platform and not already blocked — and its COMMIT. It writes no Operation and no
   history line: that is the régua's overhead being measured.

Printed per database: the absolute medians, dry/raw and real/raw (goal <= 1.5x each), and where
the real run's time goes (each SQL statement kind timed with the engine's cursor events, the
commit, and the Python around them), from one extra profiled run.

Environment:
  BENCH_QUICK=1          10,000 contracts and 3 rounds (the default is 100,000 and 5)
  BENCH_REGUA_N          contracts (default 100000; quick 10000)
  BENCH_ROUNDS           measured rounds (default 5; quick 3)
  BENCH_PG_URL           the PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/test);
                         the bench works in a schema of its own, ``bench_regua``, dropped and made
                         again, and dropped at the end. BENCH_PG_URL=none skips PostgreSQL, and
                         so does a default server that does not answer.
  BENCH_REDIS_URL        a Redis for the app (nothing is written to it); default: a private
                         redis-server on a unix socket in the bench's temporary directory
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
N = int(os.environ.get("BENCH_REGUA_N") or (10_000 if QUICK else 100_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or (3 if QUICK else 5))
PG_URL = os.environ.get("BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_regua"
GOAL = 1.5
LOAD_BATCH = 20_000

DAY = date(2026, 11, 30)  # the day judged
RULE_DAYS = 15
OLD_DUE = date(2026, 10, 10)  # unpaid by every 10th contract: 51 days overdue on DAY
NEW_DUE = date(2026, 11, 20)  # unpaid by everyone: 10 days overdue, under the rule's 15

# The baseline: the same rows, the same columns, the same condition, by hand.
RAW_UPDATE = """
UPDATE subscriptions
   SET desired_status = 'blocked', list_tab = 'blocked', blocked_by = 'regua',
       block_rule_id = :rule_id, block_run_id = :run_id, updated_at = :now
 WHERE platform_id = :platform_id
   AND desired_status = 'active'
   AND contract_id IN (
       SELECT invoices.contract_id
         FROM invoices JOIN contracts ON contracts.id = invoices.contract_id
        WHERE invoices.paid_on IS NULL AND invoices.due_date <= :cutoff
          AND contracts.status <> 'cancelled' AND contracts.plan_type = 'tv_ott'
          AND contracts.platform_id = :platform_id)
"""

RESULTS: list[tuple[str, str, str, bool]] = []  # (what, figure, goal, passed)


def say(line: str = "") -> None:
    print(line, flush=True)


def verdict(what: str, value: float, goal: float) -> None:
    passed = value <= goal
    RESULTS.append((what, f"{value:.2f}x", f"<= {goal:.2f}x", passed))
    say(f"  => {what}: {value:.2f}x  (goal <= {goal:.2f}x)  {'PASS' if passed else 'MISS'}")


# -- the data -----------------------------------------------------------------------------------


class Data:
    """One database loaded with N contracts (see the module's docstring) and the rule."""

    def __init__(self, label: str, database_url: str, workdir: Path) -> None:
        from cryptography.fernet import Fernet

        from panel import create_app
        from panel.extensions import db

        self.label = label
        self.app = create_app(
            {
                "PANEL_ENV": "development",
                "DATABASE_URL": database_url,
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
                "INSTANCE_PATH": workdir / f"instance-{label.lower()}",
                "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
                "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "LOG_LEVEL": "WARNING",
            }
        )
        with self.app.app_context():
            self.dialect = db.engine.dialect.name
            db.drop_all()
            db.create_all()

    def load(self) -> float:
        """The platform, plan and rule through the domain; the contracts in bulk. Seconds taken."""
        from panel.domain import billing_rules
        from panel.extensions import db
        from panel.models import Client, Contract, ContractEvent, Invoice, Operation, Subscription
        from tests.factories import ITTV_PRODUCTS, SYSTEM, make_client, make_contract, make_plan_in_db, make_platform

        started = time.perf_counter()
        app = self.app
        self.platform_id = make_platform(app, "ittv", ITTV_PRODUCTS)
        plan_id = make_plan_in_db(
            app, self.platform_id, "PlayHub Premium 12 meses", codes=("PLAYHUB-BASICO", "PLAYHUB-PREMIUM")
        )
        template_client = make_client(app, document="52998224725", email="modelo@example.com.br")
        template_contract = make_contract(app, template_client, plan_id, start_date=date(2026, 1, 5), due_day=10)
        with app.app_context():
            self.rule_id = billing_rules.save_rule(
                SYSTEM,
                None,
                rule_type="connection_maintenance",
                days_overdue=RULE_DAYS,
                action="tv_block",
                platform_id=self.platform_id,
                unblock_on_payment=True,
                active=True,
            ).id
            db.session.commit()
            client = dict(
                db.session.execute(select(Client.__table__).where(Client.id == template_client)).mappings().one()
            )
            contract = dict(
                db.session.execute(select(Contract.__table__).where(Contract.id == template_contract)).mappings().one()
            )
            first = 1 + max(
                db.session.scalar(select(func.max(table.c.id))) or 0
                for table in (Client.__table__, Contract.__table__, Subscription.__table__, ContractEvent.__table__)
            )
            now = datetime.now(UTC)
            value = contract["monthly_value"]
            self.overdue = 0
            for start in range(0, N, LOAD_BATCH):
                clients, contracts, subscriptions, operations, invoices = [], [], [], [], []
                for i in range(start, min(start + LOAD_BATCH, N)):
                    row_id = first + i
                    overdue = i % 10 == 0
                    self.overdue += overdue
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
                    contracts.append({**contract, "id": row_id, "client_id": row_id})
                    subscriptions.append(
                        {
                            "id": row_id,
                            "contract_id": row_id,
                            "platform_id": self.platform_id,
                            "exclusive_client_id": row_id,
                            "external_ref": f"psva-{row_id}-{row_id:08x}",
                            "external_id": f"ext-{row_id}",
                            "desired_status": "active",
                            "remote_status": "active",
                            "list_tab": "active",
                            "created_at": now,
                            "updated_at": now,
                            "confirmed_at": now,
                        }
                    )
                    operations.append(
                        {
                            "subscription_id": row_id,
                            "kind": "sync",
                            "target_status": "active",
                            "status": "done",
                            "attempts": 1,
                            "deliveries": 0,
                            "background": False,
                            "result": "ITTV confirmou: ativo.",
                            "requested_by_name": "Bench",
                            "created_at": now,
                            "updated_at": now,
                            "started_at": now,
                            "finished_at": now,
                        }
                    )
                    invoices.append(
                        {
                            "contract_id": row_id,
                            "reference_month": OLD_DUE.replace(day=1),
                            "due_date": OLD_DUE,
                            "amount": value,
                            "paid_on": None if overdue else OLD_DUE - timedelta(days=2),
                            "paid_amount": None if overdue else value,
                            "paid_by_name": None if overdue else "Bench",
                            "paid_recorded_at": None if overdue else now,
                            "created_at": now,
                        }
                    )
                    invoices.append(
                        {
                            "contract_id": row_id,
                            "reference_month": NEW_DUE.replace(day=1),
                            "due_date": NEW_DUE,
                            "amount": value,
                            "paid_on": None,
                            "paid_amount": None,
                            "paid_by_name": None,
                            "paid_recorded_at": None,
                            "created_at": now,
                        }
                    )
                db.session.execute(insert(Client.__table__), clients)
                db.session.execute(insert(Contract.__table__), contracts)
                db.session.execute(insert(Subscription.__table__), subscriptions)
                db.session.execute(insert(Operation.__table__), operations)
                db.session.execute(insert(Invoice.__table__), invoices)
                db.session.commit()
        if self.dialect == "postgresql":
            self.maintain(analyze_all=True)
        return time.perf_counter() - started

    def version(self) -> str:
        from panel.extensions import db

        with self.app.app_context(), db.engine.connect() as connection:
            if self.dialect == "sqlite":
                return "SQLite " + connection.exec_driver_sql("select sqlite_version()").scalar() + " (WAL, file)"
            return "PostgreSQL " + connection.exec_driver_sql("show server_version").scalar()

    # -- between measurements ---------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the loaded state: no run, no block, no régua operation, history line or audit."""
        from panel.extensions import db

        with self.app.app_context():
            for statement in (
                "UPDATE subscriptions SET desired_status = 'active', list_tab = 'active', blocked_by = NULL, "
                "block_rule_id = NULL, block_run_id = NULL WHERE blocked_by IS NOT NULL",
                "DELETE FROM contract_events WHERE action = 'regua_block'",
                "DELETE FROM operations WHERE regua_run_id IS NOT NULL",
                "DELETE FROM audit_events WHERE action = 'regua.run'",
                "DELETE FROM regua_runs",
            ):
                db.session.execute(text(statement))
            db.session.commit()
        self.maintain()

    def maintain(self, *, analyze_all: bool = False) -> None:
        """What keeps rounds alike: PostgreSQL's dead rows vacuumed (autovacuum's job, done now),
        SQLite's write-ahead log folded back into the file."""
        from panel.extensions import db

        with self.app.app_context():
            engine = db.engine
            if self.dialect == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    if analyze_all:
                        connection.exec_driver_sql("VACUUM ANALYZE")
                    else:
                        for table in ("subscriptions", "operations", "contract_events", "regua_runs", "audit_events"):
                            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
            else:
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def new_run(self) -> tuple[int, int]:
        """A run of the rule for DAY, requested and taken (as the CLI and the worker do); (id, attempt)."""
        from panel.domain import regua
        from panel.domain.common import Actor
        from panel.extensions import db
        from panel.models import ReguaTrigger

        with self.app.app_context():
            [run] = regua.request_runs(Actor.system("Bench"), ReguaTrigger.cli, DAY, deliver=False)
            db.session.commit()
            taken = regua.start(run.id, 600)
            db.session.commit()
            return taken.id, taken.attempts

    # -- the three measurements -------------------------------------------------------------------

    def dry(self) -> float:
        from panel.domain import regua
        from panel.extensions import db
        from panel.models import BillingRule

        with self.app.app_context():
            started = time.perf_counter()
            outcome = regua.judge(db.session.get(BillingRule, self.rule_id), DAY)
            elapsed = time.perf_counter() - started
            db.session.rollback()
        assert len(outcome.of(regua.Decision.BLOCK)) == self.overdue == len(outcome.verdicts)
        return elapsed

    def real(self) -> float:
        from panel.domain import outbox, regua
        from panel.extensions import db
        from panel.models import BillingRule, ReguaRun

        run_id, _attempt = self.new_run()
        with self.app.app_context():
            db.session.rollback()
            started = time.perf_counter()
            run = db.session.get(ReguaRun, run_id)
            outcome = regua.apply(run, db.session.get(BillingRule, self.rule_id))
            noted = outbox.noted_deliveries(db.session, forget=True)  # not to Redis: see the docstring
            db.session.commit()
            elapsed = time.perf_counter() - started
        assert len(outcome.of(regua.Decision.BLOCK)) == self.overdue == len(noted)
        self.check_blocked()
        return elapsed

    def raw(self) -> float:
        from panel.extensions import db

        run_id, _attempt = self.new_run()  # for block_run_id, as the régua writes it
        with self.app.app_context():
            db.session.rollback()
            params = {
                "rule_id": self.rule_id,
                "run_id": run_id,
                "now": datetime.now(UTC).replace(tzinfo=None),
                "platform_id": self.platform_id,
                "cutoff": DAY - timedelta(days=RULE_DAYS),
            }
            started = time.perf_counter()
            touched = db.session.execute(text(RAW_UPDATE), params).rowcount
            db.session.commit()
            elapsed = time.perf_counter() - started
        assert touched == self.overdue, touched
        self.check_blocked()
        return elapsed

    def check_blocked(self) -> None:
        from panel.extensions import db
        from panel.models import Subscription

        with self.app.app_context():
            blocked = db.session.scalar(
                select(func.count()).select_from(Subscription).where(Subscription.desired_status == "blocked")
            )
        assert blocked == self.overdue, blocked

    # -- where the real run's time goes ------------------------------------------------------------

    def profile(self) -> tuple[float, dict[str, list[float]]]:
        """One real run with every statement timed (cursor events); (total, {statement: [secs]})."""
        from panel.domain import audit, outbox, regua
        from panel.extensions import db
        from panel.models import BillingRule, OutboxStatus, ReguaRun

        self.reset()
        run_id, _attempt = self.new_run()
        spent: dict[str, list[float]] = defaultdict(list)
        with self.app.app_context():
            engine = db.engine

            def before(conn, cursor, statement, parameters, context, executemany):
                conn.info["bench_started"] = time.perf_counter()

            def after(conn, cursor, statement, parameters, context, executemany):
                spent[statement_kind(statement)].append(time.perf_counter() - conn.info.pop("bench_started"))

            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            try:
                db.session.rollback()
                started = time.perf_counter()
                run = db.session.get(ReguaRun, run_id)
                rule = db.session.get(BillingRule, self.rule_id)
                judged = time.perf_counter()
                outcome = regua.judge(rule, run.day)
                spent["(judge: queries + verdicts, in all)"].append(time.perf_counter() - judged)
                writing = time.perf_counter()
                regua._block(run, rule, outcome.of(regua.Decision.BLOCK))
                spent["(_block: statements + rows built, in all)"].append(time.perf_counter() - writing)
                rest = time.perf_counter()
                # apply's remainder (no unblocks here): counts, audit line, flush
                run.candidates = run.blocked = len(outcome.verdicts)
                outbox.end(run, OutboxStatus.done)
                audit.record(regua.REGUA, "regua.run", "bench", target=run)
                db.session.flush()
                spent["(run's counts + audit + flush)"].append(time.perf_counter() - rest)
                outbox.noted_deliveries(db.session, forget=True)
                committing = time.perf_counter()
                db.session.commit()
                spent["COMMIT"].append(time.perf_counter() - committing)
                total = time.perf_counter() - started
            finally:
                event.remove(engine, "before_cursor_execute", before)
                event.remove(engine, "after_cursor_execute", after)
        self.check_blocked()
        return total, spent

    def drop(self) -> None:
        from panel.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        self.app.extensions["redis"].close()
        embedded = self.app.extensions.get("embedded_redis")
        if embedded is not None:
            embedded.stop()


def statement_kind(statement: str) -> str:
    words = " ".join(statement.split()).upper()
    for verb in ("UPDATE", "INSERT INTO", "DELETE FROM"):
        if words.startswith(verb):
            return f"{verb} {words[len(verb) :].split()[0].lower()}"
    if words.startswith("SELECT") and "MIN(INVOICES.DUE_DATE)" in words:
        return "SELECT candidates (judge)"
    if words.startswith("SELECT") and "BLOCKED_BY" in words and "NOT IN" in words:
        return "SELECT liftable blocks (judge)"
    return words.split()[0] + " (other)"


# -- the run ----------------------------------------------------------------------------------


def measure(data: Data) -> None:
    say(f"\n[{data.label}] {data.version()}")
    seconds = data.load()
    say(
        f"  loaded {N:,} contracts, subscribers and 2 títulos each ({data.overdue:,} overdue past "
        f"{RULE_DAYS} days) in {seconds:.0f} s"
    )
    kinds = {"dry": data.dry, "real": data.real, "raw": data.raw}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    order = list(kinds)
    for round_number in range(ROUNDS + 1):  # the first warms up
        for kind in order:
            data.reset()
            elapsed = kinds[kind]()
            if round_number:
                times[kind].append(elapsed)
        order = order[1:] + order[:1]
    data.reset()
    dry, real, raw = (statistics.median(times[kind]) for kind in kinds)
    say(
        f"  medians of {ROUNDS}: dry {dry * 1000:.0f} ms, real {real * 1000:.0f} ms, raw UPDATE {raw * 1000:.0f} ms "
        f"({data.overdue:,} rows; load average {os.getloadavg()[0]:.2f})"
    )
    say("  rounds (ms): " + "; ".join(f"{k} " + " ".join(f"{t * 1000:.0f}" for t in v) for k, v in times.items()))
    verdict(f"dry run (judge) / raw UPDATE ({data.label})", dry / raw, GOAL)
    verdict(f"real run (apply + commit) / raw UPDATE ({data.label})", real / raw, GOAL)

    total, spent = data.profile()
    data.reset()
    say(f"  where one real run's {total * 1000:.0f} ms go (statements timed at the cursor):")
    for name, values in sorted(spent.items(), key=lambda item: -sum(item[1])):
        say(f"    {sum(values) * 1000:8.1f} ms  {len(values):4d}x  {name}")


def pg_reachable() -> bool:
    """Whether the PostgreSQL server answers; without BENCH_PG_URL a machine without one
    runs the SQLite half only (with BENCH_PG_URL, a failure to connect is an error)."""
    from sqlalchemy.exc import OperationalError

    from panel.config import normalise_database_url

    engine = create_engine(normalise_database_url(PG_URL))
    try:
        with engine.connect():
            return True
    except OperationalError as error:
        if os.environ.get("BENCH_PG_URL"):
            raise
        why = str(error.orig).splitlines()[0]
        say(f"\n[PostgreSQL] skipped: nothing answers at {make_url(PG_URL).render_as_string()} ({why})")
        return False
    finally:
        engine.dispose()


@contextmanager
def pg_schema(base_url: str):
    """A URL whose search_path is the bench's own schema (made afresh; dropped at the end)."""
    from panel.config import normalise_database_url

    base = normalise_database_url(base_url)
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        engine.dispose()


def main() -> int:
    import sqlalchemy

    from panel.domain import regua

    workdir = Path(tempfile.mkdtemp(prefix="bench-regua-"))
    say("Régua benchmark" + (" (BENCH_QUICK)" if QUICK else ""))
    say(
        f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}, "
        f"SQLAlchemy {sqlalchemy.__version__}; {N:,} contracts, {ROUNDS} rounds, write batch {regua.WRITE_BATCH}"
    )
    started = time.perf_counter()
    try:
        data = Data("SQLite", f"sqlite:///{workdir / 'regua.db'}", workdir)
        try:
            measure(data)
        finally:
            data.drop()
        if PG_URL.lower() != "none" and pg_reachable():
            with pg_schema(PG_URL) as url:
                data = Data("PostgreSQL", url, workdir)
                try:
                    measure(data)
                finally:
                    data.drop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say(
        f"\nSummary ({time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores)"
    )
    for what, figure, goal, passed in RESULTS:
        say(f"  {'PASS' if passed else 'MISS'}  {what}: {figure} (goal {goal})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
