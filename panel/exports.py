"""CSV exports that pt-BR Excel opens right: UTF-8 with a BOM (Excel's cue for UTF-8), ``;`` as
the separator (Excel's list separator in pt-BR), numbers as "1.234,56" and times as the operators
read them. Rows are streamed as they are read, in keyset batches, so a million-row export never
sits in memory; the list views call :func:`csv_response` with the same query and role checks as
the page.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from flask import Response, stream_with_context

from panel.formats import local_datetime, number

T = TypeVar("T")

BOM = "\ufeff"
SEPARATOR = ";"
BATCH = 1000
# A cell starting with one of these is a formula to a spreadsheet ("=HYPERLINK(...)" typed as a
# client's name): such text gets a leading apostrophe, which Excel shows as plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """The file object csv.writer writes one row to; we hand the row on instead of buffering."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def cell(value: object) -> str:
    """One value as pt-BR Excel reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, Decimal):
        return number(value, 2)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return local_datetime(value, "%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The file's text, one line at a time: the BOM and the header first."""
    line = _Line()
    writer = csv.writer(line, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + line.text
    for row in rows:
        writer.writerow([cell(value) for value in row])
        yield line.text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A streamed download named ``filename`` (ASCII, without path)."""
    response = Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def in_batches(
    fetch: Callable[[int | None, int], list[T]],
    key: Callable[[T], int] = lambda item: item.id,
    size: int | None = None,
) -> Iterator[T]:
    """Every item ``fetch(after, limit)`` pages through by keyset (``after`` is the last key of the
    previous batch, None at first), one batch in memory at a time (``size``: BATCH, read when
    called)."""
    size = size or BATCH
    after: int | None = None
    while True:
        batch = fetch(after, size)
        yield from batch
        if len(batch) < size:
            return
        after = key(batch[-1])
