"""How a list follows its rows in a real browser, with a real worker and ITTV's sandbox: after an
operator's row action, every unfinished row of the page is asked for in ONE request per round
(``/integradores/estado``, never a request per row), each row shows its final state by itself
shortly after its operation is done, finished rows are dropped from the next rounds and the
page stops asking when none is left; a page in the background asks nothing until it is shown
again. Times are only printed (a loaded machine must not fail the test): what is asserted is the
request log."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from panel.extensions import db
from panel.models import Operation, Subscription
from tests.e2e.test_integradores import WORKER_TIMEOUT, open_tab, row, synced_contract
from tests.e2e.test_login_and_menus import log_in
from tests.e2e.test_painel_cliente import flash, press_and_confirm
from tests.factories import CPFS
from tests.processes import wait_until
from tests.provisioning import act, platform_at

TV = "/integradores/tv/clientes"
ESTADO = "/integradores/estado"
# Other ways a page could poll a row; none may be used by a list.
ONE_ROW_URLS = ("/situacao", "/pedidos")


class RequestLog:
    """The page's status requests, and how many are on their way at once."""

    def __init__(self, page: Page) -> None:
        self.batches: list[tuple[float, set[int]]] = []
        self.one_row: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        page.on("request", self._sent)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    @staticmethod
    def _is_batch(request) -> bool:
        return urlsplit(request.url).path == ESTADO

    def _sent(self, request) -> None:
        path = urlsplit(request.url).path
        if path.startswith("/integradores/") and path.endswith(ONE_ROW_URLS):
            self.one_row.append(request.url)
        if not self._is_batch(request):
            return
        ids = parse_qs(urlsplit(request.url).query).get("assinantes", [""])[0]
        self.batches.append((time.monotonic(), {int(n) for n in ids.split(",") if n}))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _ended(self, request) -> None:
        if self._is_batch(request):
            self.in_flight -= 1


# Records, in the page, when each row first shows ``text`` as its confirmed access.
WATCH_ROWS = """text => {
  window.finalSeen = {};
  const look = () => document.querySelectorAll("tr[data-contract]").forEach(tr => {
    const status = tr.querySelector("[data-testid=remote-status]");
    if (status && status.textContent.trim() === text && !(tr.dataset.contract in window.finalSeen)) {
      window.finalSeen[tr.dataset.contract] = Date.now();
    }
  });
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true});
  look();
}"""


def wait_in_page(page: Page, condition, timeout: float, message: str) -> None:
    """Wait for a condition on the request log: Playwright hands its events over only while the
    test calls it, so this waits in the page rather than sleeping."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        page.wait_for_timeout(100)


def confirmed_subscribers(app, contract_ids: list[int], status: str) -> None:
    def all_confirmed():
        with app.app_context():
            found = db.session.scalars(db.select(Subscription).where(Subscription.contract_id.in_(contract_ids)))
            return all(s.remote_status == status for s in found)

    wait_until(all_confirmed, timeout=WORKER_TIMEOUT / 1000, message=f"subscribers {status}")


def subscription_ids(app, contract_ids: list[int]) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            db.select(Subscription.contract_id, Subscription.id).where(Subscription.contract_id.in_(contract_ids))
        )
        return dict(rows.all())


def test_a_row_action_on_a_list_is_followed_with_the_other_rows_in_one_request_per_round(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contracts = [
        synced_contract(app, ittv, document=cpf, name=f"Cliente {n}", email=f"c{n}@example.com.br")
        for n, cpf in enumerate(CPFS[:3])
    ]
    confirmed_subscribers(app, contracts, "active")
    subscriptions = subscription_ids(app, contracts)
    operator = make_user("operador", name="Olga Operadora")
    # ITTV answers each of the next three blocks slowly: the rows stay on their way a while.
    ittv.sandbox.inject("slow", delay=2, count=3, match="PUT /alpha/reseller/customer")

    log_in(page, live_server, operator.username)
    page.goto(live_server + TV)
    expect(row(page, contracts[0]).get_by_test_id("remote-status")).to_have_text("Ativo")
    # The operator blocks one row; two other requests (another operator's) come right after it.
    press_and_confirm(
        page, "Bloqueio total dos pontos deste contrato", "Bloqueio total", within=row(page, contracts[0])
    )
    expect(flash(page, f"Contrato {contracts[0]}: Bloqueio total solicitado.")).to_be_visible()
    for contract_id in contracts[1:]:
        act(app, contract_id, "block")

    log = RequestLog(page)
    open_tab(page, "Assinantes bloqueados")
    followed = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-poll-batch]'), e => Number(e.dataset.pollId))"
    )
    page.evaluate(WATCH_ROWS, "Bloqueio total")
    assert len(followed) >= 2, followed  # several rows on their way when the page opened

    for contract_id in contracts:
        subscriber = row(page, contract_id)
        expect(subscriber.get_by_test_id("remote-status")).to_have_text("Bloqueio total", timeout=WORKER_TIMEOUT)
        expect(subscriber.get_by_test_id("operation-state")).to_have_count(0)
    expect(page.locator("[data-poll-batch]")).to_have_count(0)
    asked = len(log.batches)
    page.wait_for_timeout(2_000)  # several rounds' worth: nothing is asked once every row is final

    # One request per round for the whole page, never one per row, never two at once.
    assert log.one_row == []
    assert log.batches and log.most_in_flight == 1 and len(log.batches) == asked
    assert log.batches[0][1] == set(followed)  # all the rows the page follows, in one request
    for (_, earlier), (_, later) in zip(log.batches, log.batches[1:], strict=False):
        assert later <= earlier  # finished rows are dropped from the next rounds
    assert set(followed) <= set(subscriptions.values())

    # How long after each operation ended the row showed it (printed, not asserted).
    seen = page.evaluate("() => window.finalSeen")
    with app.app_context():
        for contract_id in contracts:
            operation = db.session.scalars(
                db.select(Operation)
                .where(Operation.subscription_id == subscriptions[contract_id])
                .order_by(Operation.id.desc())
            ).first()
            if str(contract_id) in seen and operation.finished_at is not None:
                late = seen[str(contract_id)] / 1000 - operation.finished_at.timestamp()
                print(f"contract {contract_id}: shown {late:.2f} s after its operation ended")
    print(f"{len(log.batches)} status request(s): {[sorted(ids) for _, ids in log.batches]}")


def test_a_page_in_the_background_asks_nothing_until_it_is_shown_again(
    app, page: Page, live_server, make_user, sandbox_for, worker
):
    ittv = platform_at(app, sandbox_for("ittv"))
    contract_id = synced_contract(app, ittv)
    confirmed_subscribers(app, [contract_id], "active")
    ittv.sandbox.inject("slow", delay=6, match="PUT /alpha/reseller/customer")
    act(app, contract_id, "block")
    reader = make_user("leitura", name="Lia Leitora")

    log_in(page, live_server, reader.username)
    log = RequestLog(page)
    page.goto(f"{live_server}{TV}?aba=bloqueados")
    expect(row(page, contract_id).get_by_test_id("operation-state")).to_contain_text("Em execução")
    wait_in_page(page, lambda: len(log.batches) >= 1, timeout=10, message="a first status request")

    # The page goes to the background: once the request on its way is answered, nothing more.
    page.evaluate(
        """() => {
      Object.defineProperty(document, "hidden", {configurable: true, get: () => window.pageHidden === true});
      window.pageHidden = true;
      document.dispatchEvent(new Event("visibilitychange"));
    }"""
    )
    wait_in_page(page, lambda: log.in_flight == 0, timeout=10, message="the request on its way")
    asked = len(log.batches)
    page.wait_for_timeout(2_500)  # several rounds' worth
    assert len(log.batches) == asked

    # Shown again: it asks at once, and follows the row to its end.
    with page.expect_request(lambda request: urlsplit(request.url).path == ESTADO, timeout=5_000):
        page.evaluate("() => { window.pageHidden = false; document.dispatchEvent(new Event('visibilitychange')); }")
    expect(row(page, contract_id).get_by_test_id("remote-status")).to_have_text(
        "Bloqueio total", timeout=WORKER_TIMEOUT
    )
    assert log.most_in_flight == 1 and log.one_row == []
