"""Configurações → Operadoras / Fornecedores: platform accounts, their products, and the checks
(*Testar conexão*, *Sincronizar produtos*) that a job runs against them.

The token is encrypted before it reaches the session and is decrypted only by ``provider_for``,
which the job calls; it never returns to a page, a log line, an audit entry or job data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from redis import RedisError
from sqlalchemy import func, select

from panel import crypto
from panel.domain import audit
from panel.domain.common import Actor, DomainError, check_all
from panel.extensions import db
from panel.models import BillingRule, Plan, Platform, PlatformTask, Product, TaskKind, TaskStatus, User, plan_products
from panel.models.types import utcnow
from panel.providers import (
    REGISTRY,
    AccessStatus,
    PlanProducts,
    Provider,
    connection_target,
    make_provider,
    public_only_from_config,
    timeouts_from_config,
)
from panel.providers import Product as CatalogueProduct
from panel.providers.errors import PermanentError

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
PRODUCT_CODE_MAX = 64
MAX_CONCURRENCY = 64
# A check queued or running longer than this is taken as lost (its worker died): a new request
# is accepted and the page says it did not finish.
TASK_LEASE = timedelta(minutes=10)
TASK_JOB = "panel.jobs.platform_tasks.run_platform_task"


# -- the adapters ---------------------------------------------------------------------------

def adapter(kind: str) -> type[Provider]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise DomainError("Tipo de plataforma desconhecido.", "kind") from None


def kinds_for_plan_type(plan_type: str) -> list[str]:
    return [kind for kind, cls in REGISTRY.items() if cls.plan_type == plan_type]


def supports_base_products(kind: str) -> bool:
    """Whether base packages mean anything at this platform (ITTV's partial block)."""
    return AccessStatus.PARTIAL_BLOCK in adapter(kind).supported_statuses


# -- validation -----------------------------------------------------------------------------

# What check_server_url accepts, piece by piece (the URL is ASCII by then).
_URL_PARTS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/]*)(?P<path>/.*)?", re.DOTALL)
_AUTHORITY = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]*))?")
_HOST_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:-]*)*")


def check_server_url(raw: str | None) -> str:
    """The server URL, normalised (lower-case host, no trailing slash), if the panel may call it.

    Only http(s), no credentials, query or fragment; the host a plain name or IPv4 address made
    of letters, digits, dots and hyphens (no IPv6 literal, no percent-encoding, no accents: a
    domain with accents goes in its xn-- form). The URL is read as the HTTP client will read it
    (``connection_target``: urllib3's parser) and by the strict rules above; anything the two could
    read differently (a backslash, an ``@``, spaces, a dot segment) is refused, so the host
    checked is the host called. The host must match PLATFORM_ALLOWED_HOSTS (in production a list
    of the platforms' hosts: a settings form must not aim the worker at internal addresses);
    production also requires https, since the token travels on every call, and refuses, when
    connecting, a host that resolves to an internal address (``panel.providers.http``).
    """
    url = raw or ""
    field = "server_url"
    if not url.strip():
        raise DomainError("Informe a URL do servidor.", field)
    if len(url) > 255:
        raise DomainError("A URL pode ter no máximo 255 caracteres.", field)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise DomainError("A URL não pode ter espaços (nem no começo ou no fim) ou caracteres invisíveis.", field)
    if not url.isascii():
        raise DomainError(
            "A URL não pode ter acentos nem símbolos especiais; um domínio com acento vai na forma xn--….", field
        )
    parts = _URL_PARTS.fullmatch(url)
    if parts is None or parts["scheme"].lower() not in ("http", "https"):
        raise DomainError("A URL deve começar com http:// ou https://.", field)
    scheme, authority, path = parts["scheme"].lower(), parts["authority"], parts["path"] or ""
    if "@" in url:
        raise DomainError("Não coloque usuário ou senha na URL: o token vai no campo Token.", field)
    if "?" in url or "#" in url:
        raise DomainError("A URL do servidor não leva parâmetros (?…) nem âncora (#…).", field)
    if "\\" in url:
        raise DomainError("A URL não pode ter barra invertida (\\).", field)
    if authority.startswith("["):
        raise DomainError("Use o nome do servidor, não um endereço IPv6 (ex.: https://api.exemplo.com.br).", field)
    if not authority or authority.startswith(":"):
        raise DomainError("Informe o endereço do servidor na URL (ex.: https://api.exemplo.com.br).", field)
    own = _AUTHORITY.fullmatch(authority)
    port = int(own["port"]) if own and own["port"] and len(own["port"]) <= 5 else None
    if own and own["port"] is not None and not (port and 1 <= port <= 65535):
        raise DomainError("A porta da URL é inválida.", field)
    # How the HTTP client will read it must agree with the strict reading, part by part.
    parsed = connection_target(url)
    host = own["host"].lower().removesuffix(".") if own else ""
    if (
        parsed is None or own is None or parsed.has_extras or (parsed.scheme or "").lower() != scheme
        or not _HOST_NAME.fullmatch(host) or (parsed.host or "").lower().removesuffix(".") != host
    ):
        raise DomainError(
            "O endereço do servidor só pode ter letras sem acento, números, pontos e hífens "
            "(ex.: https://api.exemplo.com.br).", field,
        )
    if parsed.port != port:
        raise DomainError("A porta da URL é inválida.", field)
    if not _PATH.fullmatch(path) or (parsed.path or "") != path or any(
        segment in (".", "..") for segment in path.split("/")
    ):
        raise DomainError("O caminho da URL tem caracteres que não são aceitos (use letras, números, / . - _).", field)
    if current_app.config["PANEL_ENV"] == "production" and scheme != "https":
        raise DomainError("Em produção, use https:// (o token viaja em cada requisição).", field)
    if not host_allowed(host, current_app.config["PLATFORM_ALLOWED_HOSTS"]):
        raise DomainError(
            f"O servidor {host} não está entre os permitidos pela configuração do painel "
            "(PLATFORM_ALLOWED_HOSTS). Peça ao responsável pela instalação para incluí-lo.",
            field,
        )
    return f"{scheme}://{host}{f':{port}' if port is not None else ''}{path.rstrip('/')}"


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """``host`` (lower-case, no trailing dot) against PLATFORM_ALLOWED_HOSTS: ``*`` is any host,
    ``*.example.com`` any name under example.com (not example.com itself), anything else that
    exact name."""
    for pattern in patterns:
        pattern = pattern.lower().removesuffix(".")
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def _check_token(raw: str | None) -> str:
    token = (raw or "").strip()
    if not token:
        raise DomainError("Informe o token.", "token")
    if len(token) > 4096:
        raise DomainError("O token pode ter no máximo 4096 caracteres.", "token")
    if any(char.isspace() or not char.isprintable() or ord(char) > 126 for char in token):
        raise DomainError("O token tem caracteres inválidos (espaços, acentos ou quebras de linha).", "token")
    return token


def _check_code(raw: str | None) -> str:
    code = (raw or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError("Use de 2 a 32 caracteres: letras, números, hífen ou sublinhado.", "code")
    return code


def _check_name(raw: str | None, field: str = "name", limit: int = 120) -> str:
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


def _code_taken(code: str, platform: Platform | None) -> bool:
    query = select(Platform.id).where(Platform.code == code)
    if platform is not None:
        query = query.where(Platform.id != platform.id)
    return db.session.scalar(query) is not None


# -- platforms ------------------------------------------------------------------------------

def _snapshot(platform: Platform) -> dict:
    return {
        "kind": platform.kind, "code": platform.code, "name": platform.name, "server_url": platform.server_url,
        "concurrency_limit": platform.concurrency_limit, "active": platform.active,
    }


def _check_code_free(raw: str | None, platform: Platform | None) -> str:
    code = _check_code(raw)
    if _code_taken(code, platform):
        raise DomainError("Já existe uma plataforma com este código.", "code")
    return code


def code_is_free(code: str) -> bool:
    return not _code_taken(code.upper(), None)


def create_platform(
    actor: Actor, *, kind: str, code: str, name: str, server_url: str, token: str,
    concurrency_limit: int | None = 4, active: bool = True,
) -> Platform:
    cls = adapter(kind)
    code, name, url, token, limit = check_all(
        lambda: _check_code_free(code, None), lambda: _check_name(name), lambda: check_server_url(server_url),
        lambda: _check_token(token), lambda: _check_concurrency(concurrency_limit),
    )
    platform = Platform(
        kind=kind, code=code, name=name, server_url=url, token_ciphertext=crypto.encrypt(token),
        token_set_at=utcnow(), concurrency_limit=limit, active=bool(active),
    )
    db.session.add(platform)
    db.session.flush()
    changes = {key: [None, value] for key, value in _snapshot(platform).items()}
    changes["token"] = [None, audit.SECRET_MASK]
    audit.record(actor, "platform.created", f"Cadastrou {platform.name} ({cls.label}, {cls.role_label}).",
                 target=platform, changes=changes)
    db.session.commit()
    return platform


def _origin(url: str) -> tuple[str, str] | None:
    """Scheme and host:port; None for a stored URL no parser reads (written before today's checks)."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        return None


def update_platform(
    actor: Actor, platform: Platform, *, code: str, name: str, server_url: str, token: str | None,
    concurrency_limit: int | None, active: bool,
) -> Platform:
    """Save the form. An empty ``token`` keeps the current one, unless the server's address
    (scheme, host or port) changes: the old token is never sent anywhere new without the
    operator typing it again. Every check runs before anything changes."""
    code, name, url, limit, new_token = check_all(
        lambda: _check_code_free(code, platform), lambda: _check_name(name), lambda: check_server_url(server_url),
        lambda: _check_concurrency(concurrency_limit),
        lambda: _check_token(token) if (token or "").strip() else None,
    )
    if new_token is None and (_origin(url) is None or _origin(url) != _origin(platform.server_url)):
        raise DomainError("O servidor mudou: informe o token de novo.", "token")
    before = _snapshot(platform)
    platform.code, platform.name, platform.server_url, platform.concurrency_limit = code, name, url, limit
    platform.active = bool(active)
    changes = audit.diff(before, _snapshot(platform))
    if new_token is not None:
        platform.token_ciphertext = crypto.encrypt(new_token)
        platform.token_set_at = utcnow()
        changes["token"] = [audit.SECRET_MASK, audit.SECRET_MASK]
    if not changes:
        return platform
    audit.record(actor, "platform.updated", f"Alterou a plataforma {platform.name}.", target=platform, changes=changes)
    db.session.commit()
    return platform


def delete_platform(actor: Actor, platform: Platform) -> None:
    """Only a platform nothing refers to; otherwise deactivate it."""
    plans = _names(select(Plan.name).where(Plan.platform_id == platform.id))
    if plans:
        raise DomainError(
            f"A plataforma {platform.name} é usada pelos planos {plans}. Em vez de removê-la, desative-a "
            "(Editar → desmarque Ativa)."
        )
    rules = db.session.scalar(select(func.count()).select_from(BillingRule).where(BillingRule.platform_id == platform.id))
    if rules:
        raise DomainError(f"A plataforma {platform.name} é usada por {rules} régua(s). Altere-as antes de removê-la.")
    audit.record(actor, "platform.deleted", f"Removeu a plataforma {platform.name} ({platform.code}).",
                 target=platform, changes={key: [value, None] for key, value in _snapshot(platform).items()})
    db.session.delete(platform)
    db.session.commit()


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


def provider_for(platform: Platform) -> Provider:
    """The adapter for this account, ready to call. The server URL is checked again against the
    current settings (they may have changed since it was saved, or the row was written by an
    older version with looser rules); in production the adapter also refuses, when connecting,
    any address that is not public."""
    url = check_server_url(platform.server_url)
    try:
        token = crypto.decrypt(platform.token_ciphertext)
    except crypto.UnreadableSecret:
        raise DomainError(UNREADABLE_TOKEN, "token") from None
    config = current_app.config
    return make_provider(
        platform.kind, url, token, timeouts=timeouts_from_config(config), public_only=public_only_from_config(config)
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
    audit.record(actor, "platform.tokens_reencrypted",
                 f"Recriptografou {rewritten} token(s) de plataforma com a chave mais nova.")
    db.session.commit()
    return rewritten, unreadable


# -- products -------------------------------------------------------------------------------

def _check_product_code(raw: str | None) -> str:
    code = (raw or "").strip()
    if not code:
        raise DomainError("Informe o código (sigla) do produto.", "code")
    if len(code) > PRODUCT_CODE_MAX:
        raise DomainError(f"O código pode ter no máximo {PRODUCT_CODE_MAX} caracteres.", "code")
    if any(char.isspace() or not char.isprintable() for char in code):
        raise DomainError("O código não pode ter espaços.", "code")
    return code


def _names(query) -> str:
    return ", ".join(db.session.scalars(query))


def plans_using(product: Product) -> list[Plan]:
    return list(db.session.scalars(
        select(Plan).join(plan_products, plan_products.c.plan_id == Plan.id)
        .where(plan_products.c.product_id == product.id).order_by(Plan.name)
    ))


def _product_snapshot(product: Product) -> dict:
    return {"code": product.code, "name": product.name, "is_base": product.is_base}


def add_product(actor: Actor, platform: Platform, *, code: str, name: str, is_base: bool = False) -> Product:
    code = _check_product_code(code)
    if is_base and not supports_base_products(platform.kind):
        raise DomainError(f"A {adapter(platform.kind).label} não tem bloqueio parcial: não há pacote base.", "is_base")
    if db.session.scalar(select(Product.id).where(Product.platform_id == platform.id, Product.code == code)):
        raise DomainError("Esta plataforma já tem um produto com este código.", "code")
    product = Product(platform=platform, code=code, name=_check_name(name), is_base=bool(is_base))
    db.session.add(product)
    db.session.flush()
    audit.record(actor, "product.created", f"Cadastrou o produto {code} em {platform.name}.", target=product,
                 changes={key: [None, value] for key, value in _product_snapshot(product).items()})
    db.session.commit()
    return product


def update_product(actor: Actor, product: Product, *, code: str, name: str, is_base: bool) -> Product:
    """Plans keep working: the code of a product a plan sells cannot change (it is how the
    platform knows the package), and a new base flag must leave every such plan valid."""
    code = _check_product_code(code)
    name = _check_name(name)
    is_base = bool(is_base)
    platform = product.platform
    if is_base and not supports_base_products(platform.kind):
        raise DomainError(f"A {adapter(platform.kind).label} não tem bloqueio parcial: não há pacote base.", "is_base")
    plans = plans_using(product)
    if code != product.code:
        if plans:
            raise DomainError(
                "O código identifica o pacote na plataforma e este produto é vendido pelos planos "
                f"{', '.join(plan.name for plan in plans)}: cadastre um novo produto em vez de mudar o código.",
                "code",
            )
        if db.session.scalar(select(Product.id).where(Product.platform_id == platform.id, Product.code == code)):
            raise DomainError("Esta plataforma já tem um produto com este código.", "code")
    if is_base != product.is_base:
        for plan in plans:
            codes = tuple(p.code for p in plan.products)
            base = tuple(p.code for p in plan.products if (p.is_base if p.id != product.id else is_base))
            problem = package_problem(platform.kind, codes, base)
            if problem:
                raise DomainError(f"O plano {plan.name} ficaria inválido: {problem[:1].lower()}{problem[1:]}", "is_base")
    before = _product_snapshot(product)
    product.code, product.name, product.is_base = code, name, is_base
    changes = audit.diff(before, _product_snapshot(product))
    if changes:
        audit.record(actor, "product.updated", f"Alterou o produto {code} de {platform.name}.", target=product,
                     changes=changes)
        db.session.commit()
    return product


def remove_product(actor: Actor, product: Product) -> None:
    plans = plans_using(product)
    if plans:
        raise DomainError(
            f"O produto {product.code} é usado pelos planos {', '.join(plan.name for plan in plans)}: "
            "retire-o desses planos antes de removê-lo."
        )
    audit.record(actor, "product.deleted", f"Removeu o produto {product.code} de {product.platform.name}.",
                 target=product, changes={key: [value, None] for key, value in _product_snapshot(product).items()})
    db.session.delete(product)
    db.session.commit()


def package_problem(kind: str, codes: tuple[str, ...], base_codes: tuple[str, ...]) -> str | None:
    """Why this platform cannot serve these packages, or None (the adapter's own rule)."""
    cls = adapter(kind)
    if not codes:
        return "selecione pelo menos um pacote."
    if AccessStatus.PARTIAL_BLOCK not in cls.supported_statuses:
        base_codes = ()  # base packages mean nothing there
    try:
        cls.check_plan(PlanProducts(codes, base_codes))
    except PermanentError as error:
        return str(error)
    return None


# -- checks run by a job: Testar conexão, Sincronizar produtos ------------------------------

def _is_stale(task: PlatformTask) -> bool:
    return not task.status_enum.finished and task.created_at < utcnow() - TASK_LEASE


def task_display_status(task: PlatformTask) -> TaskStatus | None:
    """The status to show; None for a task taken as lost (queued or running past the lease)."""
    return None if _is_stale(task) else task.status_enum


def latest_task(platform: Platform, kind: TaskKind) -> PlatformTask | None:
    return db.session.scalar(
        select(PlatformTask).where(PlatformTask.platform_id == platform.id, PlatformTask.kind == kind.value)
        .order_by(PlatformTask.id.desc()).limit(1)
    )


def request_task(actor: Actor, platform: Platform, kind: TaskKind) -> PlatformTask:
    """Record the request and hand its id to a job (after the commit, so the job finds the
    row). A second click while one is on its way returns the same task."""
    current = latest_task(platform, kind)
    if current is not None and not current.status_enum.finished and not _is_stale(current):
        return current
    task = PlatformTask(
        platform=platform, kind=kind.value, status=TaskStatus.queued.value,
        requested_by_id=actor.user.id if actor.user is not None else None, requested_by_name=actor.name,
    )
    db.session.add(task)
    db.session.flush()
    audit.record(actor, f"platform.{kind.value}", f"Pediu {kind.label} da plataforma {platform.name}.", target=platform)
    db.session.commit()

    from panel.jobs.queues import enqueue

    try:
        enqueue(
            TASK_JOB, task.id, queue="sync", job_id=f"platform-task-{task.id}",
            description=f"{kind.label}: plataforma {platform.id}, tarefa {task.id}",
        )
    except RedisError:
        log.error("could not enqueue platform task %s", task.id)
        _finish(task, TaskStatus.failed, "A fila de tarefas não respondeu; nada foi enviado à plataforma. Tente de novo.")
    return task


def start_task(task: PlatformTask) -> bool:
    """Mark the task running; False when there is nothing to do (already finished)."""
    if task.status_enum.finished:
        return False
    task.status = TaskStatus.running.value
    task.started_at = utcnow()
    db.session.commit()
    return True


def _finish(task: PlatformTask, status: TaskStatus, message: str, details: dict | None = None) -> None:
    task.status = status.value
    task.message = message
    task.details = details
    task.finished_at = utcnow()
    db.session.commit()


def connection_ok(task: PlatformTask, message: str) -> None:
    _finish(task, TaskStatus.done, message)


def task_failed(task: PlatformTask, message: str) -> None:
    _finish(task, TaskStatus.failed, message)


def _task_actor(task: PlatformTask) -> Actor:
    user = db.session.get(User, task.requested_by_id) if task.requested_by_id else None
    return Actor(name=task.requested_by_name, user=user)


def import_catalogue(task: PlatformTask, catalogue: list[CatalogueProduct]) -> None:
    """*Sincronizar produtos*: add the platform's products we lack and take its names for the
    ones we have. Products missing from the catalogue are listed, never removed (plans may sell
    them); base flags are ours and stay as they are."""
    platform = task.platform
    ours = {product.code: product for product in platform.products}
    added, renamed, skipped = [], [], []
    seen = set()
    for item in catalogue:
        code, name = (item.code or "").strip(), " ".join((item.name or "").split())[:120] or item.code
        if not code or len(code) > PRODUCT_CODE_MAX or any(char.isspace() for char in code) or code in seen:
            skipped.append(code[:PRODUCT_CODE_MAX])
            continue
        seen.add(code)
        product = ours.get(code)
        if product is None:
            db.session.add(Product(platform=platform, code=code, name=name, is_base=False))
            added.append([code, name])
        elif product.name != name:
            renamed.append([code, product.name, name])
            product.name = name
    missing = sorted(code for code in ours if code not in seen)
    details = {"added": added, "renamed": renamed, "missing": missing, "skipped": skipped}
    parts = [f"{len(added)} produto(s) adicionado(s)" if added else "nenhum produto novo"]
    if renamed:
        parts.append(f"{len(renamed)} nome(s) atualizado(s)")
    if missing:
        parts.append(f"{len(missing)} produto(s) nosso(s) fora do catálogo")
    if skipped:
        parts.append(f"{len(skipped)} item(ns) do catálogo ignorado(s) (código inválido ou repetido)")
    message = "Catálogo sincronizado: " + "; ".join(parts) + "."
    if added or renamed:
        audit.record(_task_actor(task), "product.synced", f"Sincronizou os produtos de {platform.name}: {message}",
                     target=platform, changes={"added": [None, [code for code, _ in added]],
                                               "renamed": [None, [code for code, _, _ in renamed]]})
    _finish(task, TaskStatus.done, message, details)
