"""The pieces of panel.providers.http that need no platform: Retry-After, redaction of what a
platform says back, and (production) calls that reach only public addresses."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from panel.providers import PlanProducts, SubscriberData, Timeouts
from panel.providers.http import MASK, _install_urllib3_redaction, is_public_address, parse_retry_after, redact
from tests.raw_listener import RawListener


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("12", 12.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("", None),
        ("amanhã", None),
        ("1e999", None),
        ("-5", 0.0),
        ("999999", 3600.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 3600.0),
    ],
)
def test_retry_after_in_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=120)
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
        '%s://%s:%s "%s %s %s" %s %s',
        "http",
        "h",
        80,
        "GET",
        "/alpha/reseller/customer?cpf=52998224725",
        "HTTP/1.1",
        200,
        10,
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
        with pytest.raises(PermanentError, match=words) as refused, adapter(base_url, token) as provider:
            provider.list_products()
        assert token.strip() not in refused.value.message or not token.strip()
        assert refused.value.__context__ is None and refused.value.__cause__ is None


# -- what a platform says back: decoded, then masked ------------------------------------------

PERSON = SubscriberData(
    external_ref="contrato-7",
    name='João "Jota" da Conceição',
    document="52998224725",
    email="joao.conceicao@example.com.br",
    plan=PlanProducts(("PLAYHUB-PREMIUM",)),
    phone="11987654321",
    zipcode="37410000",
    street="Rua das Acácias",
    number="1578",
    complement="Bloco Ipê",
    city="Três Corações",
    state="MG",
    username="joao.conceicao@example.com.br",
    password="52998224725",
)


def test_a_request_quoted_back_json_escaped_has_every_personal_field_masked():
    # What a platform answers when it quotes our JSON body in its message (json.dumps escapes
    # accents as \u00e3 and quotes as \"), as the panel receives it after decoding the answer.
    quoted = json.dumps(
        {
            "name": PERSON.name,
            "cpf": PERSON.document,
            "phone": PERSON.phone,
            "email": PERSON.email,
            "zipcode": PERSON.zipcode,
            "address": PERSON.street,
            "number": PERSON.number,
            "complement": PERSON.complement,
            "city": PERSON.city,
            "state": PERSON.state,
        }
    )
    assert "\\u00e3" in quoted and '\\"Jota\\"' in quoted  # the platform's text really is escaped

    said = redact("Dados inválidos. Recebido: " + quoted, [*PERSON.personal_values()])

    assert said == (
        'Dados inválidos. Recebido: {"name": "***", "cpf": "***", "phone": "***", "email": "***", '
        '"zipcode": "***", "address": "***", "number": "***", "complement": "***", "city": "***", "state": "MG"}'
    )


@pytest.mark.parametrize(
    ("platform_says", "shown"),
    [
        # accents and case aside, however the words are spaced
        ('Cliente JOAO "JOTA" DA CONCEICAO já existe', "Cliente *** já existe"),
        ('Cliente joão  "jota"\tda conceição já existe', "Cliente *** já existe"),
        # a word of the name alone, also with the accent written apart (combining tilde)
        ("Prezado Joa\u0303o, confira", "Prezado ***, confira"),
        ("Prezado Jo\u200bão, confira", "Prezado ***, confira"),  # a zero-width space does not hide it
        ("Apelido &quot;Jota&quot; em uso", "Apelido &quot;***&quot; em uso"),  # a word of the name, quoted
        # numbers however punctuated
        ("CEP 37410-000 não atendido", "CEP *** não atendido"),
        ("Telefone +55 (11) 98765-4321 inválido", "Telefone +55 (*** inválido"),
        ("CPF 529.982.247-25 duplicado", "CPF *** duplicado"),
        ("Número 1.578 e cidade TRES CORACOES", "Número *** e cidade ***"),
        # escapes of every kind, twice over (a JSON text quoted inside another)
        ('Recebido: {\\"address\\": \\"Rua das Ac\\\\u00e1cias\\"}', 'Recebido: {"address": "***"}'),
        ("Login joao.conceicao@example.com.br \\/ joao.conceicao", "Login *** / ***"),
        ("Prezado Jo\\ud83d\\ude00ão", "Prezado Jo\U0001f600ão"),  # a surrogate pair is one character
    ],
)
def test_personal_values_are_masked_however_the_platform_writes_them(platform_says, shown):
    assert redact(platform_says, PERSON.personal_values()) == shown


def test_short_values_and_parts_of_longer_numbers_and_words_are_left_alone():
    # "MG" (the UF) is under three characters: masking it would mangle ordinary words. A short
    # number masks only as a whole number, a short word only as a whole word.
    person = SubscriberData(
        external_ref="x",
        name="Ana Lu",
        document="52998224725",
        email="",
        number="100",
        state="MG",
        complement="ap 1",
        plan=PlanProducts(("P",)),
    )

    said = redact("MG: limite de 1000 na Análise; Ana, 100 e ap 1 LU", person.personal_values())

    assert said == "MG: limite de 1000 na Análise; ***, *** e *** LU"


def test_redact_decodes_escapes_and_keeps_the_platforms_accents():
    assert redact('Nome \\"inv\\u00e1lido\\" em C:\\\\dados \\/ teste', []) == 'Nome "inválido" em C:\\dados / teste'
    assert redact("a\u202eb\u200bc\u2028d", []) == "abc d"  # bidi overrides and invisible characters go


# -- production: public addresses only --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:0a00:0001::1", False),
        ("64:ff9b::10.0.0.1", False),
        ("", False),
        ("nome", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert is_public_address(address) is public


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_public_only_client_refuses_an_internal_address_before_sending_a_byte(scheme):
    from panel.providers import REGISTRY, PermanentError

    with RawListener() as listener:
        for adapter in REGISTRY.values():
            with (
                adapter(
                    f"{scheme}://localhost:{listener.port}", "tok", public_only=True, timeouts=Timeouts(2, 2)
                ) as provider,
                pytest.raises(PermanentError) as refused,
            ):
                provider.list_products()
            assert "o servidor localhost resolve para um endereço interno (127.0.0.1)" in refused.value.message
            assert refused.value.__context__ is None
        # It did connect (the check is on the socket actually connected, so a DNS answer that
        # changes between a check and the call cannot slip past it) and sent nothing: no TLS
        # handshake, no request line, no token.
        assert listener.wait_for_connections(len(REGISTRY)) == [b""] * len(REGISTRY)


def test_without_public_only_the_same_call_goes_out():
    # The control for the test above: the development client does send to 127.0.0.1.
    from panel.providers import REGISTRY, RetryableError

    with RawListener() as listener:
        with (
            REGISTRY["ittv"](f"http://localhost:{listener.port}", "tok", timeouts=Timeouts(2, 2)) as provider,
            pytest.raises(RetryableError),
        ):
            provider.list_products()
        [sent] = listener.wait_for_connections(1)
        assert sent.startswith(b"GET /alpha/reseller/product HTTP/1.1")
