"""Watch Brasil: our model of its reseller API (DESIGN.md, "Platforms — the wire contracts").

**Credentials and token.** The account stores a client id and a client secret (packed by the
kind). A call needs an access token: ``oauth/authenticate`` (client id and secret → a code), then
``oauth/token`` (→ the token and its lifetime). The token is kept in the injected ``TokenCache``
(Redis in the worker: every job and worker of this account shares it, for its lifetime minus a
margin) under a hash of server and credentials — never the credentials themselves, never the
database, never a log line. Asking for one happens under the cache's lock, and whoever gets the
lock looks in the cache again first: concurrent jobs ask Watch once. A call answered HTTP 401
(expired or revoked token) drops that token, gets a new one and is repeated — once.

**Errors.** Watch answers an envelope, usually with HTTP 200: ``HasError`` + ``IsValidationError``
is a refusal (PermanentError with Watch's ``Messages``, personal data masked); ``HasError`` alone is
Watch failing (RetryableError); 429 (``Retry-After``) and 5xx are retryable; wrong credentials are a
refusal of the authentication (PermanentError, reported as HTTP 401 like a refused token).

**Subscribers and tickets.** A subscriber is an e-mail holding one ticket per package; we find
ours by our reference (``pAssinanteIDIntegracao``): the paged ticket list filtered by it — an
assumption (the contract documents that filter only with e-mail and package), kept here and in
the sandbox. Our ``external_id`` for it is our reference too (the e-mail is personal data; ids are
shown and logged). Active = every package of the plan has an
active ticket; blocked = all of them inactive; cancelled = no tickets (``delete`` each one). No
partial block. ``create`` is lookup-then-insert per package: our reference's tickets first, then
the e-mail's ticket for that package; a package already holding a ticket is never inserted again,
and an insert refused with "já possui ticket" (a lost answer, or a concurrent job) takes the
ticket that exists — so a lost response never makes a second ticket. A ticket of that e-mail and
package under another reference is refused (another contract has it). A plan change is the
difference of tickets: insert the missing packages, delete the others, then set every ticket's
status. Blocking and unblocking update every ticket that differs.

**A changed e-mail.** The e-mail is Watch's key and a ticket cannot move, so ``change_login``
moves the subscriber: for each ticket it inserts one for the new e-mail (same package, our
reference, same status) and then deletes the old one — insert first, so the subscriber never has
fewer packages than the plan; a retry after a failure in between finds the new tickets by
reference and only finishes the deletes. Since ``set_status`` is not given the person's data,
tickets it adds (a plan change) are inserted with the e-mail as ``pName`` and no phone; ``create``
sends the real name and phone. Reading back, tickets of our reference under two e-mails (a move cut
short) are reported under the newest e-mail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from panel.domain.kinds.watch import WATCH
from panel.domain.vocabulary import (
    AccessStatus,
    CatalogueItem,
    PlanProducts,
    RemoteSubscriber,
    SubscriberData,
    SubscriberRef,
)
from panel.formats import sentence
from panel.providers.base import Provider, RemoteState
from panel.providers.errors import PermanentError, RetryableError
from panel.providers.http import Answer, JsonHttpClient, Timeouts
from panel.providers.tokens import LocalTokenCache, TokenCache

AUTHENTICATE = "/watch/v1/oauth/authenticate"
TOKEN = "/oauth/token"
PACKAGES = "/watch/v1/pacotes/list"
INSERT = "/watch/v2/assinantes/insert"
TICKETS = "/watch/v2/tickets/get"
UPDATE_STATUS = "/watch/v1/tickets/updatestatus"
DELETE = "/watch/v1/tickets/delete"
REDIRECT_URL = "https://painel-sva.invalid/oauth"  # required by the form; nothing is redirected
TOKEN_MARGIN_S = 60  # a token is dropped this long before Watch says it expires
PAGE_SIZE = 100
MAX_PAGES = 10_000  # 1 million tickets: a list that never ends is Watch's fault, not a loop of ours
ALREADY_HAS_TICKET = "possui ticket"
_PRINTABLE = re.compile(r"[\x21-\x7e]+")  # what Configurações accepts in a credential

ACTIVE, INACTIVE, MIXED, CANCELLED = "ativo", "inativo", "misto", "sem tickets"
_PLATFORM_STATUS = {AccessStatus.ACTIVE: ACTIVE, AccessStatus.BLOCKED: INACTIVE, AccessStatus.CANCELLED: CANCELLED}


class WatchProvider(Provider):
    platform_kind = WATCH

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeouts: Timeouts | None = None,
        public_only: bool = False,
        token_cache: TokenCache | None = None,
    ) -> None:
        credentials = WATCH.unpack_credentials(token.strip())
        self._client_id, self._client_secret = credentials["client_id"], credentials["client_secret"]
        self.token_cache = token_cache if token_cache is not None else LocalTokenCache()
        self.http = JsonHttpClient(
            base_url,
            None,  # the bearer token comes from Watch (``_token``)
            platform=self.label,
            timeouts=timeouts or Timeouts(),
            message_of=self.platform_message,
            public_only=public_only,
            secrets=(self._client_id, self._client_secret),
        )
        account = "\n".join((self.http.base_url, self._client_id, self._client_secret))
        self._cache_key = "watch:" + hashlib.sha256(account.encode()).hexdigest()

    @staticmethod
    def platform_message(body: object) -> tuple[str | None, str | None]:
        messages = body.get("Messages") if isinstance(body, dict) else None
        if isinstance(messages, list):
            text = " ".join(str(message) for message in messages if isinstance(message, str | int | float))
            return (text or None), None
        return None, None

    # -- the token ----------------------------------------------------------------------------

    def _token(self) -> str:
        token = self.token_cache.get(self._cache_key)
        if token:
            return token
        with self.token_cache.lock(self._cache_key):
            token = self.token_cache.get(self._cache_key)  # another job may have just got one
            if not token:
                token, lifetime = self._new_token()
                self.token_cache.put(self._cache_key, token, max(1.0, lifetime - TOKEN_MARGIN_S))
        return token

    def _new_token(self) -> tuple[str, float]:
        values = (self._client_id, self._client_secret)
        if not any(values) or not all(_PRINTABLE.fullmatch(value) for value in values if value):
            # Checked here, not by Watch: nothing is sent that cannot be what Configurações accepts.
            raise PermanentError(
                f"As credenciais de {self.label} (client id e client secret, com que o painel pede o token) "
                "estão vazias ou têm caracteres inválidos; confira em Configurações."
            )
        code = self._result(
            self.http.request(
                "POST",
                AUTHENTICATE,
                data={
                    "client_id": self._client_id,
                    "redirect_url": REDIRECT_URL,
                    "approval_prompt": "false",
                    "uid": self._client_secret,
                },
            ),
            authenticating=True,
        )
        code = code.get("code") if isinstance(code, dict) else None
        if not isinstance(code, str) or not code:
            raise _unexpected("o código de autorização")
        result = self._result(
            self.http.request(
                "POST",
                TOKEN,
                data={
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "code": code,
                    "grant_type": "password",
                },
            ),
            authenticating=True,
        )
        granted = result[0] if isinstance(result, list) and result else result
        token = granted.get("access_token") if isinstance(granted, dict) else None
        if not isinstance(token, str) or not token:
            raise _unexpected("o access_token")
        try:
            lifetime = float(granted.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return token, lifetime

    # -- one call -----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        sensitive: tuple[str, ...] = (),
    ) -> Any:
        """The ``Result`` of one authenticated call; a 401 renews the token and repeats it once."""
        token = self._token()
        self.http.use_token(token)
        try:
            answer = self.http.request(method, path, params=params, data=data, sensitive=sensitive)
        except PermanentError as refused:
            if refused.status_code != 401:
                raise
            self.token_cache.discard(self._cache_key, token)
            self.http.drop_token()
            self.http.use_token(self._token())
            answer = self.http.request(method, path, params=params, data=data, sensitive=sensitive)
        return self._result(answer, sensitive)

    def _result(self, answer: Answer, sensitive: tuple[str, ...] = (), *, authenticating: bool = False) -> Any:
        body = answer.body
        if not isinstance(body, dict) or not isinstance(body.get("HasError"), bool):
            raise _unexpected("o envelope HasError/Result")
        if not body["HasError"]:
            return body.get("Result")
        said = self.http.redact(self.platform_message(body)[0] or "", sensitive) or "sem mensagem"
        if not body.get("IsValidationError"):
            raise RetryableError(f"{self.label} respondeu com erro: {said}", status_code=answer.status)
        if authenticating:
            raise PermanentError(
                f"{self.label} recusou as credenciais: {sentence(said)} "
                "Confira o client id e o client secret em Configurações.",
                status_code=401,
                platform_message=said,
            )
        raise PermanentError(
            f"{self.label} recusou a requisição: {said}", status_code=answer.status, platform_message=said
        )

    # -- reads --------------------------------------------------------------------------------

    def list_products(self) -> list[CatalogueItem]:
        result = self._call("GET", PACKAGES)
        items = result.get("list") if isinstance(result, dict) else None
        if not isinstance(items, list):
            raise _unexpected("a lista de pacotes")
        return [
            CatalogueItem(code=str(_field(item, "IDPacote")), name=str(item.get("Nome") or item["IDPacote"]))
            for item in items
        ]

    def get(self, ref: SubscriberRef) -> RemoteSubscriber | None:
        tickets = list(self._pages({"pAssinanteIDIntegracao": ref.external_ref}))
        return _remote(ref.external_ref, tickets) if tickets else None

    def list_subscribers(self) -> Iterator[RemoteSubscriber]:
        """One subscriber per reference of ours (the tickets of every page, grouped)."""
        grouped: dict[str, list[dict]] = {}
        for ticket in self._pages({}):
            reference = str(ticket.get("IDIntegracaoAssinante") or "")
            grouped.setdefault(reference or str(ticket["Email"]).casefold(), []).append(ticket)
        for reference, tickets in grouped.items():
            yield _remote(reference if tickets[0].get("IDIntegracaoAssinante") else None, tickets)

    def _pages(self, filters: dict[str, str]) -> Iterator[dict]:
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            tickets = self._list(self._call("GET", TICKETS, params={**filters, "pPagina": str(page)}))
            fresh = [ticket for ticket in tickets if ticket["Ticket"] not in seen]
            if not fresh:
                return
            seen.update(ticket["Ticket"] for ticket in fresh)
            yield from fresh
            if len(tickets) < PAGE_SIZE:  # a short page is the last one: no call for the empty one
                return
        raise PermanentError(f"{self.label} não terminou a lista de tickets em {MAX_PAGES} páginas.")

    def _ticket_for(self, email: str, package: str) -> dict | None:
        params = {"pPacote": package, "pEmailUsuario": email}
        tickets = self._list(self._call("GET", TICKETS, params=params, sensitive=(email,)))
        return tickets[0] if tickets else None

    @staticmethod
    def _list(result: object) -> list[dict]:
        tickets = result.get("list") if isinstance(result, dict) else None
        if not isinstance(tickets, list):
            raise _unexpected("a lista de tickets")
        for ticket in tickets:
            for key in ("Ticket", "Email", "IDPacote"):
                _field(ticket, key)
        return tickets

    # -- writes -------------------------------------------------------------------------------

    def create(self, data: SubscriberData, status: AccessStatus = AccessStatus.ACTIVE) -> RemoteSubscriber:
        self.check_status_supported(status)
        if status is AccessStatus.CANCELLED:
            raise PermanentError(f"Não há o que criar na {self.label} para um assinante cancelado.")
        tickets = {_code(t): t for t in self._pages({"pAssinanteIDIntegracao": data.external_ref})}
        for package in data.plan.codes:
            if package not in tickets:
                tickets[package] = self._ensure_ticket(data.email, package, data.external_ref, data)
        return self._converge(data.external_ref, data.email, list(tickets.values()), status, data.plan)

    def _ensure_ticket(self, email: str, package: str, reference: str, data: SubscriberData | None) -> dict:
        """The ticket of ``email`` for ``package``: the one Watch has, or a new one."""
        found = self._ticket_for(email, package) if email else None
        if found is None:
            sent = {
                "pEmail": email,
                "pName": data.name if data else email,
                "pPhone": data.phone if data else "",
                "pPacote": package,
                "pAssinanteIDIntegracao": reference,
            }
            sensitive = data.personal_values() if data else (email,)
            try:
                result = self._call("POST", INSERT, data=sent, sensitive=sensitive)
            except PermanentError as refused:
                if ALREADY_HAS_TICKET not in (refused.platform_message or ""):
                    raise
                found = self._ticket_for(email, package)  # a lost answer, or a job beside us: take it
                if found is None:
                    raise
            else:
                ticket = result.get("ticket") if isinstance(result, dict) else None
                if not isinstance(ticket, str) or not ticket:
                    raise _unexpected("o ticket criado") from None
                return {
                    "Ticket": ticket,
                    "IDIntegracaoAssinante": reference,
                    "Email": email,
                    "IDPacote": package,
                    "Ativo": True,
                }
        if str(found.get("IDIntegracaoAssinante") or "") != reference:
            raise PermanentError(
                f"Este e-mail já tem um ticket do pacote {package} na {self.label}, de outro assinante "
                "(outra referência): cancele o outro contrato ou use outro e-mail."
            )
        return found

    def target(self, status: AccessStatus, plan: PlanProducts) -> RemoteState:
        self.check_status_supported(status)
        products = () if status is AccessStatus.CANCELLED else plan.codes
        return RemoteState(_PLATFORM_STATUS[status], products)

    def set_status(self, current: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> RemoteSubscriber:
        self.check_status_supported(status)
        if self.matches(current, status, plan):
            return current
        reference = current.external_ref or ""
        tickets = list(self._pages({"pAssinanteIDIntegracao": reference})) if reference else []
        if not tickets and status is not AccessStatus.CANCELLED:
            raise PermanentError(
                f"O assinante não tem tickets na {self.label} (foi cancelado): use Sincronizar para criá-lo de novo."
            )
        email = _newest_email(tickets) if tickets else current.email
        return self._converge(reference, email, tickets, status, plan)

    def _converge(
        self, reference: str, email: str, tickets: list[dict], status: AccessStatus, plan: PlanProducts
    ) -> RemoteSubscriber:
        """Bring ``tickets`` (as just read) to ``status`` under ``plan``: the difference only."""
        wanted = () if status is AccessStatus.CANCELLED else plan.codes
        held = {_code(t): t for t in tickets}
        for package in wanted:
            if package not in held:
                held[package] = self._ensure_ticket(email, package, reference, None)
        for package, ticket in list(held.items()):
            if package not in wanted:
                self._call("POST", DELETE, data={"pTicket": ticket["Ticket"], "pEmail": ticket["Email"]})
                del held[package]
        active = status is AccessStatus.ACTIVE
        for ticket in held.values():
            if bool(ticket.get("Ativo")) != active:
                self._call("POST", UPDATE_STATUS, data={"pTicket": ticket["Ticket"], "pStatus": str(active).lower()})
                ticket["Ativo"] = active
        return _remote(reference, list(held.values()), email=email)

    def change_login(self, current: RemoteSubscriber, *, username: str, email: str) -> RemoteSubscriber:
        """Move the tickets to a new e-mail (see the module's docstring)."""
        reference = current.external_ref or ""
        tickets = list(self._pages({"pAssinanteIDIntegracao": reference})) if reference else []
        by_package: dict[str, list[dict]] = {}
        for ticket in tickets:
            by_package.setdefault(_code(ticket), []).append(ticket)
        kept: list[dict] = []
        for package, held in by_package.items():
            moved = next((t for t in held if t["Email"].casefold() == email.casefold()), None)
            if moved is None:
                moved = self._ensure_ticket(email, package, reference, None)
                active = any(bool(t.get("Ativo")) for t in held)
                if bool(moved.get("Ativo")) != active:
                    self._call("POST", UPDATE_STATUS, data={"pTicket": moved["Ticket"], "pStatus": str(active).lower()})
                    moved["Ativo"] = active
            for old in held:
                if old["Ticket"] != moved["Ticket"]:
                    self._call("POST", DELETE, data={"pTicket": old["Ticket"], "pEmail": old["Email"]})
            kept.append(moved)
        return _remote(reference, kept, email=email) if kept else current

    def change_password(self, current: RemoteSubscriber, password: str) -> None:
        raise PermanentError(f"A {self.label} não tem senha para alterar.")


def _code(ticket: dict) -> str:
    return str(ticket["IDPacote"])


def _newest_email(tickets: list[dict]) -> str:
    """The e-mail of the ticket inserted last (tickets come back in insertion order)."""
    return str(tickets[-1]["Email"])


def _remote(reference: str | None, tickets: list[dict], *, email: str | None = None) -> RemoteSubscriber:
    email = email or (_newest_email(tickets) if tickets else "")
    states = {bool(ticket.get("Ativo")) for ticket in tickets}
    status = CANCELLED if not tickets else ACTIVE if states == {True} else INACTIVE if states == {False} else MIXED
    return RemoteSubscriber(
        # Our reference, not the e-mail (Watch's key): an id is shown and logged, an e-mail is personal.
        external_id=reference or ",".join(sorted(str(ticket["Ticket"]) for ticket in tickets)),
        external_ref=reference,
        document="",  # Watch keeps none
        email=email,
        platform_status=status,
        products=tuple(sorted({_code(ticket) for ticket in tickets})),
    )


def _field(item: object, key: str) -> object:
    if not isinstance(item, dict) or item.get(key) in (None, ""):
        raise _unexpected(f"o campo {key!r}")
    return item[key]


def _unexpected(what: str) -> PermanentError:
    return PermanentError(f"Watch Brasil respondeu num formato inesperado (faltou {what}).")
