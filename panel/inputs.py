"""What the panel accepts from a request as a number or as text, in one place.

- **Ids** are PostgreSQL ``INTEGER`` keys (SQLite holds them too): 1 to 2³¹ − 1, written in
  ASCII digits. ``int()`` alone takes "٣" (3), "²" raises, " 1_000 " passes and a 23-digit key
  overflows the database driver (a 500): nothing outside that range and alphabet goes further.
- **URL converters**: the app's ``int`` converter is replaced (``init_app``, called by the factory
  before any blueprint is registered) by one that matches ASCII digits only and stops at
  ``MAX_ID``, so every ``<int:…>`` rule — ours and rq-dashboard's — answers 404 beyond it.
- **Text**: control characters (NUL first: PostgreSQL refuses it in any text value) never reach
  the domain; forms refuse them with a field error (panel.forms), searches drop them.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite's INTEGER holds more
# An integer as people type it on a keyboard: ASCII digits, a minus sign at most.
INTEGER = re.compile(r"-?[0-9]+")
# C0 and C1 control characters and DEL. Tab, CR and LF are among them: a single-line field
# never receives them from a browser (multi-line text allows them, see ``MULTILINE_CONTROL``).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MULTILINE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAX_DIGITS = 40  # longer than any number we take; int() of a huge string is slow, then refused


def ascii_integer(value) -> int | None:
    """``value`` as an int when it is written with ASCII digits (and maybe a minus sign), else
    None: "٣", "²", "1_000", "+1", " 1", "" and None are not integers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or len(value) > _MAX_DIGITS or not INTEGER.fullmatch(value):
        return None
    return int(value)


def parse_id(value) -> int | None:
    """An id (1 … ``MAX_ID``) written in ASCII digits, or None."""
    number = ascii_integer(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def is_integer_text(value) -> bool:
    """Whether ``value`` is written as an integer at all (whatever its size): a number that is
    no id (0, -5, 10²³) can then be told from text that is not a number."""
    return isinstance(value, str) and INTEGER.fullmatch(value) is not None


def without_control_characters(text: str | None) -> str:
    """``text`` for a search box: the control characters that separate (tab, line breaks) read
    as spaces, the others (NUL, ESC, DEL…) are dropped, so "Jo\\x00ana" still finds Joana."""
    return CONTROL.sub(lambda found: " " if found.group().isspace() else "", text or "")


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` for every route: ASCII digits only ("٣" and "０" are not numbers here), from
    ``min`` (0: rq-dashboard's first instance) to ``max`` (``MAX_ID``), else the URL does not
    match (404). ``<int(max=…):…>`` may narrow it; no route can widen it past an id by accident."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int = 0, max: int = MAX_ID, signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if self.max is not None and len(value.lstrip("-").lstrip("0")) > len(str(self.max)):
            raise ValidationError()  # too many digits to be in range: no int() of a huge string
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Replace the ``int`` converter. Must run before any rule is added: a rule takes its
    converters when it is added (``test_bad_input`` checks that every rule has this one)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
