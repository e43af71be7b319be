"""The CSV format every export shares: what pt-BR Excel (and pandas, read as Excel would) sees."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from panel.exports import cell, csv_lines, csv_response, in_batches


def test_pandas_reads_the_file_as_pt_br_excel_would(app):
    rows = [
        ("Ana; Souza", Decimal("1234.56"), 3, datetime(2026, 11, 30, 3, 0, tzinfo=UTC), date(2026, 11, 1)),
        ('Bruno "B"', Decimal("-0.5"), 0, None, None),
    ]
    with app.test_request_context():
        text = "".join(csv_lines(["Nome", "Valor (R$)", "Assinantes", "Quando", "Dia"], rows))
    assert text.startswith("\ufeffNome;Valor (R$);")
    frame = pd.read_csv(io.StringIO(text.removeprefix("\ufeff")), sep=";", decimal=",", thousands=".")
    assert list(frame.columns) == ["Nome", "Valor (R$)", "Assinantes", "Quando", "Dia"]
    assert frame["Nome"].tolist() == ["Ana; Souza", 'Bruno "B"']
    assert frame["Valor (R$)"].tolist() == [1234.56, -0.5]
    assert frame["Assinantes"].tolist() == [3, 0]
    # Stored in UTC, written in São Paulo's time as the pages show it.
    assert frame["Quando"][0] == "30/11/2026 00:00:00"
    assert frame["Dia"][0] == "01/11/2026"


def test_a_formula_typed_as_text_stays_text():
    assert cell('=HYPERLINK("http://x")').startswith("'=")
    assert cell("+5511999") == "'+5511999"
    assert cell(Decimal("-3")) == "-3,00"  # numbers are not text: no apostrophe
    assert cell(True) == "Sim" and cell(None) == ""


def test_the_response_streams_with_a_download_name(app):
    with app.test_request_context():
        response = csv_response("assinantes.csv", ["A"], iter([(1,), (2,)]))
        assert response.is_streamed
        assert response.headers["Content-Disposition"] == 'attachment; filename="assinantes.csv"'
        assert response.mimetype == "text/csv"
        body = b"".join(response.iter_encoded()).decode("utf-8")
    assert body == "\ufeffA\r\n1\r\n2\r\n"


def test_batches_walk_every_item_once_with_one_batch_in_memory():
    items = list(range(1, 2502))
    calls = []

    def fetch(after, limit):
        calls.append(after)
        start = 0 if after is None else items.index(after) + 1
        return items[start : start + limit]

    assert list(in_batches(fetch, key=lambda item: item, size=1000)) == items
    assert calls == [None, 1000, 2000]
