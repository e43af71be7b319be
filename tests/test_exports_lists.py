"""*Exportar CSV* on the lists: each file holds what its page lists (the same filters and search),
in the page's words, written as pt-BR Excel reads it, streamed, and only for who may read the
page. Every file is parsed with pandas, as a spreadsheet user's script would."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

import panel.exports
from panel.domain.common import local_today
from panel.extensions import db
from panel.models import Contract, Invoice, Operation, Subscription
from tests.factories import CNPJS, CPFS, SYSTEM, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act

INTEGRADORES = "/integradores"
PAINEL = "/financeiro/painel-do-cliente"
FORMULA = '=HYPERLINK("http://x.example";"Clique")'

EXPORTS = {
    f"{INTEGRADORES}/tv/clientes.csv": {"leitura", "operador", "admin"},
    f"{INTEGRADORES}/licencas/assinantes.csv": {"leitura", "operador", "admin"},
    f"{INTEGRADORES}/operacoes.csv": {"leitura", "operador", "admin"},
    f"{PAINEL}/clientes.csv": {"leitura", "operador", "admin"},
    f"{PAINEL}/titulos.csv": {"leitura", "operador", "admin"},
    "/configuracoes/auditoria.csv": {"admin"},
}


def download(client, url: str) -> pd.DataFrame:
    """The file at ``url``, checked as a streamed pt-BR CSV download, read as text cells."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    assert re.search(r'-[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv"$', response.headers["Content-Disposition"])  # dated
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return pd.read_csv(
        io.StringIO(text.removeprefix("\ufeff")), sep=";", dtype=str, keep_default_na=False, decimal=",", thousands="."
    )


def numbers(client, url: str) -> pd.DataFrame:
    """The same file read with pt-BR numbers (1.234,56) as numbers."""
    text = client.get(url).get_data(as_text=True).removeprefix("\ufeff")
    return pd.read_csv(io.StringIO(text), sep=";", decimal=",", thousands=".")


@pytest.fixture
def subscribers(app):
    """Three TV subscribers (one with a formula-like name, one blocked) and a licence one."""
    tv = ittv_plan(app)
    ids = {
        "ana": make_contract(app, make_client(app, document=CPFS[0], name="Ana Prado", email="ana@ex.com.br"), tv),
        "formula": make_contract(app, make_client(app, document=CPFS[1], name=FORMULA, email="f@ex.com.br"), tv),
        "bia": make_contract(app, make_client(app, document=CNPJS[0], name="Bia Ltda", email="bia@ex.com.br"), tv),
        "livro": make_contract(
            app, make_client(app, document=CPFS[2], name="Leo Livros", email="leo@ex.com.br"), skeelo_plan(app)
        ),
    }
    for contract_id in ids.values():
        act(app, contract_id, "sync")
    act(app, ids["bia"], "block")
    return ids


def test_subscribers_export_lists_the_tab_as_the_page_does(app, login_as, client, subscribers):
    login_as("leitura")
    page = client.get(f"{INTEGRADORES}/tv/clientes?aba=ativos").get_data(as_text=True)
    assert f'href="{INTEGRADORES}/tv/clientes.csv?aba=ativos"' in page  # the button carries the page's filters
    frame = download(client, f"{INTEGRADORES}/tv/clientes.csv?aba=ativos")
    assert list(frame.columns) == [
        "Contrato",
        "Código do cliente",
        "Cliente",
        "CPF/CNPJ",
        "E-mail",
        "Plano",
        "Plataforma",
        "Acesso pedido",
        "Situação do contrato",
        "Acesso na plataforma",
        "Pendente",
        "Último pedido",
        "Situação do último pedido",
        "Último pedido em",
    ]
    # Newest first, as the page; the blocked one is on its own tab; the licence is elsewhere.
    assert frame["Contrato"].tolist() == [str(subscribers["formula"]), str(subscribers["ana"])]
    for contract_id in frame["Contrato"]:
        assert f'data-contract="{contract_id}"' in page
    ana = frame.iloc[1]
    with app.app_context():
        contract = db.session.get(Contract, subscribers["ana"])
        assert ana["Código do cliente"] == str(contract.client_id)
        assert ana["Plano"] == contract.plan_name and ana["Plataforma"] == contract.platform.name
    assert ana["Cliente"] == "Ana Prado" and ana["E-mail"] == "ana@ex.com.br"
    assert ana["CPF/CNPJ"] == "529.982.247-25"  # as the page shows it
    assert "529.982.247-25" in page
    assert ana["Acesso pedido"] == "Ativo" and ana["Situação do contrato"] == "Ativo"
    assert ana["Acesso na plataforma"] == "Aguardando confirmação" and ana["Pendente"] == "Sim"
    assert ana["Último pedido"] == "Ativação" and ana["Situação do último pedido"] == "Na fila"
    # A name a spreadsheet would run as a formula stays text.
    assert frame.iloc[0]["Cliente"] == "'" + FORMULA

    blocked = download(client, f"{INTEGRADORES}/tv/clientes.csv?aba=bloqueados")
    assert blocked["Contrato"].tolist() == [str(subscribers["bia"])]
    assert blocked.iloc[0]["CPF/CNPJ"] == "11.222.333/0001-81"
    assert blocked.iloc[0]["Acesso pedido"] == "Bloqueio total"
    assert blocked.iloc[0]["Último pedido"] == "Bloqueio total"
    assert download(client, f"{INTEGRADORES}/tv/clientes.csv?aba=cancelados").empty  # the header alone

    licences = download(client, f"{INTEGRADORES}/licencas/assinantes.csv")
    assert licences["Contrato"].tolist() == [str(subscribers["livro"])]


def test_subscribers_export_honours_the_search_and_the_platform(app, login_as, client, subscribers):
    login_as("operador")
    found = download(client, f"{INTEGRADORES}/tv/clientes.csv?aba=ativos&q=ana%20prado")
    assert found["Cliente"].tolist() == ["Ana Prado"]
    by_document = download(client, f"{INTEGRADORES}/tv/clientes.csv?aba=bloqueados&q=11.222.333")
    assert by_document["Cliente"].tolist() == ["Bia Ltda"]
    with app.app_context():
        skeelo = db.session.get(Contract, subscribers["livro"]).platform_id
    # A platform of the other area is no filter of this one (the page ignores it too).
    assert len(download(client, f"{INTEGRADORES}/tv/clientes.csv?plataforma={skeelo}")) == 2
    page = client.get(f"{INTEGRADORES}/tv/clientes?aba=ativos&q=ana").get_data(as_text=True)
    assert f"{INTEGRADORES}/tv/clientes.csv?aba=ativos&amp;q=ana" in page


def test_exports_walk_every_row_in_keyset_batches(app, login_as, client, subscribers, monkeypatch):
    """Batches of two: every subscriber once, in the page's order, whatever the batch boundary."""
    monkeypatch.setattr(panel.exports, "BATCH", 2)
    plan = ittv_plan(app, "Outro plano")
    more = [
        make_contract(app, make_client(app, document=cpf, name=f"Extra {cpf}", email=f"x{cpf}@ex.com.br"), plan)
        for cpf in CPFS[3:]
    ]
    for contract_id in more:
        act(app, contract_id, "sync")
    login_as("leitura")
    frame = download(client, f"{INTEGRADORES}/tv/clientes.csv")
    expected = sorted([subscribers["ana"], subscribers["formula"], *more], reverse=True)
    assert frame["Contrato"].tolist() == [str(number) for number in expected]
    operations = download(client, f"{INTEGRADORES}/operacoes.csv")
    with app.app_context():
        assert operations["Nº"].tolist() == [
            str(number) for number in db.session.scalars(db.select(Operation.id).order_by(Operation.id.desc()))
        ]


def test_operations_export_follows_the_filters(app, login_as, client, subscribers):
    login_as("leitura")
    with app.app_context():
        failed = db.session.scalar(
            db.select(Operation).join(Subscription).where(Subscription.contract_id == subscribers["ana"])
        )
        failed.status, failed.attempts, failed.last_error = "failed", 3, "ITTV respondeu 500"
        db.session.commit()
        failed_id = failed.id
        platform = db.session.get(Contract, subscribers["ana"]).platform
        platform_id, platform_name = platform.id, platform.name
    page = client.get(f"{INTEGRADORES}/operacoes?situacao=falhas").get_data(as_text=True)
    assert f"{INTEGRADORES}/operacoes.csv?situacao=falhas" in page
    frame = download(client, f"{INTEGRADORES}/operacoes.csv?situacao=falhas")
    assert list(frame.columns) == [
        "Nº",
        "Pedido em",
        "Contrato",
        "Código do cliente",
        "Cliente",
        "CPF/CNPJ",
        "Pedido",
        "Plataforma",
        "Pedido por",
        "Tentativas",
        "Situação",
        "Resultado ou erro",
        "Concluída em",
    ]
    [row] = frame.to_dict("records")
    assert row["Nº"] == str(failed_id) and row["Contrato"] == str(subscribers["ana"])
    assert row["Cliente"] == "Ana Prado" and row["CPF/CNPJ"] == "529.982.247-25"
    assert row["Pedido"] == "Ativação" and row["Plataforma"] == platform_name
    assert row["Tentativas"] == "3" and row["Situação"] == "Falhou"
    assert row["Resultado ou erro"] == "ITTV respondeu 500"
    assert row["Pedido por"] == "Testes"
    assert len(row["Pedido em"]) == len("30/11/2026 14:05:00")

    blocks = download(client, f"{INTEGRADORES}/operacoes.csv?tipo=set_status")
    assert blocks["Contrato"].tolist() == [str(subscribers["bia"])]
    one_contract = download(client, f"{INTEGRADORES}/operacoes.csv?contrato={subscribers['bia']}")
    assert one_contract["Pedido"].tolist() == ["Bloqueio total", "Ativação"]
    at_tv = download(client, f"{INTEGRADORES}/operacoes.csv?plataforma={platform_id}")
    assert str(subscribers["livro"]) not in at_tv["Contrato"].tolist() and len(at_tv) == 4


def test_clients_export_is_the_landing_list_or_the_search(app, login_as, client):
    active = make_client(app, document=CPFS[0], name="Carla Dias", email="carla@ex.com.br", phone="11987654321")
    inactive = make_client(app, document=CPFS[1], name="Carla Velha", email="velha@ex.com.br", active=False)
    formula = make_client(app, document=CNPJS[1], name="+Empresa Fórmula", email="")
    login_as("leitura")
    page = client.get(f"{PAINEL}/").get_data(as_text=True)
    assert f'href="{PAINEL}/clientes.csv"' in page
    frame = download(client, f"{PAINEL}/clientes.csv")
    assert list(frame.columns) == [
        "Código",
        "Tipo",
        "Nome / Razão social",
        "CPF / CNPJ",
        "E-mail",
        "Telefone",
        "Cidade",
        "UF",
        "Cadastrado em",
        "Situação",
    ]
    assert frame["Código"].tolist() == [str(formula), str(active)]  # active registers, newest first
    carla = frame.iloc[1]
    assert carla["Nome / Razão social"] == "Carla Dias" and carla["CPF / CNPJ"] == "529.982.247-25"
    assert carla["Telefone"] == "(11) 98765-4321" and carla["Situação"] == "Ativo"
    assert carla["Tipo"] == "Pessoa física"
    assert frame.iloc[0]["Nome / Razão social"] == "'+Empresa Fórmula"
    assert frame.iloc[0]["CPF / CNPJ"] == "11.444.777/0001-61"

    searched = download(client, f"{PAINEL}/clientes.csv?q=carla")
    assert searched["Código"].tolist() == [str(inactive), str(active)]  # a search finds inactive ones too
    assert searched.iloc[0]["Situação"] == "Inativo"
    assert f"{PAINEL}/clientes.csv?q=carla" in client.get(f"{PAINEL}/?q=carla").get_data(as_text=True)


def test_titles_export_has_the_tab_the_filters_and_numbers(app, login_as, client):
    from panel.domain import invoices as invoices_domain

    tv, books = ittv_plan(app), skeelo_plan(app)
    first = make_contract(app, make_client(app, document=CPFS[0], name="Ana Prado"), tv, start_date=date(2020, 1, 1))
    second = make_contract(app, make_client(app, document=CPFS[1], name="Bia"), books, start_date=date(2020, 1, 1))
    with app.app_context():
        for contract_id in (first, second):
            contract = db.session.get(Contract, contract_id)
            for month in (date(2020, 3, 1), date(2020, 4, 1)):
                invoices_domain.generate_for_contract(SYSTEM, contract, month)
        paid = db.session.scalar(
            db.select(Invoice).where(Invoice.contract_id == first, Invoice.reference_month == date(2020, 3, 1))
        )
        invoices_domain.pay(SYSTEM, paid, paid_on=date(2020, 3, 12), paid_amount=Decimal("39.90"))
        db.session.commit()
        tv_platform = db.session.get(Contract, first).platform_id
    login_as("leitura")
    overdue = download(client, f"{PAINEL}/titulos.csv?aba=vencidos")
    assert list(overdue.columns) == [
        "Título",
        "Contrato",
        "Código do cliente",
        "Cliente",
        "CPF/CNPJ",
        "Plano",
        "Plataforma",
        "Mês",
        "Vencimento",
        "Valor (R$)",
        "Dias em atraso",
        "Pago em",
        "Valor pago (R$)",
    ]
    # The most overdue first, as the page.
    assert overdue["Mês"].tolist() == ["03/2020", "04/2020", "04/2020"]
    assert overdue["Vencimento"].tolist() == ["10/03/2020", "10/04/2020", "10/04/2020"]
    assert overdue.iloc[0]["CPF/CNPJ"] == "111.444.777-35"
    as_numbers = numbers(client, f"{PAINEL}/titulos.csv?aba=vencidos")
    assert as_numbers["Valor (R$)"].tolist() == [39.9, 39.9, 39.9]  # money as numbers
    assert as_numbers["Dias em atraso"].iloc[0] == (local_today() - date(2020, 3, 10)).days  # the provider's day

    filtered = download(client, f"{PAINEL}/titulos.csv?aba=vencidos&plataforma={tv_platform}&de=2020-04-01")
    assert filtered["Contrato"].tolist() == [str(first)] and filtered["Mês"].tolist() == ["04/2020"]
    page = client.get(f"{PAINEL}/titulos?aba=vencidos&plataforma={tv_platform}").get_data(as_text=True)
    assert f"{PAINEL}/titulos.csv?aba=vencidos&amp;plataforma={tv_platform}" in page
    # A date the page refuses is left out of the file too (the page says why).
    assert len(download(client, f"{PAINEL}/titulos.csv?aba=vencidos&de=31/02/2020")) == 3

    paid_rows = numbers(client, f"{PAINEL}/titulos.csv?aba=pagos")
    assert paid_rows["Pago em"].tolist() == ["12/03/2020"]
    assert paid_rows["Valor pago (R$)"].tolist() == [39.9]
    assert ";39,90;" in client.get(f"{PAINEL}/titulos.csv?aba=pagos").get_data(as_text=True)


@pytest.mark.parametrize("url", sorted(EXPORTS))
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["leitura", "operador", "admin"])
def test_who_may_read_a_page_may_export_it(login_as, client, role):
    login_as(role)
    for url, allowed in EXPORTS.items():
        response = client.get(url)
        assert response.status_code == (200 if role in allowed else 403), f"{role} {url}"
        response.close()


def test_bad_filter_values_never_fail_an_export(login_as, client, subscribers):
    login_as("admin")
    hostile = "q=a%00b&aba=x&plataforma=99999999999999999999&situacao=%25&tipo=x&contrato=-1&de=99/99/9999&quem=x"
    for url in EXPORTS:
        response = client.get(f"{url}?{hostile}")
        assert response.status_code == 200, url
        response.get_data()


def test_the_export_reads_the_rows_the_page_reads(app, subscribers):
    """subscribers.listed_rows (plain columns, for the export) lists what subscribers.page lists."""
    from panel.domain import subscribers as subscribers_domain
    from panel.models import ListTab

    with app.app_context():
        for plan_type in ("tv_ott", "sva"):
            platform_ids = [platform.id for platform in subscribers_domain.area_platforms(plan_type)]
            for tab in ListTab:
                for text in ("", "ana", "11.222"):
                    page = subscribers_domain.page(platform_ids, tab, text=text, limit=100)
                    listed = subscribers_domain.listed_rows(platform_ids, tab, text=text, limit=100)
                    assert [row.id for row in listed] == [row.subscription.id for row in page]
                    for row, shown in zip(listed, page, strict=True):
                        assert row.contract_id == shown.contract.id and row.client_name == shown.client.name
                        assert row.op_status == (shown.operation.status if shown.operation else None)
