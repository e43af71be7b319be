"""Configurações → Operadoras / Fornecedores: platform accounts — their kind, code, name, server
URL, secret token and call limit.

The token is encrypted before it reaches the session (``crypto``) and decrypted only in the worker,
by the job that calls the platform (panel.jobs.adapters): it never returns to a page, a log line,
an audit entry or job data. Functions here change the session and flush; the request or job that
called them commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import func, select

from panel import crypto
from panel.domain import audit
from panel.domain.common import Actor, DomainError, check_all
from panel.domain.kinds import TOKEN, Credential, PlatformKind, kind_of
from panel.domain.kinds.base import CREDENTIAL_SEPARATOR
from panel.domain.server_urls import check_server_url, origin
from panel.extensions import db
from panel.formats import ngettext
from panel.models import BillingMode, BillingRule, Plan, Platform
from panel.models.types import utcnow

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
MAX_CONCURRENCY = 64
UNREADABLE_TOKEN = (
    "O token salvo não pode ser lido com a chave de criptografia atual (ENCRYPTION_KEY mudou?). "
    "Edite a plataforma e informe o token de novo."
)


# -- validation -----------------------------------------------------------------------------


def _check_token(raw: str | None, credential: Credential = TOKEN, *, last: bool = True) -> str:
    token = (raw or "").strip()
    what, field = credential.label, credential.name
    if not token:
        raise DomainError(f"Informe o {what.lower() if what == 'Token' else what}.", field)
    if len(token) > 4096:
        raise DomainError(f"{what}: no máximo 4096 caracteres.", field)
    if any(char.isspace() or not char.isprintable() or ord(char) > 126 for char in token):
        raise DomainError(f"{what} tem caracteres inválidos (espaços, acentos ou quebras de linha).", field)
    if not last and CREDENTIAL_SEPARATOR in token:
        raise DomainError(f"{what} não pode ter dois-pontos ({CREDENTIAL_SEPARATOR}).", field)
    return token


def _secret_of(kind: PlatformKind, token: str | None, credentials: Mapping[str, str | None] | None) -> str:
    """The one secret stored for an account: the kind's credentials checked (each error on its own
    field) and packed. ``token`` alone: a one-field kind's token, or the fields already packed."""
    if credentials is None:
        credentials = kind.unpack_credentials((token or "").strip())
    fields = kind.credentials
    checked = check_all(
        *(
            (lambda c=credential, i=index: _check_token(credentials.get(c.name), c, last=i == len(fields) - 1))
            for index, credential in enumerate(fields)
        )
    )
    return kind.pack_credentials({credential.name: value for credential, value in zip(fields, checked, strict=True)})


def credentials_given(kind: PlatformKind, credentials: Mapping[str, str | None] | None) -> bool:
    """Whether the form brought new credentials (any field typed: then every field is asked for)."""
    return bool(credentials) and any((credentials.get(c.name) or "").strip() for c in kind.credentials)


def _check_code(raw: str | None) -> str:
    code = (raw or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError("Use de 2 a 32 caracteres: letras, números, hífen ou sublinhado.", "code")
    return code


def check_name(raw: str | None, field: str = "name", limit: int = 120) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("Informe o nome.", field)
    if len(name) > limit:
        raise DomainError(f"O nome pode ter no máximo {limit} caracteres.", field)
    return name


def _check_concurrency(value: int | None) -> int:
    if value is None or not 1 <= value <= MAX_CONCURRENCY:
        raise DomainError(f"Informe um número de 1 a {MAX_CONCURRENCY}.", "concurrency_limit")
    return value


MAX_UNIT_PRICE = Decimal("100000")
KEEP = object()  # an update_platform argument left out: the setting stays as it is


def _check_billing(
    unit_price: Decimal | None, billing_mode: str | None, snapshot_day: int | None
) -> tuple[Decimal | None, BillingMode, int | None]:
    """The licence ledger's settings: an optional R$ per active subscriber (cents at most), and
    which subscribers a month bills — any active at some moment (default) or those on one day's
    snapshot (1–28, a day every month has)."""
    if unit_price is not None and not (0 <= unit_price < MAX_UNIT_PRICE and unit_price == round(unit_price, 2)):
        raise DomainError("Informe um preço de 0,00 a 99.999,99 (no máximo 2 casas decimais).", "unit_price")
    try:
        mode = BillingMode(billing_mode or BillingMode.any_moment.value)
    except ValueError:
        raise DomainError("Escolha como contar os assinantes do mês.", "billing_mode") from None
    if mode is BillingMode.any_moment:
        return unit_price, mode, None
    if snapshot_day is None or not 1 <= snapshot_day <= 28:
        raise DomainError("Informe o dia da foto: de 1 a 28.", "snapshot_day")
    return unit_price, mode, snapshot_day


def _code_taken(code: str, platform: Platform | None) -> bool:
    query = select(Platform.id).where(Platform.code == code)
    if platform is not None:
        query = query.where(Platform.id != platform.id)
    return db.session.scalar(query) is not None


# -- platforms ------------------------------------------------------------------------------


def _snapshot(platform: Platform) -> dict:
    return {
        "kind": platform.kind,
        "code": platform.code,
        "name": platform.name,
        "server_url": platform.server_url,
        "concurrency_limit": platform.concurrency_limit,
        "active": platform.active,
        "auto_correct": bool(platform.auto_correct),
        "unit_price": None if platform.unit_price is None else str(platform.unit_price),
        "billing_mode": str(platform.billing_mode) if platform.billing_mode else BillingMode.any_moment.value,
        "snapshot_day": platform.snapshot_day,
    }


def _check_code_free(raw: str | None, platform: Platform | None) -> str:
    code = _check_code(raw)
    if _code_taken(code, platform):
        raise DomainError("Já existe uma plataforma com este código.", "code")
    return code


def code_is_free(code: str) -> bool:
    return not _code_taken(code.upper(), None)


def create_platform(
    actor: Actor,
    *,
    kind: str,
    code: str,
    name: str,
    server_url: str,
    token: str | None = None,
    credentials: Mapping[str, str | None] | None = None,
    concurrency_limit: int | None = 4,
    active: bool = True,
    auto_correct: bool = False,
    unit_price: Decimal | None = None,
    billing_mode: str | None = None,
    snapshot_day: int | None = None,
) -> Platform:
    """``credentials``: the kind's fields by name (``token`` alone: see ``_secret_of``)."""
    platform_kind = kind_of(kind)
    code, name, url, token, limit, billing = check_all(
        lambda: _check_code_free(code, None),
        lambda: check_name(name),
        lambda: check_server_url(server_url),
        lambda: _secret_of(platform_kind, token, credentials),
        lambda: _check_concurrency(concurrency_limit),
        lambda: _check_billing(unit_price, billing_mode, snapshot_day),
    )
    platform = Platform(
        kind=kind,
        code=code,
        name=name,
        server_url=url,
        token_ciphertext=crypto.encrypt(token),
        token_set_at=utcnow(),
        concurrency_limit=limit,
        active=bool(active),
        auto_correct=bool(auto_correct),
    )
    platform.unit_price, platform.billing_mode, platform.snapshot_day = billing
    db.session.add(platform)
    db.session.flush()
    changes = {key: [None, value] for key, value in _snapshot(platform).items()}
    for credential in platform_kind.credentials:
        changes[credential.name] = [None, audit.SECRET_MASK]
    audit.record(
        actor,
        "platform.created",
        f"Cadastrou {platform.name} ({platform_kind.label}, {platform_kind.role_label}).",
        target=platform,
        changes=changes,
    )
    db.session.flush()
    return platform


def update_platform(
    actor: Actor,
    platform: Platform,
    *,
    code: str,
    name: str,
    server_url: str,
    token: str | None = None,
    concurrency_limit: int | None,
    active: bool,
    credentials: Mapping[str, str | None] | None = None,
    auto_correct: bool | None = None,
    unit_price: Decimal | None | object = KEEP,
    billing_mode: str | None | object = KEEP,
    snapshot_day: int | None | object = KEEP,
) -> Platform:
    """Save the form. Empty credentials (``token``, or the kind's ``credentials`` fields) keep the
    current ones, unless the server's address (scheme, host or port) changes: the old secret is
    never sent anywhere new without the operator typing it again. Every check runs before
    anything changes."""
    platform_kind = kind_of(platform.kind)
    given = credentials_given(platform_kind, credentials) if credentials is not None else bool((token or "").strip())
    code, name, url, limit, new_token, billing = check_all(
        lambda: _check_code_free(code, platform),
        lambda: check_name(name),
        lambda: check_server_url(server_url),
        lambda: _check_concurrency(concurrency_limit),
        lambda: _secret_of(platform_kind, token, credentials) if given else None,
        lambda: _check_billing(
            platform.unit_price if unit_price is KEEP else unit_price,
            platform.billing_mode if billing_mode is KEEP else billing_mode,
            platform.snapshot_day if snapshot_day is KEEP else snapshot_day,
        ),
    )
    if new_token is None and (origin(url) is None or origin(url) != origin(platform.server_url)):
        first = platform_kind.credentials[0]
        what = "o token" if first == TOKEN else "as credenciais"
        raise DomainError(f"O servidor mudou: informe {what} de novo.", first.name)
    before = _snapshot(platform)
    platform.code, platform.name, platform.server_url, platform.concurrency_limit = code, name, url, limit
    platform.active = bool(active)
    if auto_correct is not None:  # (None: as it is)
        platform.auto_correct = bool(auto_correct)

    platform.unit_price, platform.billing_mode, platform.snapshot_day = billing
    changes = audit.diff(before, _snapshot(platform))
    if new_token is not None:
        platform.token_ciphertext = crypto.encrypt(new_token)
        platform.token_set_at = utcnow()
        for credential in platform_kind.credentials:
            changes[credential.name] = [audit.SECRET_MASK, audit.SECRET_MASK]
    if not changes:
        return platform
    audit.record(actor, "platform.updated", f"Alterou a plataforma {platform.name}.", target=platform, changes=changes)
    db.session.flush()
    return platform


def delete_platform(actor: Actor, platform: Platform) -> None:
    """Only a platform nothing refers to; otherwise deactivate it."""
    plans = ", ".join(db.session.scalars(select(Plan.name).where(Plan.platform_id == platform.id)))
    if plans:
        raise DomainError(
            f"A plataforma {platform.name} é usada pelos planos {plans}. Em vez de removê-la, desative-a "
            "(Editar → desmarque Ativa)."
        )
    rules = db.session.scalar(
        select(func.count()).select_from(BillingRule).where(BillingRule.platform_id == platform.id)
    )
    if rules:
        raise DomainError(
            ngettext(
                "A plataforma %(name)s é usada por %(num)s régua. Altere-a antes de removê-la.",
                "A plataforma %(name)s é usada por %(num)s réguas. Altere-as antes de removê-la.",
                rules,
                name=platform.name,
            )
        )
    audit.record(
        actor,
        "platform.deleted",
        f"Removeu a plataforma {platform.name} ({platform.code}).",
        target=platform,
        changes={key: [value, None] for key, value in _snapshot(platform).items()},
    )
    db.session.delete(platform)
    db.session.flush()


def list_platforms(*, kinds: Iterable[str] | None = None) -> list[Platform]:
    query = select(Platform).order_by(Platform.active.desc(), Platform.name)
    if kinds is not None:
        query = query.where(Platform.kind.in_(list(kinds)))
    return list(db.session.scalars(query))


def token_readable(platform: Platform) -> bool:
    try:
        crypto.decrypt(platform.token_ciphertext)
    except crypto.UnreadableSecret:
        return False
    return True


UNREADABLE_TOKEN = (
    "O token salvo não pode ser lido com a chave de criptografia atual (ENCRYPTION_KEY mudou?). "
    "Edite a plataforma e informe o token de novo."
)


def reencrypt_tokens(actor: Actor) -> tuple[int, list[str]]:
    """Rewrite every token with the newest ENCRYPTION_KEY (the first listed), so an older key
    can then be retired. Returns how many were rewritten and the codes of those no key reads."""
    rewritten, unreadable = 0, []
    for platform in db.session.scalars(select(Platform).order_by(Platform.code)):
        try:
            platform.token_ciphertext = crypto.rotate(platform.token_ciphertext)
        except crypto.UnreadableSecret:
            unreadable.append(platform.code)
        else:
            rewritten += 1
    audit.record(
        actor,
        "platform.tokens_reencrypted",
        ngettext(
            "Recriptografou %(num)s token de plataforma com a chave mais nova.",
            "Recriptografou %(num)s tokens de plataforma com a chave mais nova.",
            rewritten,
        ),
    )
    db.session.flush()
    return rewritten, unreadable
