"""A platform's server URL: what the panel accepts, read exactly as the HTTP client will read it
(urllib3's parser, the one requests connects with), so the host checked is the host called."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from panel.domain.common import DomainError


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL sends a request, as urllib3 reads it."""

    scheme: str | None
    host: str | None
    port: int | None
    path: str | None
    has_extras: bool  # user info, query or fragment


def connection_target(url: str) -> Target | None:
    """How the HTTP client will read ``url`` (None: it cannot)."""
    try:
        parsed = parse_url(url)
    except (LocationParseError, ValueError):
        return None
    return Target(
        parsed.scheme,
        parsed.host,
        parsed.port,
        parsed.path,
        has_extras=any(part is not None for part in (parsed.auth, parsed.query, parsed.fragment)),
    )


# What check_server_url accepts, piece by piece (the URL is ASCII by then).
_URL_PARTS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/]*)(?P<path>/.*)?", re.DOTALL)
_AUTHORITY = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]*))?")
_HOST_NAME = re.compile(
    r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:-]*)*")


def check_server_url(raw: str | None) -> str:
    """The server URL, normalised (lower-case host, no trailing slash), if the panel may call it.

    Only http or https, no credentials, query or fragment; the host a plain name or IPv4 address made
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
        parsed is None
        or own is None
        or parsed.has_extras
        or (parsed.scheme or "").lower() != scheme
        or not _HOST_NAME.fullmatch(host)
        or (parsed.host or "").lower().removesuffix(".") != host
    ):
        raise DomainError(
            "O endereço do servidor só pode ter letras sem acento, números, pontos e hífens "
            "(ex.: https://api.exemplo.com.br).",
            field,
        )
    if parsed.port != port:
        raise DomainError("A porta da URL é inválida.", field)
    if (
        not _PATH.fullmatch(path)
        or (parsed.path or "") != path
        or any(segment in (".", "..") for segment in path.split("/"))
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


def origin(url: str) -> tuple[str, str] | None:
    """Scheme and host:port; None for a stored URL no parser reads (written before today's checks)."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        return None
