"""JSON over HTTP for the adapters: one session per platform, explicit timeouts, and every
failure turned into a RetryableError or a PermanentError whose text is safe to show and store.

Safe means: no token and no personal data. The token only travels in the Authorization header;
error texts are built here (never from requests' own exception text, which carries the URL and
so, at ITTV, the CPF in the query string); the platform's message is kept but the request's
personal values are masked in it; our exceptions are raised outside the ``except`` block, so no
traceback drags the original along; and urllib3's debug lines get their query strings cut.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import LocationParseError

from panel.providers.errors import PermanentError, ProviderError, RetryableError

log = logging.getLogger(__name__)

MASK = "***"
MAX_PLATFORM_MESSAGE = 300
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
    def __init__(self, base_url: str, token: str, *, platform: str, timeouts: Timeouts, message_of: MessageOf) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.timeouts = timeouts
        token = token.strip()
        if not token or not _HEADER_SAFE.fullmatch(token):
            # Checked here because requests would fail later with an error that quotes the header.
            raise PermanentError(f"O token de {platform} está vazio ou tem caracteres inválidos; confira em Configurações.")
        self._token = token
        self._message_of = message_of
        self.session = requests.Session()
        # Nothing from the environment: a ~/.netrc entry would replace our Authorization header
        # and proxy variables would send the token elsewhere.
        self.session.trust_env = False
        self.session.headers.update({
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": "painel-sva",
        })
        _install_urllib3_redaction()

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        sensitive: Iterable[str] = (),
        accept: Collection[int] = (),
    ) -> Answer:
        """Send one request. 2xx (and any status in ``accept``) comes back as an Answer;
        anything else raises. ``sensitive`` lists the personal values of this request, masked
        in whatever the platform says back."""
        started = time.monotonic()
        failure: ProviderError | None = None
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
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
        if isinstance(exc, requests.ConnectTimeout):
            return RetryableError(f"{self.platform} não aceitou a conexão em {self.timeouts.connect:g} s.")
        if isinstance(exc, requests.Timeout):
            return RetryableError(f"{self.platform} não respondeu em {self.timeouts.read:g} s.")
        if isinstance(exc, (_BAD_ADDRESS, UnicodeError)):
            return PermanentError(f"A URL do servidor de {self.platform} é inválida; confira em Configurações.")
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return RetryableError(f"A conexão com {self.platform} falhou ou caiu antes da resposta ({type(exc).__name__}).")
        return RetryableError(f"Falha ao falar com {self.platform} ({type(exc).__name__}).")

    def refusal(self, answer: Answer, sensitive: Iterable[str] = ()) -> ProviderError:
        """The error for a non-2xx answer: retryable for 408, 429 and 5xx, permanent otherwise."""
        status = answer.status
        body = None if answer.body is _INVALID else answer.body
        message, code = self._message_of(body) if body is not None else (None, None)
        said = redact(message, [self._token, *sensitive]) if message else None
        suffix = f": {said}" if said else "."
        if status == 429 or status >= 500 or status == 408:
            retry_after = parse_retry_after(answer.retry_after)
            wait = f" Pediu para aguardar {retry_after:g} s." if retry_after is not None else ""
            what = "está limitando as requisições" if status == 429 else "respondeu com erro"
            return RetryableError(
                f"{self.platform} {what} (HTTP {status}){suffix}{wait}", status_code=status, retry_after=retry_after
            )
        if 300 <= status < 400:
            return PermanentError(
                f"{self.platform} respondeu com um redirecionamento (HTTP {status}); confira a URL do servidor.",
                status_code=status,
            )
        if status in (401, 403):
            return PermanentError(
                f"{self.platform} recusou o token (HTTP {status}){suffix} Confira o token em Configurações.",
                status_code=status, platform_message=said, code=code,
            )
        return PermanentError(
            f"{self.platform} recusou a requisição (HTTP {status}){suffix}",
            status_code=status, platform_message=said, code=code,
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
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret masked; a document is masked however it is punctuated.
    Control characters go, and the text is cut to a length a page can show."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        if secret.isdigit():
            pattern = r"\D?".join(re.escape(digit) for digit in secret)
        else:
            pattern = re.escape(secret)
        text = re.sub(pattern, MASK, text, flags=re.IGNORECASE)
    if len(text) > MAX_PLATFORM_MESSAGE:
        text = text[: MAX_PLATFORM_MESSAGE - 1] + "…"
    return text


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
