"""Discoverability and phone width, read from the pages themselves: every list table is a
`table-cards` table (rows become cards on a phone), every row action shows its name in words
beside its icon, an empty list says the next step with a link, Usuários has the breadcrumb of
its sibling pages, and the menu says where *Fornecedores e produtos* leads."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from tests.factories import CPFS, ittv_plan, make_client, make_contract, skeelo_plan
from tests.provisioning import act

TV = "/integradores/tv/clientes"
LICENCAS = "/integradores/licencas/assinantes"
OPERACOES = "/integradores/operacoes"
CONTRACT_PAGE = "/financeiro/painel-do-cliente/contratos/{}"
PLANS = "/configuracoes/planos"
USERS = "/configuracoes/usuarios"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)  # Elements and strings

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return " ".join("".join(c if isinstance(c, str) else f" {c.text()} " for c in self.children).split())

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if (
                    (tag is None or child.tag == tag)
                    and (cls is None or cls in child.classes)
                    and all(child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
                ):
                    found.append(child)
                found.extend(child.find_all(tag, cls, **attrs))
        return found


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    return builder.root


def page(client, url: str) -> Element:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return parse(response.get_data(as_text=True))


def a_day(app) -> dict[str, int]:
    """Contracts in every Integradores list, with their requests waiting (no worker runs)."""
    tv, books = ittv_plan(app), skeelo_plan(app)
    contracts = {}
    for index, (name, plan, then) in enumerate(
        [("ativo", tv, ()), ("bloqueado", tv, ("block",)), ("suspenso", tv, ("suspend",)), ("livros", books, ())]
    ):
        contract_id = make_contract(app, make_client(app, document=CPFS[index], name=f"Cliente {name}"), plan)
        for action in ("sync", *then):
            act(app, contract_id, action)
        contracts[name] = contract_id
    return contracts


def list_pages(contracts: dict[str, int]) -> list[str]:
    return [
        TV,
        TV + "?aba=bloqueados",
        TV + "?aba=cancelados",
        LICENCAS,
        OPERACOES,
        CONTRACT_PAGE.format(contracts["bloqueado"]),
        PLANS,
        "/configuracoes/plataformas",
        "/configuracoes/reguas",
        USERS,
        "/configuracoes/auditoria",
        "/financeiro/painel-do-cliente/",
        "/financeiro/painel-do-cliente/titulos",
        "/integradores/conciliacao",
        "/",
    ]


def test_every_list_table_becomes_cards_on_a_phone(app, login_as, client):
    contracts = a_day(app)
    login_as("admin")
    for url in list_pages(contracts):
        tables = page(client, url).find_all("table")
        assert tables, url
        for table in tables:
            assert "table-cards" in table.classes, (url, table.attrs)
    history = page(client, CONTRACT_PAGE.format(contracts["bloqueado"])).find_all("table", "history-table")
    assert len(history) == 1 and "table-cards" in history[0].classes


def test_every_row_action_shows_its_name_beside_its_icon(app, login_as, client):
    contracts = a_day(app)
    login_as("admin")
    seen = 0
    for url in list_pages(contracts):
        for cell in page(client, url).find_all("td", "row-actions"):
            for control in cell.find_all("button") + cell.find_all("a"):
                seen += 1
                shown = control.text()
                assert shown, (url, control.attrs)
                # The full name (the accessible name and tooltip) starts with the word shown.
                name = control.attrs.get("aria-label")
                assert name is None or name.startswith(shown), (url, name, shown)
    assert seen > 10

    tv = page(client, TV)
    row = tv.find_all("tr", data_contract=str(contracts["ativo"]))[0]
    assert [button.text() for button in row.find_all("button")] == ["Bloqueio parcial", "Bloqueio total"]
    assert row.find_all("button")[0].attrs["aria-label"] == "Bloqueio parcial dos pontos deste contrato"
    books = page(client, LICENCAS).find_all("tr", data_contract=str(contracts["livros"]))[0]
    assert [button.text() for button in books.find_all("button")] == ["Bloquear"]
    blocked = page(client, TV + "?aba=bloqueados").find_all("tr", data_contract=str(contracts["bloqueado"]))[0]
    assert "Desbloqueio" in [button.text() for button in blocked.find_all("button")]
    plans = page(client, PLANS).find_all("td", "row-actions")[0]
    assert [control.text() for control in plans.find_all("a") + plans.find_all("button")] == [
        "Editar",
        "Desativar",
        "Remover",
    ]


def empty_next(root: Element) -> tuple[str, str]:
    """The empty list's next-step link: its words, which no other link or button of the page
    repeats (a second control with the same name would only confuse a screen reader)."""
    (cell,) = root.find_all("td", data_testid="empty-state")
    (link,) = cell.find_all("a", data_testid="empty-next")
    others = [c.text().lower() for c in root.find_all("a") + root.find_all("button") if c is not link]
    assert not [name for name in others if name and (name in link.text().lower() or link.text().lower() in name)]
    return link.text(), link.attrs["href"]


def test_an_empty_list_says_the_next_step_with_a_link(app, login_as, client):
    login_as("admin")
    assert empty_next(page(client, PLANS)) == ("Cadastrar o primeiro plano", "/configuracoes/planos/novo")
    assert empty_next(page(client, "/configuracoes/reguas")) == (
        "Cadastrar a primeira régua",
        "/configuracoes/reguas/nova",
    )
    assert empty_next(page(client, "/configuracoes/plataformas"))[1] == "/configuracoes/plataformas/nova"
    assert empty_next(page(client, "/configuracoes/plataformas?tipo=skeelo"))[1] == (
        "/configuracoes/plataformas/nova?tipo=skeelo"
    )
    assert empty_next(page(client, OPERACOES)) == ("Ver os assinantes", "/integradores/")
    assert empty_next(page(client, OPERACOES + "?situacao=falhas")) == ("Mostrar sem filtros", OPERACOES)
    assert empty_next(page(client, "/configuracoes/auditoria?acao=login&de=2000-01-01&ate=2000-01-02"))[0] == (
        "Mostrar sem filtros"
    )

    ittv_plan(app)
    assert empty_next(page(client, TV)) == ("Escolher um contrato para sincronizar", "/financeiro/painel-do-cliente/")
    label, href = empty_next(page(client, TV + "?aba=bloqueados"))
    assert label == "Ver quem está ativo" and href.startswith(TV) and "aba=ativos" in href
    label, href = empty_next(page(client, TV + "?aba=cancelados&q=ninguem"))
    assert label == "Mostrar sem a busca" and "q=" not in href and "aba=cancelados" in href

    client_id = make_client(app, document=CPFS[0], name="Cliente Novo")
    assert empty_next(page(client, f"/financeiro/painel-do-cliente/clientes/{client_id}")) == (
        "Criar o primeiro contrato",
        f"/financeiro/painel-do-cliente/clientes/{client_id}/contratos/novo",
    )


def test_leitura_sees_the_empty_state_without_a_link_to_what_it_cannot_do(app, login_as, client):
    login_as("leitura")
    (cell,) = page(client, PLANS).find_all("td", data_testid="empty-state")
    assert cell.text() == "Nenhum plano cadastrado." and not cell.find_all("a")


def test_usuarios_has_the_breadcrumb_of_its_sibling_pages(app, login_as, client):
    login_as("admin")
    (crumbs,) = page(client, USERS).find_all("nav", aria_label="breadcrumb")
    items = crumbs.find_all("li")
    assert [item.text() for item in items] == ["Configurações", "Usuários"]
    assert items[0].find_all("a")[0].attrs["href"] == "/configuracoes/"
    assert items[1].attrs.get("aria-current") == "page"


def test_the_menu_says_fornecedores_e_produtos_lives_in_configuracoes(app, login_as, client):
    login_as("operador")
    (menu,) = page(client, "/").find_all("nav", aria_label="Menu principal")
    (link,) = [a for a in menu.find_all("a") if a.text().startswith("Fornecedores e produtos")]
    assert link.text() == "Fornecedores e produtos → Configurações"
    assert link.attrs["href"].startswith("/configuracoes/plataformas")
