"""Malformed input gets a 404, a 400 or an error next to its field — never a 500.

The fuzz tests walk the app instead of listing cases: every rule of ``app.url_map`` with an
integer in its path (ids past PostgreSQL's INTEGER and SQLite's 64 bits, negative numbers, digits
of other scripts), every page's query string, and every POST form of every page as an admin sees
it (each field in turn given a NUL byte, digits of other scripts, numbers too big for any column,
a file, a very long text, and the whole form sent as JSON). A new route or form is fuzzed without
touching this file. On PostgreSQL too (the ``app`` fixture runs on both databases)."""

from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing.converters import NumberConverter

from panel.extensions import db
from panel.inputs import MAX_ID, BoundedIntegerConverter
from tests.conftest import PASSWORD, csrf_token_from
from tests.factories import SYSTEM, ittv_plan, make_client, make_contract, skeelo_plan

NOT_FOUND = "Página não encontrada"
CONTROL = "caracteres de controle"
INTEGER = "só com algarismos"
ID_CHOICE = "Escolha uma opção da lista."

# Path values an <int:…> must not take: past PostgreSQL's INTEGER, past SQLite's 64 bits,
# past both, negative, and digits of other scripts (int() reads "٣" as 3).
BAD_PATH_INTS = [str(2**31), str(2**63), str(10**23), "-1", "٣", "１", "1٣", "9" * 400]
# What each field of a POST form gets in turn (FILE: a file uploaded under the field's name).
FILE = object()
HOSTILE_FIELD_VALUES = ["Jo\x00ão", "\x1b[31m", "١٢", str(2**31), "9" * 23, "-1", "x" * 3000, FILE]
# The query string: every parameter a page reads (these) or a filter form of a page sends, with
# each of these values.
HOSTILE_QUERY_VALUES = ["a\x00b", "٣", str(2**31), "9" * 23, "-1", "%", "x" * 3000]
QUERY_PARAMETERS = {"q", "antes", "plataforma", "contrato", "tipo", "situacao", "aba", "voltar", "next"}
QUERY_PARAMETERS |= {"assinantes", "operacoes"}  # the ids of the rows a list polls (/integradores/estado)
QUERY_PARAMETERS |= {"quem", "acao", "de", "ate", "dias", "plano", "execucao"}  # Auditoria's, Títulos' filters

QUERY_PARAMETERS |= {"mes", "depois", "periodo"}  # Licenças' month and pages, Operações' period
# Answers that are not a crash: a page (with its errors), a redirect, a refusal.
# (405: rq-dashboard's requeue-by-GET, refused on purpose.)
ALLOWED = {200, 301, 302, 303, 308, 400, 404, 405, 422}


# -- the data every page needs ----------------------------------------------------------------


def seed(app) -> dict[str, int]:
    """One of everything a URL names: platforms with products, plans, a client with a synced
    contract (subscription and operation), a título, a régua, a platform task, a user."""
    from panel.domain import billing_rules, invoices, platform_checks
    from panel.domain.users import create_user
    from panel.models import (
        BillingRule,
        Contract,
        Invoice,
        Operation,
        Plan,
        PlatformTask,
        Product,
        Subscription,
        TaskKind,
        User,
    )
    from tests.provisioning import act

    tv_plan = ittv_plan(app)
    skeelo_plan(app)
    client_id = make_client(app)
    contract_id = make_contract(app, client_id, tv_plan, start_date=date.today().replace(day=1))
    act(app, contract_id, "sync")
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        invoices.generate_for_contract(SYSTEM, contract)
        billing_rules.save_rule(
            SYSTEM,
            None,
            rule_type="connection_maintenance",
            days_overdue=15,
            action="tv_block",
            platform_id=None,
            unblock_on_payment=True,
            active=True,
        )
        platform_checks.request_task(SYSTEM, contract.platform, TaskKind.test_connection)
        create_user(SYSTEM, username="outro", name="Outro", role="operador", password=PASSWORD)
        difference_id = _reconciliation_found(contract)
        first = {
            model: db.session.scalar(db.select(model.id).order_by(model.id))
            for model in (Invoice, Subscription, Operation, BillingRule, Plan, PlatformTask, Product, User)
        }
        return {
            "client_id": client_id,
            "contract_id": contract_id,
            "invoice_id": first[Invoice],
            "subscription_id": first[Subscription],
            "operation_id": first[Operation],
            "rule_id": first[BillingRule],
            "plan_id": tv_plan,
            "platform_id": contract.platform_id,
            "task_id": first[PlatformTask],
            "product_id": first[Product],
            "user_id": db.session.scalar(db.select(User.id).where(User.username == "outro")),
            "difference_id": difference_id,
            # rq-dashboard's
            "instance_number": 0,
            "per_page": 10,
            "page": 1,
        }


def _reconciliation_found(contract) -> int:
    """A finished reconciliation of the contract's platform with an unknown account and a drift
    of the contract's subscriber (its pages and forms are fuzzed too); the unknown one's id."""
    from panel.models import DifferenceKind, OutboxStatus, ReconciliationDifference, ReconciliationRun

    run = ReconciliationRun(
        platform_id=contract.platform_id,
        trigger="admin",
        status=OutboxStatus.done,
        requested_by_name="Testes",
        platform_count=2,
        counts={"unknown": 1, "blocked_there": 1},
    )
    db.session.add(run)
    db.session.flush()
    unknown = ReconciliationDifference(
        run_id=run.id, kind=DifferenceKind.unknown, external_id="abc", document=contract.client.document
    )
    drift = ReconciliationDifference(
        run_id=run.id,
        kind=DifferenceKind.blocked_there,
        subscription_id=contract.subscription.id,
        external_id="def",
        remote_status="INACTIVE",
        remote_access="blocked",
        our_status="active",
    )
    db.session.add_all([unknown, drift])
    db.session.flush()
    return unknown.id


STRING_VALUES = {
    "queue_name": "default",
    "registry_name": "queued",
    "order": "asc",
    "path": "sincronizar",
    "filename": "css/app.css",
    "job_id": "nenhum",
    "number": "cobrados",  # Licenças: the number whose subscribers are listed
}
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def fill(rule, ids: dict, **override) -> str:
    """The rule's path with each argument replaced (``override`` first, then a real id or a
    plausible string), written by hand: url_for would turn "٣" into "3"."""

    def value(match):
        name = match.group("name")
        raw = override.get(name, ids.get(name, STRING_VALUES.get(name, "x")))
        return quote(str(raw), safe="")

    return RULE_ARGUMENT.sub(value, rule.rule)


def int_arguments(rule) -> list[str]:
    return [name for name, converter in rule._converters.items() if isinstance(converter, NumberConverter)]


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def request(client, method: str, url: str, **kwargs):
    response = client.open(url, method=method, **kwargs)
    body = response.get_data().decode("utf-8", "replace")  # (rq-dashboard's favicon is no text)
    response.close()
    return response.status_code, body


# -- path converters --------------------------------------------------------------------------


def test_every_integer_in_a_url_is_a_bounded_id(app):
    """The app's ``int`` converter is replaced before any rule exists, so every integer in a
    path — ours and rq-dashboard's — matches ASCII digits only and stops at 2³¹ − 1."""
    numbers = [
        (rule.rule, name, converter)
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if isinstance(converter, NumberConverter)
    ]
    assert len(numbers) >= 29
    for path, name, converter in numbers:
        assert isinstance(converter, BoundedIntegerConverter), (path, name)
        assert converter.max is not None and converter.max <= MAX_ID, (path, name)
        assert converter.regex == "[0-9]+", (path, name)


def test_path_ids_out_of_range_or_in_other_digits_answer_the_404_page(app, client, login_as):
    ids = seed(app)
    login_as("admin")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    checked, failures = 0, []
    for rule in app.url_map.iter_rules():
        for name in int_arguments(rule):
            for bad in BAD_PATH_INTS:
                url = fill(rule, ids, **{name: bad})
                for method in methods_of(rule):
                    data = {"csrf_token": token} if method == "POST" else None
                    status, body = request(client, method, url, data=data)
                    checked += 1
                    if status != 404 or NOT_FOUND not in body:
                        failures.append(f"{method} {url} → {status}")
            # The largest id there is: no such record (404), or rq-dashboard's page of that number.
            url = fill(rule, ids, **{name: MAX_ID})
            for method in methods_of(rule):
                status, _ = request(client, method, url, data={"csrf_token": token} if method == "POST" else None)
                if status not in ALLOWED:
                    failures.append(f"{method} {url} → {status}")
    assert checked > 29 * len(BAD_PATH_INTS)
    assert failures == []


def test_a_path_id_past_the_range_is_not_found_for_anonymous_users_either(app, client):
    response = client.get(f"/configuracoes/planos/{10**23}")
    assert response.status_code == 302 and response.headers["Location"] == "/login"  # nothing remembered


# -- query strings ----------------------------------------------------------------------------


def page_urls(app, ids: dict) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in ("static", "rq_dashboard.static"):
            urls.append(fill(rule, ids))
    return urls


def filter_names(client, urls) -> set[str]:
    """The fields of every GET form (the lists' filters) of these pages."""
    names = set()
    for url in urls:
        status, html = request(client, "GET", url)
        if status == 200 and "<form" in html:
            parser = PageForms()
            parser.feed(html)
            names.update(field[0] for form in parser.parsed() if form["method"] == "GET" for field in form["fields"])
    return names


def test_hostile_query_parameters_never_fail_a_page(app, client, login_as):
    ids = seed(app)
    login_as("admin")
    urls = page_urls(app, ids)
    parameters = QUERY_PARAMETERS | filter_names(client, urls)
    assert {"q", "plataforma", "situacao", "tipo", "contrato"} <= parameters
    failures = []
    for url in urls:
        for value in HOSTILE_QUERY_VALUES:
            query = "&".join(f"{name}={quote(value, safe='')}" for name in sorted(parameters))
            status, _ = request(client, "GET", f"{url}?{query}")
            if status not in ALLOWED:
                failures.append(f"GET {url}?…{value[:12]!r} → {status}")
    assert failures == []


@pytest.mark.parametrize(
    "url",
    [
        "/financeiro/painel-do-cliente/",
        "/integradores/tv/clientes",
        "/integradores/licencas/assinantes",
        "/integradores/operacoes",
        "/financeiro/painel-do-cliente/clientes.csv",
        "/integradores/tv/clientes.csv",
        "/integradores/licencas/assinantes.csv",
        "/integradores/operacoes.csv",
    ],
)
def test_a_search_with_a_nul_byte_searches_the_rest(app, client, login_as, url):
    """The search boxes drop control characters (PostgreSQL refuses NUL in a query); a key or
    filter that is no id is ignored."""
    contract_id = make_contract(app, make_client(app, name="Joana Prado"), ittv_plan(app))
    from tests.provisioning import act

    act(app, contract_id, "sync")
    login_as("leitura")
    status, body = request(client, "GET", f"{url}?q=Joa%00na&antes=%D9%A3&plataforma={10**23}&contrato=%00")
    assert status == 200
    if url.endswith(("/painel-do-cliente/", "/tv/clientes", "/clientes.csv")):  # (ITTV: not a licence)
        assert "Joana Prado" in body


def test_the_audit_log_ignores_text_and_refuses_a_number_that_is_no_id(login_as, client):
    login_as("admin")
    assert client.get("/configuracoes/auditoria?antes=%D9%A3").status_code == 200  # "٣": not a number here
    assert client.get(f"/configuracoes/auditoria?antes={2**31}").status_code == 400


# -- forms, one class at a time ---------------------------------------------------------------


def every_form_class():
    from panel.forms import Form

    found, todo = [], [Form]
    while todo:
        cls = todo.pop()
        subclasses = cls.__subclasses__()
        todo.extend(subclasses)
        if cls is not Form and cls.__module__.startswith("panel."):
            found.append(cls)
    return found


def leaf_fields(form):
    from wtforms import FieldList, FormField

    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                yield from leaf_fields(entry.form) if isinstance(entry, FormField) else [entry]
        elif isinstance(field, FormField):
            yield from leaf_fields(field.form)
        elif field.type != "CSRFTokenField":
            yield field


def validated(app, form_class, data=None, **request_kwargs):
    """The form built from a real POST request (no CSRF: that is not what this is about)."""
    with app.test_request_context("/", method="POST", data=data, **request_kwargs):
        form = form_class(meta={"csrf": False})
        form.validate()
        return {field.name: field for field in leaf_fields(form)}


def field_names(app, form_class) -> list[str]:
    return list(validated(app, form_class, {"x": "y"}))


def test_every_form_is_built_on_the_panel_base_with_bounded_numbers(app):
    """No form field takes int() of what was typed: integers are panel.forms.IntegerField and
    selects of records are IdSelectField/IdSelectMultipleField (ASCII digits, bounded)."""
    from wtforms import IntegerField as WtfIntegerField
    from wtforms import SelectFieldBase

    from panel.forms import IdSelectField, IdSelectMultipleField, IntegerField

    classes = every_form_class()
    assert len(classes) >= 12
    for form_class in classes:
        for field in validated(app, form_class, {"x": "y"}).values():
            if isinstance(field, WtfIntegerField):
                assert isinstance(field, IntegerField), (form_class.__name__, field.name)
            if isinstance(field, SelectFieldBase) and field.coerce is not str:
                assert isinstance(field, (IdSelectField, IdSelectMultipleField)), (form_class.__name__, field.name)


def test_every_field_of_every_form_refuses_control_characters(app):
    from panel.forms import CONTROL_MESSAGE, CurrentPasswordField

    for form_class in every_form_class():
        for name in field_names(app, form_class):
            for value in ("Jo\x00ão", "a\x1bb", "a\x7fb", "linha\nquebrada", "a\x85b"):
                field = validated(app, form_class, {name: value})[name]
                if isinstance(field, CurrentPasswordField):
                    assert CONTROL_MESSAGE not in field.errors  # checked against the hash only
                    continue
                assert field.errors, (form_class.__name__, name, value)


def test_multi_line_text_keeps_its_tabs_and_line_breaks_only(app):
    from wtforms import TextAreaField

    from panel.forms import CONTROL_MESSAGE, Form

    class NoteForm(Form):
        note = TextAreaField("Observação")

    assert validated(app, NoteForm, {"note": "linha 1\r\n\tlinha 2"})["note"].errors == []
    for value in ("a\x00b", "a\x0bb", "a\x1bb"):
        assert validated(app, NoteForm, {"note": value})["note"].errors == [CONTROL_MESSAGE]


def test_every_number_field_takes_ascii_digits_that_fit_the_database_only(app):
    from panel.forms import BrDecimalField, IdSelectField, IdSelectMultipleField, IntegerField

    numeric = (IntegerField, IdSelectField, IdSelectMultipleField, BrDecimalField)
    seen = set()
    for form_class in every_form_class():
        for name, field in validated(app, form_class, {"x": "y"}).items():
            if not isinstance(field, numeric):
                continue
            seen.add(type(field).__name__)
            values = ["١٢", "٣", "１２", "²", "1_000"]
            if not isinstance(field, BrDecimalField):
                values += [str(2**31), "9" * 23, "9" * 5000, "+1", "1.0"]
            for value in values:
                field = validated(app, form_class, {name: value})[name]
                assert field.errors, (form_class.__name__, name, value, field.data)
                assert field.data in (None, []), (form_class.__name__, name, value, field.data)
            if isinstance(field, (IntegerField, IdSelectField)):
                assert validated(app, form_class, {name: "12"})[name].data == 12
    assert seen == {"IntegerField", "IdSelectField", "IdSelectMultipleField", "BrDecimalField"}


def test_forms_read_neither_files_nor_a_json_body(app):
    """Flask-WTF would merge uploaded files into a form and read a JSON body as one; a form of
    ours sees the posted text fields only."""
    for form_class in every_form_class():
        names = field_names(app, form_class)
        files = {name: (io.BytesIO(b"texto"), "arquivo.txt") for name in names}
        for field in validated(app, form_class, files, content_type="multipart/form-data").values():
            assert field.raw_data == [], (form_class.__name__, field.name)
        for field in validated(app, form_class, json={name: ["lista"] for name in names}).values():
            assert field.raw_data in ([], None), (form_class.__name__, field.name)


# -- forms, through the pages -----------------------------------------------------------------


class PageForms(HTMLParser):
    """Every form of a page: its method, action and named fields (name, value, kind), where a
    field may sit outside its form and name it (``form="id"``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.outside: list[tuple[str, tuple]] = []
        self.current: dict | None = None
        self.select: list | None = None
        self.textarea: list | None = None

    def _add(self, attrs, field):
        owner = attrs.get("form")
        if owner:
            self.outside.append((owner, field))
        elif self.current is not None:
            self.current["fields"].append(field)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.current = {
                "method": (attrs.get("method") or "get").upper(),
                "action": attrs.get("action") or "",
                "fields": [],
            }
            self.forms.append(self.current)
            if attrs.get("id"):
                self.by_id[attrs["id"]] = self.current
        elif tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "reset"):
                return
            sent = kind not in ("checkbox", "radio") or "checked" in attrs
            self._add(
                attrs,
                (
                    name,
                    attrs.get("value", "on") if kind in ("checkbox", "radio") else attrs.get("value") or "",
                    kind,
                    sent,
                ),
            )
        elif tag == "select" and name:
            self.select = [attrs, name, None, None]  # attrs, name, first option, selected option
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            self.select[2] = value if self.select[2] is None else self.select[2]
            if "selected" in attrs:
                self.select[3] = value
        elif tag == "textarea" and name:
            self.textarea = [attrs, name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select is not None:
            attrs, name, first, chosen = self.select
            self._add(attrs, (name, chosen if chosen is not None else first or "", "select", True))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            attrs, name, text = self.textarea
            self._add(attrs, (name, text, "textarea", True))
            self.textarea = None

    def parsed(self) -> list[dict]:
        for owner, field in self.outside:
            if owner in self.by_id:
                self.by_id[owner]["fields"].append(field)
        return self.forms


TEXT_INPUTS = {"text", "email", "password", "url", "tel", "search", "textarea"}


def post_forms(client, urls) -> list[tuple[str, dict]]:
    """Each distinct POST form of these pages (same action and fields: fuzzed once)."""
    found, seen = [], set()
    for url in urls:
        status, html = request(client, "GET", url)
        if status != 200 or "<form" not in html:
            continue
        parser = PageForms()
        parser.feed(html)
        for form in parser.parsed():
            action = form["action"] or url
            names = tuple(sorted({field[0] for field in form["fields"]} - {"csrf_token"}))
            key = (re.sub(r"\d+", "N", urlsplit(action).path), names)
            if form["method"] == "POST" and names and key not in seen:
                seen.add(key)
                found.append((url, {**form, "action": action}))
    return found


def submission(form: dict, name: str, value) -> MultiDict:
    data = MultiDict([(n, v) for n, v, _kind, sent in form["fields"] if sent and n != name])
    if "step" in data:  # the plan wizard: Efetivar from the review, so every step is checked
        data["step"], data["action"] = "4", "efetivar"
    data.add(name, (io.BytesIO(b"conteudo"), "arquivo.txt") if value is FILE else value)
    return data


def test_fuzz_every_post_form_of_every_page(app, client, login_as):
    ids = seed(app)
    login_as("admin")
    forms = post_forms(client, page_urls(app, ids))
    actions = {urlsplit(form["action"]).path for _, form in forms}
    # The pages' forms as an admin sees them: settings, plans, réguas, users, clients, contracts,
    # títulos, the Integradores lists and Operações, the user's own password.
    assert len(forms) >= 20, sorted(actions)
    failures = []
    sent = 0
    for _page, form in forms:
        fields = {name: kind for name, _value, kind, _sent in form["fields"] if name != "csrf_token"}
        for name, kind in fields.items():
            for value in HOSTILE_FIELD_VALUES:
                is_file = value is FILE
                status, body = request(
                    client,
                    "POST",
                    form["action"],
                    data=submission(form, name, value),
                    content_type="multipart/form-data" if is_file else None,
                )
                sent += 1
                where = f"{form['action']} [{name}={'<file>' if is_file else repr(value[:12])}]"
                if status not in ALLOWED:
                    failures.append(f"{where} → {status}")
                elif kind in TEXT_INPUTS and value == "Jo\x00ão" and name != "current_password":
                    # Refused next to the field: the control-character error, or the field's own
                    # (a number field cannot read it at all).
                    if status not in (200, 422) or "is-invalid" not in body:
                        failures.append(f"{where} → {status} without an error next to the field")
                elif kind == "number" and value in ("١٢", "9" * 23) and status not in (200, 422):
                    failures.append(f"{where} → {status}: taken as a number")
        # The whole form as JSON, with a valid token in the header: read as an empty form.
        token = {n: v for n, v, *_ in form["fields"]}.get("csrf_token")
        status, _ = request(
            client,
            "POST",
            form["action"],
            json={name: [1] for name in fields} | {"x": {"y": 1}},
            headers={"X-CSRFToken": token or ""},
        )
        if status not in ALLOWED:
            failures.append(f"{form['action']} [JSON] → {status}")
    assert sent > 300, sent
    assert failures == []


def test_the_reported_cases_get_an_error_next_to_their_field(app, client, login_as):
    """A 23-digit plan_id, a day typed in Arabic-Indic digits, a file for a name, a NUL in a
    search: each now an error the operator can read."""
    from tests.conftest import post_form

    plan_id = ittv_plan(app)
    client_id = make_client(app)
    login_as("admin")
    new_contract = f"/financeiro/painel-do-cliente/clientes/{client_id}/contratos/novo"
    for plan in ("9" * 23, "٣", str(2**31)):
        response = post_form(client, new_contract, {"plan_id": plan, "start_date": "2026-01-05", "due_day": "10"})
        assert response.status_code == 200 and ID_CHOICE in response.get_data(as_text=True)
    response = post_form(client, new_contract, {"plan_id": str(plan_id), "start_date": "2026-01-05", "due_day": "١٠"})
    assert response.status_code == 200 and INTEGER in response.get_data(as_text=True)

    steps_1_and_2 = {
        "name": "Plano X",
        "plan_type": "tv_ott",
        "contract_months": "12",
        "monthly_value": "39,90",
        "composition-0-mode": "percent",
        "composition-0-amount": "100",
    }
    for chosen in ({"platform_id": "9" * 23}, {"platform_id": "٣"}, {"product_ids": "١"}, {"product_ids": str(2**63)}):
        data = {**steps_1_and_2, "step": "3", "action": "next", "platform_id": "", **chosen}
        response = post_form(client, "/configuracoes/planos/novo", data)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'data-testid="plan-step-3"' in body and ID_CHOICE in body, chosen

    response = post_form(
        client,
        "/configuracoes/reguas/nova",
        {
            "rule_type": "connection_maintenance",
            "days_overdue": "١٥",
            "action": "tv_block",
            "platform_id": "",
            "description": (io.BytesIO(b"x"), "descricao.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and INTEGER in response.get_data(as_text=True)


def test_the_login_form_answers_a_nul_byte_with_its_errors(app, client, make_user):
    user = make_user("operador")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": user.username + "\x00", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 200 and CONTROL in response.get_data(as_text=True)
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD + "\x00", "csrf_token": token}
    )
    assert response.status_code == 200 and "Usuário ou senha inválidos" in response.get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": (io.BytesIO(b"admin"), "u.txt"), "password": PASSWORD, "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "Informe o usuário" in response.get_data(as_text=True)
    response = client.post("/login", json=[user.username, PASSWORD], headers={"X-CSRFToken": token})
    assert response.status_code == 200 and "Informe o usuário" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # none of them logged in
