"""JSON over HTTP for the adapters: one session per platform, explicit timeouts, and every
failure turned into a RetryableError or a PermanentError whose text is safe to show and store.

Safe means: no token and no personal data. The token only travels in the Authorization header;
error texts are built here (never from requests' own exception text, which carries the URL and
so, at ITTV, the CPF in the query string); the platform's message is kept but the request's
personal values are masked in it (``redact``: on the decoded text, accents and case aside); our
exceptions are raised outside the ``except`` block, so no traceback drags the original along; and
urllib3's debug lines get their query strings cut.

In production the client is built with ``public_only``: every new connection is checked, right
after the TCP connect and before a byte is sent (no TLS handshake, no request), against the
address it actually reached; a loopback, private, link-local, shared or reserved address is
refused. Checking the connected socket, not a separate DNS lookup, is what defeats DNS rebinding
(a name that resolves to a public address for a check and to an internal one for the call).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import socket
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError

from panel.formats import sentence
from panel.providers.errors import PermanentError, ProviderError, RetryableError

log = logging.getLogger(__name__)

MASK = "***"
MAX_PLATFORM_MESSAGE = 300
# Personal values shorter than this are not masked: "SP" or a house number "12" would mangle
# ordinary words and numbers of the platform's message, and say little about anyone.
MIN_MASKED_LENGTH = 3
# Values of at least this many characters (digits, for numbers) are masked wherever they appear;
# shorter ones only as whole words (whole numbers), so a house number "100" leaves "1000" alone.
ANYWHERE_LENGTH = 7
# Only the start of a platform's message is looked at (it is cut to MAX_PLATFORM_MESSAGE anyway).
MAX_MESSAGE_SCANNED = 10_000
MAX_RETRY_AFTER = 3600.0  # seconds; a platform asking for more is waited on in later retries
# What an HTTP header value may hold (printable Latin-1, no control characters).
_HEADER_SAFE = re.compile(r"[\x20-\x7e\xa0-\xff]+")
_BAD_ADDRESS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    LocationParseError,
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection and then for each read (config: PROVIDER_*_TIMEOUT)."""

    connect: float = 3.0
    read: float = 10.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None for an empty body
    retry_after: str | None = None  # the Retry-After header, as sent


MessageOf = Callable[[object], tuple[str | None, str | None]]


class JsonHttpClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        platform: str,
        timeouts: Timeouts,
        message_of: MessageOf,
        public_only: bool = False,
        secrets: Iterable[str] = (),
    ) -> None:
        """``public_only`` (production): refuse to connect to anything but a public address.
        ``token`` None: no Authorization header until ``use_token`` (a platform whose bearer
        token is obtained with other credentials, listed in ``secrets`` to be masked too)."""
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.timeouts = timeouts
        self._secrets = [value for value in secrets if value]
        self._token = ""
        self._message_of = message_of
        self.session = requests.Session()
        # Nothing from the environment: a ~/.netrc entry would replace our Authorization header
        # and proxy variables would send the token elsewhere.
        self.session.trust_env = False
        self.session.headers.update({"Accept": "application/json", "User-Agent": "painel-sva"})
        if token is not None:
            self.use_token(token)
        if public_only:
            for prefix in ("http://", "https://"):
                self.session.mount(prefix, PublicAddressesOnly())
        _install_urllib3_redaction()

    def use_token(self, token: str) -> None:
        """Send ``Authorization: Bearer <token>`` from now on."""
        token = token.strip()
        if not token or not _HEADER_SAFE.fullmatch(token):
            # Checked here because requests would fail later with an error that quotes the header.
            raise PermanentError(
                f"O token de {self.platform} está vazio ou tem caracteres inválidos; confira em Configurações."
            )
        self._token = token
        self.session.headers["Authorization"] = f"Bearer {token}"

    def drop_token(self) -> None:
        """No Authorization header from now on (a token the platform refused is not sent again,
        not even to its token endpoint)."""
        self.session.headers.pop("Authorization", None)

    @property
    def token(self) -> str:
        return self._token

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        sensitive: Iterable[str] = (),
        accept: Collection[int] = (),
    ) -> Answer:
        """Send one request (``json``, or ``data`` form-encoded). 2xx (and any status in
        ``accept``) comes back as an Answer; anything else raises. ``sensitive`` lists the
        personal values of this request, masked in whatever the platform says back."""
        started = time.monotonic()
        failure: ProviderError | None = None
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                data=data,
                timeout=(self.timeouts.connect, self.timeouts.read),
                allow_redirects=False,  # a redirect would carry the token to another address
            )
        except Exception as exc:  # every failure is classified; none is chained (see below)
            failure = self._transport_failure(exc)
        if failure is not None:
            # Raised outside the except block: the original exception (whose text carries the
            # URL, and at ITTV the CPF) stays out of __context__ and so out of tracebacks.
            raise failure

        with response:
            elapsed_ms = (time.monotonic() - started) * 1000
            # The path only (no query string, no body): safe to log.
            log.debug("%s %s %s -> %s (%.0f ms)", self.platform, method, path, response.status_code, elapsed_ms)
            answer = Answer(response.status_code, _decode(response), response.headers.get("Retry-After"))
        if 200 <= answer.status < 300 or answer.status in accept:
            if answer.body is _INVALID:
                raise PermanentError(
                    f"{self.platform} respondeu HTTP {answer.status} sem um JSON válido; confira a URL do servidor.",
                    status_code=answer.status,
                )
            return answer
        raise self.refusal(answer, sensitive)

    def _transport_failure(self, exc: Exception) -> ProviderError:
        """What went wrong before any answer came, in words for the operator."""
        if isinstance(exc, InternalAddress):
            return PermanentError(
                f"Chamada a {self.platform} recusada: o servidor {exc.host} resolve para um endereço interno "
                f"({exc.address}), e em produção o painel só chama endereços públicos. Confira a URL do servidor "
                "em Configurações (e o DNS desse nome)."
            )
        if isinstance(exc, requests.ConnectTimeout):
            return RetryableError(f"{self.platform} não aceitou a conexão em {self.timeouts.connect:g} s.")
        if isinstance(exc, requests.Timeout):
            return RetryableError(f"{self.platform} não respondeu em {self.timeouts.read:g} s.")
        if isinstance(exc, (_BAD_ADDRESS, UnicodeError)):
            return PermanentError(f"A URL do servidor de {self.platform} é inválida; confira em Configurações.")
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return RetryableError(
                f"A conexão com {self.platform} falhou ou caiu antes da resposta ({type(exc).__name__})."
            )
        return RetryableError(f"Falha ao falar com {self.platform} ({type(exc).__name__}).")

    def redact(self, message: str, sensitive: Iterable[str] = ()) -> str:
        """The platform's ``message`` with our secrets and the request's personal values masked."""
        return redact(message, [self._token, *self._secrets, *sensitive])

    def refusal(self, answer: Answer, sensitive: Iterable[str] = ()) -> ProviderError:
        """The error for a non-2xx answer: retryable for 408, 429 and 5xx, permanent otherwise."""
        status = answer.status
        body = None if answer.body is _INVALID else answer.body
        message, code = self._message_of(body) if body is not None else (None, None)
        said = self.redact(message, sensitive) if message else None
        suffix = f": {said}" if said else "."
        if status == 429 or status >= 500 or status == 408:
            retry_after = parse_retry_after(answer.retry_after)
            wait = f" Pediu para aguardar {retry_after:g} s." if retry_after is not None else ""
            what = "está limitando as requisições" if status == 429 else "respondeu com erro"
            return RetryableError(
                f"{self.platform} {what} (HTTP {status}){sentence(suffix) if wait else suffix}{wait}",
                status_code=status,
                retry_after=retry_after,
            )
        if 300 <= status < 400:
            return PermanentError(
                f"{self.platform} respondeu com um redirecionamento (HTTP {status}); confira a URL do servidor.",
                status_code=status,
            )
        if status in (401, 403):
            return PermanentError(
                f"{self.platform} recusou o token (HTTP {status}){sentence(suffix)} Confira o token em Configurações.",
                status_code=status,
                platform_message=said,
                code=code,
            )
        return PermanentError(
            f"{self.platform} recusou a requisição (HTTP {status}){suffix}",
            status_code=status,
            platform_message=said,
            code=code,
        )


_INVALID = object()


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, RecursionError):
        return _INVALID


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def redact(text: str, secrets: Iterable[str]) -> str:
    """The platform's ``text`` as it can be stored and shown: JSON escapes decoded (platforms
    quote our request JSON-encoded: ``Jo\\u00e3o``, ``\\"``), control characters gone, each of
    ``secrets`` masked, and cut to a length a page can show.

    Matching ignores case and accents ("JOAO CONCEICAO" is "João Conceição") and how spaces fall
    between words; a value made of digits (document, phone, CEP, number) matches however it is
    punctuated ("529.982.247-25", "01310-100", "+55 (11) 98765-4321"). Values shorter than
    MIN_MASKED_LENGTH are left alone, and values shorter than ANYWHERE_LENGTH match only whole
    words or numbers, so that a short value does not mangle ordinary words of the message."""
    text = _decode_json_escapes(text[:MAX_MESSAGE_SCANNED])
    text = "".join(_printable(char) for char in text)
    text = re.sub(r"\s+", " ", text).strip()
    patterns = [pattern for pattern in map(_secret_pattern, set(secrets)) if pattern is not None]
    if patterns:
        text = _mask(text, patterns)
    if len(text) > MAX_PLATFORM_MESSAGE:
        text = text[: MAX_PLATFORM_MESSAGE - 1] + "…"
    return text


_JSON_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([\"\\/bfnrt]))"
)
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _decode_json_escapes(text: str) -> str:
    """JSON string escapes turned into the characters they stand for, up to three levels deep
    (a platform may quote a JSON text that itself quotes one)."""

    def one(match: re.Match) -> str:
        high, low, code, simple = match.groups()
        if high:
            return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
        if code:
            value = int(code, 16)
            return "\ufffd" if 0xD800 <= value <= 0xDFFF else chr(value)
        return _SIMPLE_ESCAPES[simple]

    for _ in range(3):
        decoded = _JSON_ESCAPE.sub(one, text)
        if decoded == text:
            break
        text = decoded
    return text


def _printable(char: str) -> str:
    """Control characters become spaces; invisible format characters (zero-width spaces, bidi
    overrides) go, so they can neither hide a value from the mask nor disguise the text."""
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    return "" if category in ("Cf", "Cs", "Co", "Cn") else char


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` without accents and case, and for each of its characters the index of the
    character of ``text`` it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for piece in part.casefold():
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


def _secret_pattern(value: str) -> re.Pattern | None:
    """How one personal value is found in a folded text, or None when it is too short to mask."""
    folded = " ".join(_fold(value or "")[0].split())
    digits = [char for char in folded if char.isdigit()]
    if digits and not any(char.isalpha() for char in folded):
        # A number (document, phone, CEP, house number): its digits, whatever lies between them.
        if len(digits) < MIN_MASKED_LENGTH:
            return None
        pattern = r"[\W_]{0,3}".join(digits)
        if len(digits) < ANYWHERE_LENGTH:
            pattern = rf"(?<!\d){pattern}(?!\d)"
        return re.compile(pattern)
    if len(folded.replace(" ", "")) < MIN_MASKED_LENGTH:
        return None
    pattern = r"\s+".join(re.escape(word) for word in folded.split())
    if len(folded) < ANYWHERE_LENGTH:
        if re.match(r"\w", folded):
            pattern = rf"(?<!\w){pattern}"
        if re.search(r"\w$", folded):
            pattern = rf"{pattern}(?!\w)"
    return re.compile(pattern)


def _mask(text: str, patterns: list[re.Pattern]) -> str:
    """Every match of ``patterns`` in the folded text masked in ``text`` itself (overlapping
    matches become one mask)."""
    folded, origin = _fold(text)
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for match in pattern.finditer(folded):
            if match.end() > match.start():
                start, end = origin[match.start()], origin[match.end() - 1] + 1
                while end < len(text) and unicodedata.combining(text[end]):
                    end += 1  # an accent written apart goes with its letter
                spans.append((start, end))
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, last = [], 0
    for start, end in merged:
        pieces += [text[last:start], MASK]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


# -- production: public addresses only ----------------------------------------------------------


class InternalAddress(Exception):
    """A connection reached an address that is not public. Deliberately not an OSError: urllib3
    and requests let it through as it is (no retry, no wrapping), and the client turns it into
    a PermanentError."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} is {address}, not a public address")
        self.host = host
        self.address = address


# IPv6 ranges that carry an IPv4 address the traffic ends up at: NAT64 (RFC 6052, RFC 8215).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def is_public_address(address: str) -> bool:
    """Whether ``address`` (an IP literal) is one the internet routes: not loopback, private,
    link-local, shared (CGNAT, 100.64/10), reserved, unspecified or multicast — nor an IPv6
    address that stands for such an IPv4 one (mapped, 6to4, NAT64)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in network for network in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


class _CheckedPeer:
    """A urllib3 connection that looks at the address its socket is connected to before
    anything is sent on it (for https, before the TLS handshake)."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            address = sock.getpeername()[0]
        except OSError:
            address = ""
        if not is_public_address(address):
            sock.close()
            raise InternalAddress(self.host, address or "desconhecido")
        return sock


class _CheckedHTTPConnection(_CheckedPeer, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedPeer, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class PublicAddressesOnly(HTTPAdapter):
    """A requests adapter whose connections refuse non-public peers (see ``_CheckedPeer``).
    No proxy is ever involved: the session neither reads the environment nor sets one."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


class _CutQueryStrings(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included (ITTV looks customers up
    by ``?cpf=``): keep the line, drop the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                re.sub(r"\?\S*", "?…", arg) if isinstance(arg, str) and "?" in arg else arg for arg in record.args
            )
        return True


_redaction_filter = _CutQueryStrings()


def _install_urllib3_redaction() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if _redaction_filter not in logger.filters:
        logger.addFilter(_redaction_filter)
