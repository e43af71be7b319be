"""The adapter contract, proved against each platform's sandbox over HTTP.

Every test runs once per ``PlatformCase``; a new platform is one more case (plus its adapter and
sandbox). What the platform holds is read from the sandbox's own records, not from the adapter.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from validate_docbr import CNPJ, CPF

from panel.providers import (
    REGISTRY,
    AccessStatus,
    PermanentError,
    PlanProducts,
    Provider,
    RemoteSubscriber,
    RetryableError,
    SubscriberData,
    Timeouts,
    make_provider,
)

TIMEOUTS = Timeouts(connect=2, read=3)


@dataclass(frozen=True)
class PlatformCase:
    kind: str
    plan: PlanProducts  # codes from the sandbox's demo catalogue
    other_plan: PlanProducts  # a plan with other packages, to change products
    document_field: str  # where the platform's record keeps the CPF/CNPJ
    record_key: Callable[[RemoteSubscriber], str]  # how the sandbox admin addresses a record
    status_field: str  # where the platform's record keeps its status
    cancel_is_final: bool
    # ITTV keeps one customer per CPF/CNPJ: creating with a known document finds that customer.
    one_subscriber_per_document: bool
    # ITTV gives a customer one product: a plan with two full packages cannot be served there.
    one_product_per_subscriber: bool
    # The fields of the create request that carry personal data, as the wire names them.
    personal_fields: tuple[str, ...]
    # Whether a stored record (as ``subscribers`` gives it) is this subscriber's.
    owns: Callable[[dict, SubscriberData], bool]
    product_key: str  # how the sandbox's catalogue names a product's code
    # The platform's records as subscribers: the records themselves, or (Watch) its tickets grouped.
    subscribers: Callable[[list[dict]], list[dict]] = lambda records: records
    # The request a change of status starts with (fault injection aims at it).
    status_write: str = ""
    writes_per_change: int = 1  # requests a block sends (Watch: one per ticket)
    cancel_removes: bool = False  # cancelled = nothing left at the platform (Watch)
    sends_document: bool = True  # the platform is given (and checks) the CPF/CNPJ
    refusal_http_status: int | None = None  # refusals come with this HTTP status (Watch: 200), else a 4xx
    credentials_word: str = "token"  # how a refusal of our credentials names them

    def __str__(self) -> str:
        return self.kind


def watch_subscribers(tickets: list[dict]) -> list[dict]:
    """Watch's tickets as one record per reference of ours: its e-mail, its status in the adapter's
    words (all active, all inactive, mixed) and its tickets."""
    grouped: dict[str, list[dict]] = {}
    for ticket in tickets:
        grouped.setdefault(ticket["IDIntegracaoAssinante"], []).append(ticket)
    return [
        {
            "external_id": reference,
            "Email": held[-1]["Email"],
            "status": "ativo"
            if all(t["Ativo"] for t in held)
            else "inativo"
            if not any(t["Ativo"] for t in held)
            else "misto",
            "tickets": held,
        }
        for reference, held in grouped.items()
    ]


CASES = [
    PlatformCase(
        kind="ittv",
        plan=PlanProducts(("PLAYHUB-BASICO", "PLAYHUB-PREMIUM"), base_codes=("PLAYHUB-BASICO",)),
        other_plan=PlanProducts(("PLAYHUB-BASICO", "PLAYHUB-ESPORTES"), base_codes=("PLAYHUB-BASICO",)),
        document_field="cpf",
        record_key=lambda remote: remote.external_id,
        status_field="status",
        cancel_is_final=False,  # ITTV has no cancelled state: a cancelled customer is INACTIVE
        one_subscriber_per_document=True,
        one_product_per_subscriber=True,
        personal_fields=(
            "name",
            "cpf",
            "phone",
            "email",
            "username",
            "password",
            "zipcode",
            "address",
            "number",
            "complement",
            "city",
        ),
        owns=lambda record, data: record["cpf"] == data.document,
        product_key="_id",
        status_write="PUT ",
    ),
    PlatformCase(
        kind="skeelo",
        plan=PlanProducts(("SKEELO-EBOOKS", "SKEELO-AUDIOBOOKS"), base_codes=("SKEELO-EBOOKS",)),
        other_plan=PlanProducts(("SKEELO-MINIBOOKS",)),
        document_field="document",
        record_key=lambda remote: remote.external_ref or "",
        status_field="status",
        cancel_is_final=True,
        one_subscriber_per_document=False,
        one_product_per_subscriber=False,
        personal_fields=("name", "document", "email"),
        owns=lambda record, data: record["external_id"] == data.external_ref,
        product_key="code",
        status_write="PATCH ",
    ),
    PlatformCase(
        kind="watch",
        plan=PlanProducts(("101", "102")),
        other_plan=PlanProducts(("101", "103")),
        document_field="",
        record_key=lambda remote: remote.external_ref or "",
        status_field="status",
        cancel_is_final=True,  # for the adapter: a new contract's sync inserts new tickets (create)
        one_subscriber_per_document=False,
        one_product_per_subscriber=False,
        personal_fields=("pEmail", "pName", "pPhone"),
        owns=lambda record, data: record["external_id"] == data.external_ref,
        product_key="IDPacote",
        subscribers=watch_subscribers,
        status_write="POST /watch/v1/tickets/updatestatus",
        writes_per_change=2,
        cancel_removes=True,
        sends_document=False,
        refusal_http_status=200,
        credentials_word="credenciais",
    ),
]


def test_every_registered_adapter_has_a_contract_case():
    assert sorted(case.kind for case in CASES) == sorted(REGISTRY)


@pytest.fixture(params=CASES, ids=str)
def case(request) -> PlatformCase:
    return request.param


@pytest.fixture
def sandbox(case, sandbox_for):
    return sandbox_for(case.kind)


@pytest.fixture
def provider(case, sandbox):
    with make_provider(case.kind, sandbox.url, sandbox.token, timeouts=TIMEOUTS) as adapter:
        adapter.list_products()  # a platform with OAuth gets its token now, not inside the test
        sandbox.admin("DELETE", "/requests")
        yield adapter


_counter = iter(range(1, 10**9))


@pytest.fixture
def make_data(case):
    """Factory of valid SubscriberData, a new person (and reference) each call."""

    def make(**changes) -> SubscriberData:
        n = next(_counter)
        document = CNPJ().generate() if n % 5 == 0 else CPF().generate()
        data = SubscriberData(
            external_ref=f"test-{case.kind}-{n}",
            name=f"Assinante Teste {n}",
            document=document,
            email=f"assinante{n}@example.com",
            plan=case.plan,
            phone="11987654321",
            zipcode="01310100",
            street="Avenida Paulista",
            number="1000",
            complement="ap 1",
            city="São Paulo",
            state="SP",
        )
        return replace(data, **changes)

    return make


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def records_with(sandbox, case, data: SubscriberData) -> list[dict]:
    """The platform's own records of this subscriber (Watch: its tickets, as one record)."""
    return [record for record in case.subscribers(sandbox.records()) if case.owns(record, data)]


def held_status(provider: Provider, data: SubscriberData) -> AccessStatus | None:
    remote = provider.get(data.ref)
    assert remote is not None
    return provider.status_of(remote, data.plan)


# -- catalogue and connection ----------------------------------------------------------------


def test_list_products_reads_the_platform_catalogue(provider, sandbox, case):
    sandbox.add_product(**{case.product_key: "NOVO-PACOTE", "name": "Pacote novo"})

    products = {product.code: product.name for product in provider.list_products()}

    assert set(case.plan.codes) <= set(products)
    assert products["NOVO-PACOTE"] == "Pacote novo"


def test_test_connection_counts_the_catalogue(provider):
    check = provider.test_connection()

    assert check.product_count == len(provider.list_products()) > 0
    assert "Conexão OK" in check.message


def test_a_wrong_token_is_a_permanent_error(case, sandbox):
    with (
        make_provider(case.kind, sandbox.url, "token-errado", timeouts=TIMEOUTS) as adapter,
        pytest.raises(PermanentError) as refused,
    ):
        adapter.test_connection()
    assert refused.value.status_code == 401
    assert case.credentials_word in refused.value.message.lower()


def test_an_unreachable_server_is_retryable(case):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        make_provider(case.kind, f"http://127.0.0.1:{port}", "t", timeouts=TIMEOUTS) as adapter,
        pytest.raises(RetryableError),
    ):
        adapter.list_products()


# -- create: lookup first, one subscriber whatever happens --------------------------------------


def test_create_makes_one_active_subscriber_with_the_plan(provider, sandbox, case, make_data):
    data = make_data()

    remote = provider.create(data)

    [record] = records_with(sandbox, case, data)
    assert record[case.status_field] == provider.target(AccessStatus.ACTIVE, case.plan).platform_status
    assert held_status(provider, data) is AccessStatus.ACTIVE
    assert provider.get(data.ref).external_id == remote.external_id


def test_create_in_a_blocked_status_creates_it_blocked(provider, sandbox, case, make_data):
    data = make_data()

    provider.create(data, AccessStatus.BLOCKED)

    [record] = records_with(sandbox, case, data)
    assert record[case.status_field] == provider.target(AccessStatus.BLOCKED, case.plan).platform_status


def test_a_plan_the_platform_cannot_serve_is_refused_before_any_call(provider, sandbox, case):
    plan = PlanProducts(case.plan.codes + case.other_plan.codes[-1:], base_codes=case.plan.base_codes)
    if case.one_product_per_subscriber:
        with pytest.raises(PermanentError, match="único produto"):
            provider.check_plan(plan)
    else:
        provider.check_plan(plan)
    assert sandbox.requests_seen() == []


def test_get_of_an_unknown_subscriber_is_none(provider, make_data):
    assert provider.get(make_data().ref) is None


def test_create_twice_gives_one_subscriber_and_one_post(provider, sandbox, case, make_data):
    data = make_data()

    first = provider.create(data)
    second = provider.create(data)

    assert second.external_id == first.external_id
    assert len(records_with(sandbox, case, data)) == 1
    posts = [r["method"] for r in sandbox.writes_seen()].count("POST")
    assert posts == (len(case.plan.codes) if case.cancel_removes else 1)  # Watch: one insert per package


def test_create_after_a_lost_response_gives_one_subscriber(provider, sandbox, case, make_data):
    data = make_data()
    sandbox.inject("drop", match="POST ")

    with pytest.raises(RetryableError):
        provider.create(data)
    assert len(records_with(sandbox, case, data)) == 1  # the platform did create it

    remote = provider.create(data)  # the job's retry

    [record] = records_with(sandbox, case, data)
    assert case.record_key(remote) in (record.get("_id"), record.get("external_id"))
    assert held_status(provider, data) is AccessStatus.ACTIVE


def test_concurrent_creates_of_the_same_subscriber_give_one(case, sandbox, make_data):
    """Both lookups find nothing (each request is slowed down), both POST: the loser takes the
    subscriber the platform refused to duplicate (409)."""
    data = make_data()
    sandbox.admin("PUT", "/latency", json={"ms": 300})
    results: list[object] = []

    def create() -> None:
        with make_provider(case.kind, sandbox.url, sandbox.token, timeouts=TIMEOUTS) as adapter:
            try:
                results.append(adapter.create(data).external_id)
            except Exception as exc:  # collected for the assertion below
                results.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(records_with(sandbox, case, data)) == 1
    assert len(set(results)) == 1 and isinstance(results[0], str), results


# -- statuses ---------------------------------------------------------------------------------


def test_every_supported_status_is_held_at_the_platform(provider, sandbox, case, make_data):
    data = make_data()
    remote = provider.create(data)
    path = [AccessStatus.PARTIAL_BLOCK, AccessStatus.BLOCKED, AccessStatus.ACTIVE, AccessStatus.CANCELLED]

    for status in (s for s in path if s in provider.supported_statuses):
        remote = provider.set_status(remote, status, case.plan)

        if status is AccessStatus.CANCELLED and case.cancel_removes:
            assert provider.get(data.ref) is None
            assert records_with(sandbox, case, data) == []
            continue
        fresh = provider.get(data.ref)
        assert provider.matches(fresh, status, case.plan), status
        [record] = records_with(sandbox, case, data)
        assert record[case.status_field] == provider.target(status, case.plan).platform_status


def test_set_status_sends_only_the_difference(provider, sandbox, make_data, case):
    data = make_data()
    remote = provider.create(data)
    sandbox.admin("DELETE", "/requests")

    provider.set_status(provider.get(data.ref), AccessStatus.ACTIVE, case.plan)
    assert sandbox.writes_seen() == []

    provider.set_status(remote, AccessStatus.BLOCKED, case.plan)
    assert len(sandbox.writes_seen()) == case.writes_per_change


def test_partial_block_keeps_only_the_base_package(provider, sandbox, case, make_data):
    if AccessStatus.PARTIAL_BLOCK not in provider.supported_statuses:
        pytest.skip(f"{case.kind} has no partial block")
    data = make_data()
    remote = provider.set_status(provider.create(data), AccessStatus.PARTIAL_BLOCK, case.plan)

    assert held_status(provider, data) is AccessStatus.PARTIAL_BLOCK
    assert set(remote.products) <= set(case.plan.base_codes)

    provider.set_status(remote, AccessStatus.ACTIVE, case.plan)  # Desbloqueio
    assert held_status(provider, data) is AccessStatus.ACTIVE
    assert set(provider.get(data.ref).products) - set(case.plan.base_codes)


def test_partial_block_is_refused_where_the_platform_has_none(provider, case, make_data):
    if AccessStatus.PARTIAL_BLOCK in provider.supported_statuses:
        pytest.skip(f"{case.kind} has a partial block")
    remote = provider.create(make_data())
    with pytest.raises(ValueError):
        provider.set_status(remote, AccessStatus.PARTIAL_BLOCK, case.plan)


def test_cancelled_is_final_where_the_platform_says_so(provider, case, make_data):
    data = make_data()
    remote = provider.set_status(provider.create(data), AccessStatus.CANCELLED, case.plan)

    if case.cancel_is_final:
        with pytest.raises(PermanentError):
            provider.set_status(remote, AccessStatus.ACTIVE, case.plan)
        assert provider.set_status(remote, AccessStatus.CANCELLED, case.plan) == remote  # nothing to send
    else:
        provider.set_status(remote, AccessStatus.ACTIVE, case.plan)
        assert held_status(provider, data) is AccessStatus.ACTIVE


def test_a_drift_made_at_the_platform_is_seen_and_corrected(provider, sandbox, case, make_data):
    data = make_data()
    remote = provider.create(data)
    blocked_word = provider.target(AccessStatus.BLOCKED, case.plan).platform_status
    if case.kind == "watch":  # blocked at Watch: every ticket inactive
        for ticket in sandbox.records():
            sandbox.edit(ticket["Ticket"], Ativo=False)
    else:
        sandbox.edit(case.record_key(remote), **{case.status_field: blocked_word})

    drifted = provider.get(data.ref)
    assert provider.status_of(drifted, case.plan) is AccessStatus.BLOCKED

    provider.set_status(drifted, AccessStatus.ACTIVE, case.plan)
    assert held_status(provider, data) is AccessStatus.ACTIVE


# -- products and login -----------------------------------------------------------------------


def test_change_products_gives_the_new_plan(provider, case, make_data):
    data = make_data()
    remote = provider.create(data)

    provider.change_products(remote, case.other_plan, status=AccessStatus.ACTIVE)

    fresh = provider.get(data.ref)
    assert provider.status_of(fresh, case.other_plan) is AccessStatus.ACTIVE
    assert provider.status_of(fresh, case.plan) is not AccessStatus.ACTIVE


@pytest.mark.parametrize("status", [AccessStatus.PARTIAL_BLOCK, AccessStatus.BLOCKED])
def test_a_plan_change_never_lifts_a_block(provider, case, make_data, status):
    if status not in provider.supported_statuses:
        pytest.skip(f"{case.kind} has no {status}")
    data = make_data()
    remote = provider.set_status(provider.create(data), status, case.plan)

    provider.change_products(remote, case.other_plan, status=status)

    assert provider.matches(provider.get(data.ref), status, case.other_plan)


def test_login_defaults_and_changes(provider, sandbox, case, make_data):
    data = make_data()
    remote = provider.create(data)
    if case.kind == "watch":  # the e-mail is Watch's key: a new one moves the tickets
        moved = provider.change_login(remote, username="novo@example.com", email="novo@example.com")
        [record] = records_with(sandbox, case, data)
        assert {t["Email"] for t in record["tickets"]} == {"novo@example.com"}
        assert sorted(str(t["IDPacote"]) for t in record["tickets"]) == sorted(case.plan.codes)
        assert provider.get(data.ref).email == moved.email == "novo@example.com"
        assert held_status(provider, data) is AccessStatus.ACTIVE
        return
    if not provider.has_login:
        with pytest.raises(PermanentError):
            provider.change_login(remote, username="novo@example.com", email="novo@example.com")
        return
    [record] = records_with(sandbox, case, data)
    assert (record["username"], record["password"]) == (data.email, data.document)  # the seed's rule

    provider.change_login(remote, username="novo@example.com", email="novo@example.com")
    provider.change_password(remote, "nova-senha-123")

    [record] = records_with(sandbox, case, data)
    assert (record["username"], record["email"], record["password"]) == (
        "novo@example.com",
        "novo@example.com",
        "nova-senha-123",
    )
    assert provider.get(data.ref).email == "novo@example.com"


def test_list_subscribers_returns_every_one(provider, make_data):
    made = {provider.create(make_data()).external_id for _ in range(55)}  # more than a page

    listed = [remote.external_id for remote in provider.list_subscribers()]

    assert sorted(listed) == sorted(made)


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(provider, sandbox, status):
    sandbox.inject("error", status=status)

    with pytest.raises(RetryableError) as failed:
        provider.list_products()

    assert failed.value.status_code == status


def test_three_server_errors_then_success(provider, sandbox, make_data):
    data = make_data()
    sandbox.inject("error", count=3, match="POST ")  # the lookup answers; the create fails 3×

    for _ in range(3):
        with pytest.raises(RetryableError):
            provider.create(data)
    remote = provider.create(data)

    assert remote.external_id
    assert sandbox.pending_faults() == []


def test_rate_limit_carries_retry_after(provider, sandbox):
    sandbox.inject("rate_limit", retry_after=7)

    with pytest.raises(RetryableError) as limited:
        provider.list_products()

    assert limited.value.status_code == 429
    assert limited.value.retry_after == 7
    assert "7 s" in limited.value.message


def test_a_timeout_is_retryable(case, sandbox):
    sandbox.inject("timeout", delay=2)
    with (
        make_provider(case.kind, sandbox.url, sandbox.token, timeouts=Timeouts(connect=1, read=0.5)) as adapter,
        pytest.raises(RetryableError) as failed,
    ):
        adapter.list_products()
    assert "não respondeu" in failed.value.message


def test_a_connection_closed_without_an_answer_is_retryable_and_changes_nothing(case, sandbox, make_data):
    data = make_data()
    with make_provider(case.kind, sandbox.url, sandbox.token, timeouts=Timeouts(connect=1, read=5)) as adapter:
        remote = adapter.create(data)
        sandbox.inject("timeout", delay=0.5)
        with pytest.raises(RetryableError) as failed:
            adapter.set_status(remote, AccessStatus.BLOCKED, case.plan)
        assert "caiu antes da resposta" in failed.value.message
        assert adapter.matches(adapter.get(data.ref), AccessStatus.ACTIVE, case.plan)


def test_a_slow_answer_past_the_timeout_is_retryable_and_the_retry_converges(case, sandbox, make_data):
    data = make_data()
    with make_provider(case.kind, sandbox.url, sandbox.token, timeouts=Timeouts(connect=1, read=0.5)) as adapter:
        remote = adapter.create(data)
        sandbox.inject("slow", delay=1.5, match=case.status_write)
        with pytest.raises(RetryableError):
            adapter.set_status(remote, AccessStatus.BLOCKED, case.plan)
        wait_for(lambda: any(r["fault"] == "slow" for r in sandbox.requests_seen()))
        # The change happened after all; the retry reads it and sends only what is missing.
        writes = len(sandbox.writes_seen())
        adapter.set_status(adapter.get(data.ref), AccessStatus.BLOCKED, case.plan)
        assert len(sandbox.writes_seen()) == writes + case.writes_per_change - 1
        assert adapter.matches(adapter.get(data.ref), AccessStatus.BLOCKED, case.plan)


def test_a_lost_response_on_a_change_is_retryable(provider, sandbox, case, make_data):
    data = make_data()
    remote = provider.create(data)
    sandbox.inject("drop", match=case.status_write)

    with pytest.raises(RetryableError):
        provider.set_status(remote, AccessStatus.BLOCKED, case.plan)
    provider.set_status(provider.get(data.ref), AccessStatus.BLOCKED, case.plan)  # the retry: the rest

    assert provider.matches(provider.get(data.ref), AccessStatus.BLOCKED, case.plan)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"document": "11111111111"}, "inválido"),
        ({"email": ""}, "email"),
        ({"email": "sem-arroba"}, "e-mail inválido"),
    ],
    ids=["bad-document", "missing-email", "bad-email"],
)
def test_validation_refusals_are_permanent_with_the_platform_message(
    provider, sandbox, case, make_data, changes, words
):
    if "document" in changes and not case.sends_document:
        pytest.skip(f"{case.kind} is not given the CPF/CNPJ")
    data = make_data(**changes)

    with pytest.raises(PermanentError) as refused:
        provider.create(data)

    if case.refusal_http_status is not None:
        assert refused.value.status_code == case.refusal_http_status
    else:
        assert 400 <= refused.value.status_code < 500
    assert words in refused.value.message.lower()
    assert refused.value.platform_message and words in refused.value.platform_message.lower()
    assert sandbox.records() == []


def test_an_unknown_product_is_refused_with_its_code(provider, make_data, case):
    data = make_data(plan=PlanProducts(("NAO-EXISTE",)))

    with pytest.raises(PermanentError) as refused:
        provider.create(data)

    assert "NAO-EXISTE" in refused.value.message


def test_a_second_subscriber_with_the_same_document(provider, sandbox, case, make_data):
    first = make_data()
    remote = provider.create(first)
    second = make_data(document=first.document)

    again = provider.create(second)

    if case.one_subscriber_per_document:  # the same customer: one synced contract per client
        assert again.external_id == remote.external_id
        assert len(records_with(sandbox, case, first)) == len(case.subscribers(sandbox.records())) == 1
    else:  # one subscriber per contract
        assert again.external_id != remote.external_id
        assert len(records_with(sandbox, case, first)) == len(records_with(sandbox, case, second)) == 1
        assert len(case.subscribers(sandbox.records())) == 2


def test_a_conflict_that_is_not_ours_is_a_permanent_error_without_personal_data(provider, sandbox, make_data):
    data = make_data()
    sandbox.inject("error", status=409, echo=True, match="POST ")

    with pytest.raises(PermanentError) as refused:
        provider.create(data)

    assert refused.value.status_code == 409
    assert "falha simulada" in refused.value.message
    for personal in (data.document, data.email, data.name):
        assert personal not in refused.value.message
    assert sandbox.records() == []


# -- secrets and personal data ----------------------------------------------------------------


def test_an_error_quoting_the_request_json_escaped_shows_none_of_its_personal_fields(
    provider, sandbox, case, make_data
):
    # Accents travel as \u00e3 and quotes as \" in the JSON the platform quotes back; CEP,
    # number, complement and city are personal too.
    data = make_data(
        name='João "Jota" da Conceição',
        street="Rua das Acácias",
        number="1578",
        complement="Bloco Ipê",
        city="Três Corações",
        zipcode="37410000",
    )

    for field in case.personal_fields:
        sandbox.inject("error", status=422, echo=[field], match="POST ")
        with pytest.raises(PermanentError) as refused:
            provider.create(data)
        # The platform's words stay, decoded; the value it quoted is masked whole.
        quoted = f'Erro da plataforma (falha simulada). Recebido: {{"{field}": "***"}}'
        assert refused.value.message.endswith(quoted), (field, refused.value.message)
        assert refused.value.platform_message == quoted
    assert sandbox.records() == []


def test_tokens_and_personal_data_never_reach_logs_or_errors(provider, sandbox, case, make_data, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="panel.providers")
    data = make_data()
    bad = make_data(email="sem-arroba")
    errors: list[BaseException] = []

    remote = provider.create(data)
    provider.set_status(remote, AccessStatus.BLOCKED, case.plan)
    provider.get(data.ref)
    list(provider.list_subscribers())
    for fault in ("error", "rate_limit", "drop"):
        sandbox.inject(fault)
        try:
            provider.get(data.ref)
        except RetryableError as exc:
            errors.append(exc)
    for status in (400, 500):  # errors that quote our request back
        sandbox.inject("error", status=status, echo=True, match="POST ")
        try:
            provider.create(bad)
        except (PermanentError, RetryableError) as exc:
            errors.append(exc)
    try:
        provider.create(bad)
    except PermanentError as exc:
        errors.append(exc)
    with make_provider(case.kind, sandbox.url, "segredo-errado-" + sandbox.token, timeouts=TIMEOUTS) as wrong:
        try:
            wrong.get(data.ref)
        except PermanentError as exc:
            errors.append(exc)

    assert len(errors) == 7
    texts = {
        "our logs": caplog.text,
        "the sandbox's log": sandbox.log_text(),
        "error texts": "\n".join("".join(traceback.format_exception(exc)) for exc in errors),
        "reprs": repr(data) + repr(remote),
    }
    assert any(r.name == "panel.providers.http" for r in caplog.records)  # the adapter did log its calls
    for where, text in texts.items():
        assert sandbox.token not in text, where
        for personal in (data.document, data.email, data.name, bad.document, bad.email):
            assert personal not in text, (where, personal)


# -- Watch Brasil only: OAuth tokens, the HTTP 200 envelope, a ticket per package --------------

WATCH = next(case for case in CASES if case.kind == "watch")


@pytest.fixture
def watch(sandbox_for):
    return sandbox_for("watch")


def watch_data(n: int, **changes) -> SubscriberData:
    data = SubscriberData(
        external_ref=f"watch-only-{n}",
        name=f"Assinante Watch {n}",
        document=CPF().generate(),
        email=f"watch{n}@example.com",
        plan=WATCH.plan,
        phone="11987654321",
    )
    return replace(data, **changes)


def token_calls(sandbox) -> int:
    return sum(1 for r in sandbox.requests_seen() if r["path"] == "/oauth/token")


def test_watch_two_packages_are_two_tickets_with_our_reference(watch):
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        data = watch_data(1)
        remote = adapter.create(data)

        tickets = watch.records()
        assert sorted(str(t["IDPacote"]) for t in tickets) == ["101", "102"]
        assert {(t["IDIntegracaoAssinante"], t["Email"], t["Ativo"]) for t in tickets} == {
            ("watch-only-1", "watch1@example.com", True)
        }
        assert remote.products == ("101", "102")

        adapter.set_status(remote, AccessStatus.BLOCKED, WATCH.plan)
        assert [t["Ativo"] for t in watch.records()] == [False, False]
        adapter.set_status(adapter.get(data.ref), AccessStatus.CANCELLED, WATCH.plan)
        assert watch.records() == []


def test_watch_a_lost_insert_answer_never_makes_a_second_ticket(watch):
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        data = watch_data(2)
        adapter.list_products()
        watch.inject("drop", count=2, match="POST /watch/v2/assinantes/insert")
        for _ in range(2):
            with pytest.raises(RetryableError):
                adapter.create(data)
        adapter.create(data)

    assert sorted(str(t["IDPacote"]) for t in watch.records()) == ["101", "102"]


def test_watch_token_expired_mid_run_is_renewed_once(watch):
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        data = watch_data(3)
        remote = adapter.create(data)
        assert token_calls(watch) == 1
        watch.admin("POST", "/tokens/expire")

        adapter.set_status(remote, AccessStatus.BLOCKED, WATCH.plan)

        assert token_calls(watch) == 2  # one new token, then the call again
        assert [t["Ativo"] for t in watch.records()] == [False, False]
        assert sum(1 for r in watch.requests_seen() if r["status"] == 401) == 1


def test_watch_token_is_shared_across_adapters_and_jobs_ask_for_it_once(watch, redis_url):
    """The worker's cache (Redis): adapters built apart reuse one token, and ten of them asking
    at once make one token request (the others wait on the lock and take it)."""
    import redis

    from panel.jobs.token_cache import RedisTokenCache

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("painel:platform-token:*"):
        connection.delete(key)
    watch.admin("PUT", "/latency", json={"ms": 100})
    results: list[object] = []

    def job() -> None:
        with make_provider(
            "watch", watch.url, watch.token, timeouts=TIMEOUTS, token_cache=RedisTokenCache(connection)
        ) as adapter:
            try:
                results.append(len(adapter.list_products()))
            except Exception as exc:  # collected for the assertion below
                results.append(exc)

    threads = [threading.Thread(target=job) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [3] * 10
    assert token_calls(watch) == 1
    [key] = [k for k in connection.scan_iter("painel:platform-token:*") if not k.endswith(b":lock")]
    assert 0 < connection.ttl(key) <= 3600
    assert watch.token.split(":")[1].encode() not in key  # the key is a hash, never the secret


@pytest.mark.parametrize("validation", [True, False], ids=["refusal", "platform-failure"])
def test_watch_envelope_errors_with_http_200(watch, validation):
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        adapter.list_products()
        watch.admin(
            "POST",
            "/envelope-faults",
            json={"validation": validation, "message": "Falha no pacote (simulada)", "match": "GET /watch/v1"},
        )
        with pytest.raises(PermanentError if validation else RetryableError) as failed:
            adapter.list_products()

    assert failed.value.status_code == 200
    assert "Falha no pacote (simulada)" in failed.value.message


def test_watch_wrong_credentials_are_a_refusal_and_never_echoed(watch):
    client_id, secret = watch.token.split(":")
    with (
        make_provider("watch", watch.url, f"{client_id}:outro-{secret}", timeouts=TIMEOUTS) as adapter,
        pytest.raises(PermanentError) as refused,
    ):
        adapter.list_products()

    assert "credenciais" in refused.value.message
    assert secret not in refused.value.message and client_id not in refused.value.message
    assert token_calls(watch) == 0


def test_watch_access_token_never_reaches_logs_or_errors(watch, caplog):
    caplog.set_level(logging.DEBUG)
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        adapter.list_products()
        access_token = adapter.http.token
        watch.inject("error", status=500, echo=True)
        with pytest.raises(RetryableError) as failed:
            adapter.list_products()
    assert access_token and access_token not in caplog.text + failed.value.message + watch.log_text()


def test_watch_lists_every_ticket_across_pages_as_subscribers(watch):
    with make_provider("watch", watch.url, watch.token, timeouts=TIMEOUTS) as adapter:
        made = {adapter.create(watch_data(100 + n)).external_id for n in range(51)}  # 102 tickets
        listed = list(adapter.list_subscribers())

    assert sorted(remote.external_id for remote in listed) == sorted(made)
    assert all(remote.products == ("101", "102") for remote in listed)
    pages = [
        r["query"] for r in watch.requests_seen() if r["path"] == "/watch/v2/tickets/get" and "pPagina=2" in r["query"]
    ]
    assert pages
