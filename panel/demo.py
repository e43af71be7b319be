"""The demo set-up that `flask seed-demo` creates and `make run` serves: one operator per role,
and Configurações as an admin would fill it in by hand — each platform registered against its
local sandbox, its catalogue, one plan of each type and the seeds' billing rules.

Development only (seed-demo refuses production). Everything is created once; running it again
changes nothing.
"""

from __future__ import annotations

import importlib
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from panel.config import instance_secret
from panel.domain import Actor, billing_rules, clients, contracts, licences, plans, platforms, products, users
from panel.domain.common import local_today
from panel.domain.fiscal import Line
from panel.domain.kinds import KINDS, kind_of
from panel.extensions import db
from panel.models import (
    AccessChange,
    BillingRule,
    Client,
    CompositionMode,
    Contract,
    LicenceMember,
    LicenceSnapshot,
    Plan,
    Platform,
    Role,
)

ACTOR = Actor.system("Sistema (demonstração)")

# (login, name, role, password): known passwords, which is why this never runs in production.
DEMO_USERS = (
    ("admin", "Administrador Demo", Role.admin, "painel-admin"),
    ("operador", "Operador Demo", Role.operador, "painel-operador"),
    ("leitura", "Leitura Demo", Role.leitura, "painel-leitura"),
)


@dataclass(frozen=True)
class DemoSandbox:
    """A platform's sandbox as `make run` starts it: a port of its own and a token generated
    once under instance/."""

    kind: str
    label: str
    port: int
    token: str
    state_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_label(self) -> str:
        """What the printed secret is: "token", or the kind's fields ("client_id:client_secret")."""
        return ":".join(credential.name for credential in kind_of(self.kind).credentials)

    @property
    def token_variable(self) -> str:
        return f"SANDBOX_TOKEN_{self.kind.upper()}"

    def procfile_line(self) -> str:
        # The token travels in the environment, not on the command line (ps would show it).
        return (
            f"sandbox-{self.kind}: SANDBOX_TOKEN=${self.token_variable} python -m sandbox.{self.kind} "
            f"--port {self.port} --state-file {shlex.quote(str(self.state_file))}"
        )


def demo_sandboxes(instance: Path, env: dict[str, str]) -> list[DemoSandbox]:
    """The sandbox of every registered platform, from SANDBOX_BASE_PORT (5101) upwards."""
    base_port = int(env.get("SANDBOX_BASE_PORT") or 5101)
    return [
        DemoSandbox(
            kind=kind.name,
            label=kind.label,
            port=base_port + index,
            # One generated secret per credential the kind asks for ("client id:client secret").
            token=instance_secret(
                instance,
                f"sandbox_token_{kind.name}",
                lambda kind=kind: kind.pack_credentials({c.name: secrets.token_urlsafe(18) for c in kind.credentials}),
            ),
            state_file=instance / f"sandbox-{kind.name}.json",
        )
        for index, kind in enumerate(KINDS.values())
    ]


# How each demo platform is registered: code, name, and the package that is its base one.
DEMO_PLATFORMS = {
    "ittv": ("ITTV", "ITTV / PlayHub (demonstração)", "PLAYHUB-BASICO"),
    "skeelo": ("SKEELO", "Skeelo (demonstração)", None),
    "watch": ("WATCH", "Watch Brasil (demonstração)", None),
}


@dataclass(frozen=True)
class DemoPlan:
    name: str
    kind: str  # the platform's kind
    value: str
    composition: tuple[tuple[str, CompositionMode, str], ...]
    codes: tuple[str, ...]


DEMO_PLANS = (
    DemoPlan(
        "PlayHub Premium 12 meses",
        "ittv",
        "39.90",
        (("SCM", CompositionMode.value, "29.90"), ("SVA", CompositionMode.value, "10.00")),
        ("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"),
    ),
    DemoPlan(
        "Skeelo Leitura 12 meses",
        "skeelo",
        "9.90",
        (("SVA", CompositionMode.percent, "100"),),
        ("SKEELO-EBOOKS", "SKEELO-AUDIOBOOKS"),
    ),
    DemoPlan(
        "Watch Família 12 meses",
        "watch",
        "14.90",
        (("SVA", CompositionMode.percent, "100"),),
        ("101", "102"),  # two packages: two tickets at Watch
    ),
)
# Three clients, each with an unsynced contract ready for *Sincronizar*: a person on the TV/OTT plan,
# a company on the Skeelo SVA plan and a person on the Watch Brasil one.
DEMO_CLIENTS = (
    ("pf", "Maria da Silva", "52998224725", "maria.silva@example.com.br", "PlayHub Premium 12 meses"),
    (
        "pj",
        "Livraria Leitura Ltda",
        "11222333000181",
        "contato@livrarialeitura.example.com.br",
        "Skeelo Leitura 12 meses",
    ),
    ("pf", "João Pereira", "80225342855", "joao.pereira@example.com.br", "Watch Família 12 meses"),
)
# The seeds' régua: 15 days overdue blocks TV at ITTV and the SVA at the supplier.
DEMO_RULES = (("tv_block", "ittv", 15), ("sva_block", "skeelo", 15), ("sva_block", "watch", 15))


def catalogue(kind: str) -> list[tuple[str, str]]:
    """The products the platform's sandbox starts with (what *Sincronizar produtos* imports)."""
    sandbox = importlib.import_module(f"sandbox.{kind}").PLATFORM
    return [(product[sandbox.product_key], product["name"]) for product in sandbox.demo_products]


def seed(instance: Path, env: dict[str, str], echo: Callable[[str], None]) -> None:
    for username, name, role, password in DEMO_USERS:
        if users.find_by_username(username) is None:
            users.create_user(ACTOR, username=username, name=name, role=role.value, password=password)
            echo(f"criado: usuário {username} ({role.label})")

    registered: dict[str, Platform] = {}
    for sandbox in demo_sandboxes(instance, env):
        code, name, base = DEMO_PLATFORMS.get(sandbox.kind, (sandbox.kind.upper(), sandbox.label, None))
        platform = db.session.scalar(select(Platform).where(Platform.code == code))
        if platform is None:
            platform = platforms.create_platform(
                ACTOR, kind=sandbox.kind, code=code, name=name, server_url=sandbox.url, token=sandbox.token
            )  # (the token: the kind's credentials, packed)
            for product_code, product_name in catalogue(sandbox.kind):
                products.add_product(
                    ACTOR, platform, code=product_code, name=product_name, is_base=product_code == base
                )
            echo(f"criado: {platform.name} em {sandbox.url}, com {len(platform.products)} produtos")
        registered[sandbox.kind] = platform

    for demo in DEMO_PLANS:
        platform = registered.get(demo.kind)
        if platform is None or db.session.scalar(select(Plan.id).where(Plan.name == demo.name)):
            continue
        plan = plans.create_plan(
            ACTOR,
            plans.PlanTerms(
                name=demo.name,
                plan_type=kind_of(demo.kind).plan_type,
                contract_months=12,
                monthly_value=Decimal(demo.value),
                composition=tuple(Line(service, mode, Decimal(amount)) for service, mode, amount in demo.composition),
                platform_id=platform.id,
                product_ids=tuple(p.id for p in platform.products if p.code in demo.codes),
            ),
        )
        echo(f"criado: plano {plan.name}")

    if db.session.scalar(select(BillingRule.id).limit(1)) is None:
        for action, kind, days in DEMO_RULES:
            if kind in registered:
                rule = billing_rules.save_rule(
                    ACTOR,
                    None,
                    rule_type="connection_maintenance",
                    days_overdue=days,
                    action=action,
                    platform_id=registered[kind].id,
                    unblock_on_payment=True,
                    active=True,
                )
                echo(f"criado: régua {rule.title}")

    for kind, name, document, email, plan_name in DEMO_CLIENTS:
        plan = db.session.scalar(select(Plan).where(Plan.name == plan_name))
        if plan is None or db.session.scalar(select(Client.id).where(Client.document == document)):
            continue
        client = clients.create_client(
            ACTOR,
            clients.ClientData(
                kind=kind,
                name=name,
                document=document,
                email=email,
                phone="11987654321",
                zipcode="01310100",
                street="Av. Paulista",
                number="1000",
                city="São Paulo",
                state="SP",
            ),
        )
        contract = contracts.create_contract(ACTOR, client, plan_id=plan.id, start_date=local_today(), due_day=10)
        echo(f"criado: cliente {client.name} com o contrato {contract.id} ({plan.name})")

    seed_history(echo)


# -- subscribers with 90 days of history (the overview's chart, the Licenças ledger) -----------

HISTORY_DAYS = 90
DEMO_FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Davi",
    "Elisa",
    "Fábio",
    "Gabriela",
    "Hugo",
    "Íris",
    "João",
    "Lara",
    "Marcos",
)
DEMO_LAST_NAMES = ("Almeida", "Barbosa", "Costa", "Dias", "Esteves", "Freitas")
DEMO_SUBSCRIBERS = 48


@dataclass(frozen=True)
class DemoSubscriber:
    """One demo subscriber's made-up past: it became active ``started`` days ago, and
    ``changed`` days ago it was blocked (``to`` = 'block') or its contract suspended ('suspend')."""

    number: int
    kind: str  # the platform's kind
    started: int
    changed: int | None
    to: str | None


def demo_cpf(number: int) -> str:
    """A valid CPF (check digits right) for the demo's ``number``-th subscriber."""
    base = [int(char) for char in f"{900000000 + number * 7919:09d}"[-9:]]
    for length in (9, 10):
        total = sum(digit * weight for digit, weight in zip(base, range(length + 1, 1, -1), strict=True))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, base))


def demo_subscribers() -> list[DemoSubscriber]:
    """Deterministic: growth over the 90 days (older ones first), a few blocked or suspended."""
    found = []
    for number in range(DEMO_SUBSCRIBERS):
        started = HISTORY_DAYS - 1 - (number * (HISTORY_DAYS - 2)) // DEMO_SUBSCRIBERS
        change = number % 9
        changed = max(0, started - 20 - number % 15) if change in (2, 6) else None
        to = {2: "block", 6: "suspend"}.get(change) if changed is not None else None
        found.append(DemoSubscriber(number, "ittv" if number % 5 < 3 else "skeelo", started, changed, to))
    return found


def seed_history(echo: Callable[[str], None]) -> None:
    """The demo subscribers (synced; the worker provisions them at the sandboxes) with their
    made-up past: their access changes dated back, the daily snapshots of the last 90 days and
    the months' licence members, as the snapshot job would have left them. Once."""
    if db.session.scalar(select(LicenceSnapshot.id).limit(1)) is not None:
        return
    plan_of = {
        kind: db.session.scalar(select(Plan).where(Plan.name == demo.name))
        for demo in DEMO_PLANS
        for kind in [demo.kind]
    }
    if not all(plan_of.values()):
        return
    today = local_today()
    zone = ZoneInfo(licences.zone().key)

    def moment(days_ago: int) -> datetime:
        # 00:01 in São Paulo: the day's snapshot (00:05) already sees the change
        return datetime.combine(today - timedelta(days=days_ago), time(0, 1), tzinfo=zone).astimezone(UTC)

    made: list[tuple[DemoSubscriber, int, int]] = []  # (subscriber, subscription id, platform id)
    for subscriber in demo_subscribers():
        name = (
            f"{DEMO_FIRST_NAMES[subscriber.number % len(DEMO_FIRST_NAMES)]} "
            f"{DEMO_LAST_NAMES[subscriber.number % len(DEMO_LAST_NAMES)]} {subscriber.number + 1}"
        )
        client = clients.create_client(
            ACTOR,
            clients.ClientData(
                kind="pf",
                name=name,
                document=demo_cpf(subscriber.number),
                email=f"assinante{subscriber.number + 1}@example.com.br",
                phone="11987654321",
                zipcode="01310100",
                street="Av. Paulista",
                number=str(100 + subscriber.number),
                city="São Paulo",
                state="SP",
            ),
        )
        plan = plan_of[subscriber.kind]
        contract = contracts.create_contract(
            ACTOR, client, plan_id=plan.id, start_date=today - timedelta(days=subscriber.started), due_day=10
        )
        contracts.act(ACTOR, contract, "sync")
        if subscriber.to:
            contracts.act(ACTOR, db.session.get(Contract, contract.id), subscriber.to)
        subscription = db.session.get(Contract, contract.id).subscription
        made.append((subscriber, subscription.id, subscription.platform_id))
    db.session.flush()
    # The triggers dated every change now: date them back to the made-up past.
    for subscriber, subscription_id, _platform_id in made:
        db.session.execute(
            update(AccessChange)
            .where(AccessChange.subscription_id == subscription_id, AccessChange.from_tab.is_(None))
            .values(changed_at=moment(subscriber.started))
        )
        if subscriber.changed is not None:
            db.session.execute(
                update(AccessChange)
                .where(AccessChange.subscription_id == subscription_id, AccessChange.from_tab.is_not(None))
                .values(changed_at=moment(subscriber.changed))
            )

    def tab_on(subscriber: DemoSubscriber, days_ago: int) -> str | None:
        if days_ago > subscriber.started:
            return None
        if subscriber.changed is not None and days_ago <= subscriber.changed:
            return "blocked" if subscriber.to == "block" else "inactive"
        return "active"

    platform_ids = sorted({platform_id for _, _, platform_id in made})
    members: dict[tuple[int, object, int], int] = {}
    for days_ago in range(HISTORY_DAYS - 1, -1, -1):
        day = today - timedelta(days=days_ago)
        counts = {(platform_id, tab): 0 for platform_id in platform_ids for tab in ("active", "blocked", "inactive")}
        for subscriber, subscription_id, platform_id in made:
            tab = tab_on(subscriber, days_ago)
            if tab is not None:
                counts[platform_id, tab] += 1
            if tab == "active" or (subscriber.changed == days_ago and tab is not None):
                key = (platform_id, licences.month_start(day), subscription_id)
                members[key] = members.get(key, 0) | (licences.day_bit(day.day) if tab == "active" else 0)
        for platform_id in platform_ids:
            db.session.add(
                LicenceSnapshot(
                    platform_id=platform_id,
                    day=day,
                    active=counts[platform_id, "active"],
                    blocked=counts[platform_id, "blocked"],
                    inactive=counts[platform_id, "inactive"],
                    taken_at=datetime.combine(day, time(0, 5), tzinfo=zone).astimezone(UTC),
                )
            )
    for (platform_id, month, subscription_id), days in members.items():
        db.session.add(LicenceMember(platform_id=platform_id, month=month, subscription_id=subscription_id, days=days))
    db.session.flush()
    echo(f"criado: {len(made)} assinantes de demonstração com {HISTORY_DAYS} dias de fotos diárias (Licenças)")
