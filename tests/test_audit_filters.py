"""Configurações → Auditoria: filtered by who, what and the days (in São Paulo), paged by keyset
with the filters kept, a clear message for a value that is no filter, and its CSV export."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html import unescape

import pandas as pd
import pytest

from panel import formats
from panel.domain import Actor
from panel.domain.audit import record
from panel.extensions import db
from panel.models import User
from panel.templating import audit_value

URL = "/configuracoes/auditoria"


def add_event(app, action: str, summary: str, *, user_id: int | None = None, at: datetime | None = None, **kwargs):
    with app.app_context():
        actor = Actor.for_user(db.session.get(User, user_id), "10.0.0.1") if user_id else Actor.system("Régua")
        event = record(actor, action, summary, **kwargs)
        if at is not None:
            event.created_at = at
        db.session.commit()
        return event.id


def summaries(client, query: str = "") -> list[str]:
    """The page's Ação column, top to bottom."""
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return [unescape(text) for text in re.findall(r'<td class="text-wrap">(Teste [^<]*)</td>', body)]


@pytest.fixture
def events(app, make_user):
    ana = make_user("operador", name="Ana Operadora")
    events = {
        "login": add_event(
            app, "auth.login", "Teste entrou", user_id=ana.id, at=datetime(2026, 11, 28, 12, tzinfo=UTC)
        ),
        # 23:30 of the 29th in São Paulo (UTC−3), though the 30th in UTC
        "late": add_event(
            app, "client.updated", "Teste cliente", user_id=ana.id, at=datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
        ),
        "regua": add_event(app, "regua.run", "Teste régua", at=datetime(2026, 11, 30, 3, 30, tzinfo=UTC)),
        "contract": add_event(
            app, "contract.block", "Teste bloqueio", user_id=ana.id, at=datetime(2026, 12, 1, 15, tzinfo=UTC)
        ),
    }
    return ana, events


def test_filters_by_who_what_and_days_in_sao_paulo(login_as, client, events):
    ana, _ = events
    login_as("admin")
    assert summaries(client) == ["Teste bloqueio", "Teste régua", "Teste cliente", "Teste entrou"]
    assert summaries(client, f"quem={ana.id}") == ["Teste bloqueio", "Teste cliente", "Teste entrou"]
    assert summaries(client, "quem=sistema") == ["Teste régua"]
    assert summaries(client, "acao=contract") == ["Teste bloqueio"]
    assert summaries(client, "acao=auth") == ["Teste entrou"]
    # Days are the operators' days: 23:30 of the 29th in São Paulo belongs to the 29th.
    assert summaries(client, "de=2026-11-29&ate=2026-11-29") == ["Teste cliente"]
    assert summaries(client, "de=30/11/2026&ate=30/11/2026") == ["Teste régua"]
    assert summaries(client, "de=2026-11-30") == ["Teste bloqueio", "Teste régua"]
    assert summaries(client, "ate=2026-11-28") == ["Teste entrou"]
    assert summaries(client, f"quem={ana.id}&acao=client&de=2026-11-29") == ["Teste cliente"]
    page = client.get(f"{URL}?quem={ana.id}&acao=client").get_data(as_text=True)
    assert f'<option value="{ana.id}" selected>Ana Operadora' in page
    assert "Nenhuma ação encontrada neste filtro." in client.get(f"{URL}?acao=plan").get_data(as_text=True)


@pytest.mark.parametrize(
    "query,message,listed",
    [
        ("quem=999999", "Escolha um usuário da lista.", 4),
        ("quem=abc", "Escolha um usuário da lista.", 4),
        ("acao=nada", "Escolha um tipo de ação da lista.", 4),
        ("de=31/02/2026", "Data inválida: use dd/mm/aaaa.", 4),
        ("ate=2026-13-01&acao=auth", "Data inválida: use dd/mm/aaaa.", 1),
        ("de=2026-12-01&ate=2026-11-01", "A data final é anterior à inicial.", 1),
    ],
)
def test_a_value_that_is_no_filter_is_explained_and_left_out(login_as, client, events, query, message, listed):
    login_as("admin")
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert message in body and 'aria-invalid="true"' in body
    assert len(summaries(client, query)) == listed  # the rest of the filter still applies


def test_pages_by_keyset_and_keeps_the_filters(app, login_as, client, events):
    login_as("admin")
    with app.app_context():
        for number in range(55):
            record(Actor.system("Régua"), "plan.updated", f"Teste plano {number:02d}")
            record(Actor.system("Régua"), "product.updated", f"Teste produto {number:02d}")
        db.session.commit()
    first = client.get(f"{URL}?acao=plan").get_data(as_text=True)
    assert "Teste plano 54" in first and "Teste plano 05" in first and "Teste produto" not in first
    assert "Teste plano 04" not in first
    next_url = unescape(re.search(r'href="(/configuracoes/auditoria\?[^"]*antes=[0-9]+[^"]*)"', first).group(1))
    assert "acao=plan" in next_url
    second = client.get(next_url).get_data(as_text=True)
    assert "Teste plano 04" in second and "Teste plano 00" in second
    assert "Teste plano 05" not in second and "Teste produto" not in second and "Teste bloqueio" not in second
    assert 'href="/configuracoes/auditoria?acao=plan"' in second  # back to the newest, filter kept


def test_the_export_has_the_filtered_events(app, login_as, client, events):
    ana, ids = events
    changed = add_event(
        app,
        "client.updated",
        "Teste =SOMA(A1)",
        user_id=ana.id,
        changes={"name": ["Ana", "Ana Souza"], "active": [True, False]},
    )
    login_as("admin")
    page = client.get(f"{URL}?quem={ana.id}").get_data(as_text=True)
    assert f'href="/configuracoes/auditoria.csv?quem={ana.id}"' in page
    response = client.get(f"{URL}.csv?quem={ana.id}&acao=client")
    assert response.status_code == 200 and response.is_streamed
    assert re.fullmatch(
        r'attachment; filename="auditoria-[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv"', response.headers["Content-Disposition"]
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    frame = pd.read_csv(io.StringIO(text[1:]), sep=";", dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "Nº",
        "Quando",
        "Quem",
        "Código do usuário",
        "Endereço IP",
        "Ação",
        "Código da ação",
        "Alterações",
    ]
    assert frame["Nº"].tolist() == [str(changed), str(ids["late"])]
    newest = frame.iloc[0]
    assert newest["Quem"] == "Ana Operadora" and newest["Código do usuário"] == str(ana.id)
    assert newest["Endereço IP"] == "10.0.0.1" and newest["Código da ação"] == "client.updated"
    assert newest["Ação"] == "Teste =SOMA(A1)"
    assert newest["Alterações"] == "Nome: Ana → Ana Souza; Situação: Ativo → Inativo"
    assert frame.iloc[1]["Quando"] == "29/11/2026 23:30:00"  # São Paulo's time, as the page


@pytest.mark.parametrize("role", ["leitura", "operador"])
def test_only_admins_read_or_export_the_audit(login_as, client, role):
    login_as(role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}.csv").status_code == 403


def test_audit_values_read_as_the_pages_show_them():
    assert audit_value("52998224725", "document") == "529.982.247-25"
    assert audit_value("11987654321", "phone") == formats.phone("11987654321") != "11987654321"
    assert audit_value("Maria", "name") == "Maria"
