"""*Exportar CSV* in a real browser: a leitura user searches Clientes de TV, clicks the button
and gets the file of that search (a download, dated), which pandas reads as pt-BR Excel would."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
from playwright.sync_api import Page, expect

from tests.e2e.test_login_and_menus import log_in
from tests.factories import CPFS, ittv_plan, make_client, make_contract
from tests.provisioning import act


def test_exportar_csv_downloads_the_list_as_searched(app, page: Page, live_server, make_user):
    plan = ittv_plan(app)
    for cpf, name in ((CPFS[0], "Joana Prado"), (CPFS[1], "Carlos Lima")):
        act(app, make_contract(app, make_client(app, document=cpf, name=name, email=f"{cpf}@ex.com.br"), plan), "sync")
    reader = make_user("leitura")
    log_in(page, live_server, reader.username)
    page.goto(live_server + "/integradores/tv/clientes")
    page.get_by_label("Buscar assinante").fill("Joana")
    page.get_by_role("button", name="Buscar", exact=True).click()
    expect(page.get_by_test_id("subscriber-row")).to_have_count(1)

    with page.expect_download() as started:
        page.get_by_role("link", name="Exportar CSV").click()
    download = started.value
    assert re.fullmatch(r"assinantes-tv-ativos-[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # the BOM: Excel reads the file as UTF-8
    frame = pd.read_csv(io.StringIO(text[1:]), sep=";", dtype=str, keep_default_na=False)
    assert frame["Cliente"].tolist() == ["Joana Prado"]
    assert frame["CPF/CNPJ"].tolist() == ["529.982.247-25"]
