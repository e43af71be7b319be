"""Numbers and times as Brazilian operators read and type them: "R$ 1.234,56", "33,33%",
"30/11/2026 14:05" (in DISPLAY_TIMEZONE; stored in UTC).

Parsing and formatting numbers go through Babel's pt_BR locale data; values are always Decimal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask import current_app

LOCALE = "pt_BR"
# "39.90" is not pt-BR, but people type it: a lone dot followed by one or two digits is taken as
# the decimal separator ("1.234" stays one thousand two hundred and thirty-four).
_DOT_DECIMAL = re.compile(r"^\d+\.\d{1,2}$")


class NumberInputError(ValueError):
    """Text that is not a number in pt-BR; ``message`` is for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_number(text: str | None, *, suffix: str = "") -> Decimal | None:
    """The Decimal an operator typed ("1.234,56", "39,90", "R$ 39,90", "33,5%"), or None when
    the field is empty. Raises NumberInputError for anything else."""
    cleaned = (text or "").strip()
    if cleaned.upper().startswith("R$"):
        cleaned = cleaned[2:].strip()
    if suffix and cleaned.endswith(suffix):
        cleaned = cleaned[: -len(suffix)].strip()
    if not cleaned:
        return None
    if "e" in cleaned.lower() or len(cleaned) > 32:
        raise NumberInputError("Número inválido: use algarismos e vírgula para os decimais (ex.: 39,90).")
    if _DOT_DECIMAL.match(cleaned):
        return Decimal(cleaned)
    try:
        value = parse_decimal(cleaned, locale=LOCALE, strict=True)
    except (NumberFormatError, InvalidOperation):
        raise NumberInputError("Número inválido: use algarismos e vírgula para os decimais (ex.: 39,90).") from None
    if not value.is_finite():
        raise NumberInputError("Número inválido.")
    return value


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Decimal | None, places: int = 2, *, max_places: int | None = None) -> str:
    """'1.234,50' (``places`` decimals, or up to ``max_places`` when given)."""
    if value is None:
        return ""
    pattern = (
        "#,##0." + "0" * places + "#" * max(0, (max_places or places) - places) if (max_places or places) else "#,##0"
    )
    return format_decimal(value, format=pattern, locale=LOCALE, decimal_quantization=True)


def count(value: int | None) -> str:
    """A whole number as operators read it: '1.234.567'."""
    return number(Decimal(value or 0), 0)


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Babel/gettext's ngettext for pt-BR text written in the source: the singular form for 1,
    the plural otherwise ("0 contratos", "1 contrato", "1.234 contratos"). ``%(num)s`` is n as
    operators read it; other ``%(name)s`` come from ``variables``. No "(s)" in what we show."""
    text = singular if abs(n) == 1 else plural
    return text % {"num": count(n), **variables}


# A text that already ends a sentence (or a quote/bracket closing one) needs no full stop.
_SENTENCE_END = (".", "!", "?", "…", ".)", '."', ".»")


def sentence(text: str | None) -> str:
    """``text`` as a sentence, to be followed by another: a full stop added when it has none
    ("Token inválido" → "Token inválido."); "" stays "" and an ending stop is kept."""
    text = (text or "").strip()
    if not text or text.endswith(_SENTENCE_END):
        return text
    return text.rstrip(":;,") + "."


def sentences(*parts: str | None) -> str:
    """Messages joined into one text, each ending its sentence ("Token inválido. Confira…")."""
    return " ".join(sentence(part) for part in parts if part and part.strip())


def money(value: Decimal | None) -> str:
    """'R$ 1.234,50' (a plain space after R$, so pages and searches read it the same way)."""
    if value is None:
        return "—"
    return "R$ " + number(value, 2)


def percent(value: Decimal | None) -> str:
    """'33,3333%' with the decimals it has (up to 4), '40%' for a whole number."""
    if value is None:
        return "—"
    return number(value, 0, max_places=4) + "%"


# -- Brazilian documents and contact data, stored as digits and shown masked -----------------


def digits(text: str | None) -> str:
    return "".join(char for char in (text or "") if char in "0123456789")  # not "²" or "٣"


def document(value: str | None) -> str:
    """'529.982.247-25' (CPF) or '11.222.333/0001-81' (CNPJ); other text as it is."""
    value = value or ""
    if len(value) == 11 and value.isdigit():
        return f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}"
    if len(value) == 14 and value.isdigit():
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
    return value


def phone(value: str | None) -> str:
    """'(11) 98765-4321' or '(11) 3456-7890'."""
    value = value or ""
    if len(value) in (10, 11) and value.isdigit():
        return f"({value[:2]}) {value[2:-4]}-{value[-4:]}"
    return value


def zipcode(value: str | None) -> str:
    """'01310-100'."""
    value = value or ""
    return f"{value[:5]}-{value[5:]}" if len(value) == 8 and value.isdigit() else value


def local_datetime(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC datetime as the operators read it (DISPLAY_TIMEZONE, America/Sao_Paulo by default)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)
