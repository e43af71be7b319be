"""The pieces of panel.providers.http that need no platform: Retry-After and redaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from panel.providers.http import MASK, _install_urllib3_redaction, parse_retry_after, redact


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("12", 12.0), ("0", 0.0), ("1.5", 1.5), ("", None), ("amanhã", None), ("1e999", None), ("-5", 0.0),
     ("999999", 3600.0), ("Fri, 31 Dec 9999 23:59:59 GMT", 3600.0)],
)
def test_retry_after_in_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    assert 100 < parse_retry_after(format_datetime(when, usegmt=True)) <= 120
    assert parse_retry_after(format_datetime(when - timedelta(days=1), usegmt=True)) == 0.0


def test_redact_masks_documents_however_punctuated_and_other_personal_values():
    text = "CPF 529.982.247-25 ou 52998224725 de Maria@Example.com já existe"

    said = redact(text, ["52998224725", "maria@example.com", "", "ab"])

    assert said == f"CPF {MASK} ou {MASK} de {MASK} já existe"


def test_redact_strips_control_characters_and_cuts_long_messages():
    said = redact("linha\r\nnova\x00" + "x" * 1000, [])
    assert "\n" not in said and "\x00" not in said
    assert len(said) == 300 and said.endswith("…")


def test_urllib3_request_lines_lose_their_query_string(caplog):
    _install_urllib3_redaction()
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")

    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "http", "h", 80, "GET", "/alpha/reseller/customer?cpf=52998224725", "HTTP/1.1",
        200, 10,
    )

    assert "52998224725" not in caplog.text
    assert "/alpha/reseller/customer?…" in caplog.text


@pytest.mark.parametrize(
    ("base_url", "token", "words"),
    [
        ("http://api..ittv.com.br", "token", "URL"),
        ("ftp://127.0.0.1", "token", "URL"),
        ("sem-esquema", "token", "URL"),
        ("http://127.0.0.1:1", "token\u2026", "token"),
        ("http://127.0.0.1:1", "to\nken", "token"),
        ("http://127.0.0.1:1", "  ", "token"),
    ],
)
def test_bad_settings_are_permanent_errors_that_quote_nothing(base_url, token, words):
    from panel.providers import REGISTRY, PermanentError

    for adapter in REGISTRY.values():
        with pytest.raises(PermanentError, match=words) as refused:
            with adapter(base_url, token) as provider:
                provider.list_products()
        assert token.strip() not in refused.value.message or not token.strip()
        assert refused.value.__context__ is None and refused.value.__cause__ is None
