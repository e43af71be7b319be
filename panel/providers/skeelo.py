"""Skeelo: our model of its API (DESIGN.md, "Platforms — the wire contracts").

Subscribers are addressed by our own reference (``external_id``), so creating is idempotent by
construction: look it up, create it when missing, and take the existing one on a 409.

How our statuses map onto it: active = ``active`` with the plan's products; total block =
``inactive``; cancelled = ``cancelled``, final (any later change answers 409). Skeelo has no
partial block; the panel does not offer one for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from panel.domain.kinds.skeelo import SKEELO
from panel.domain.vocabulary import (
    AccessStatus,
    CatalogueItem,
    PlanProducts,
    RemoteSubscriber,
    SubscriberData,
    SubscriberRef,
)
from panel.providers.base import Provider, RemoteState
from panel.providers.errors import PermanentError
from panel.providers.http import Answer

SUBSCRIBERS = "/v1/subscribers"
CANCELLED = "cancelled"
_PLATFORM_STATUS = {AccessStatus.ACTIVE: "active", AccessStatus.BLOCKED: "inactive", AccessStatus.CANCELLED: CANCELLED}


class SkeeloProvider(Provider):
    platform_kind = SKEELO

    @staticmethod
    def platform_message(body: object) -> tuple[str | None, str | None]:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message, code = error.get("message"), error.get("code")
            return (message if isinstance(message, str) else None), (code if isinstance(code, str) else None)
        return None, None

    # -- reads --------------------------------------------------------------------------------

    def list_products(self) -> list[CatalogueItem]:
        items = self.http.request("GET", "/v1/products").body
        if not isinstance(items, list):
            raise _unexpected("uma lista de produtos")
        return [
            CatalogueItem(code=str(_field(item, "code")), name=str(item.get("name") or item["code"])) for item in items
        ]

    def get(self, ref: SubscriberRef) -> RemoteSubscriber | None:
        answer = self.http.request("GET", _path(ref.external_ref), accept=(404,))
        return None if answer.status == 404 else _remote(answer.body)

    def list_subscribers(self) -> Iterator[RemoteSubscriber]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.http.request("GET", SUBSCRIBERS, params={"cursor": cursor} if cursor else None).body
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise _unexpected("uma página de assinantes")
            yield from (_remote(item) for item in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise PermanentError("Skeelo repetiu uma página da lista de assinantes (cursor inválido).")
            seen.add(cursor)

    # -- writes -------------------------------------------------------------------------------

    def create(self, data: SubscriberData, status: AccessStatus = AccessStatus.ACTIVE) -> RemoteSubscriber:
        self.check_status_supported(status)
        existing = self.get(data.ref)
        if existing is None:
            answer = self.http.request(
                "POST",
                SUBSCRIBERS,
                json={
                    "external_id": data.external_ref,
                    "name": data.name,
                    "document": data.document,
                    "email": data.email,
                    "products": list(data.plan.codes),
                },
                sensitive=data.personal_values(),
                accept=(409,),
            )
            if answer.status == 409:
                # The external_id exists: an earlier create whose answer we lost. Skeelo sends
                # the existing subscriber back; read it if it did not.
                existing = self._existing_after_conflict(answer, data)
            else:
                existing = _remote(answer.body, sent=data)
        return self.set_status(existing, status, data.plan)

    def _existing_after_conflict(self, answer: Answer, data: SubscriberData) -> RemoteSubscriber:
        body = answer.body
        if isinstance(body, dict) and isinstance(body.get("subscriber"), dict):
            return _remote(body["subscriber"], sent=data)
        found = self.get(data.ref)
        if found is None:
            raise self.http.refusal(answer, data.personal_values())
        return found

    def target(self, status: AccessStatus, plan: PlanProducts) -> RemoteState:
        self.check_status_supported(status)
        products = plan.codes if status is AccessStatus.ACTIVE else None
        return RemoteState(_PLATFORM_STATUS[status], products)

    def set_status(self, current: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> RemoteSubscriber:
        wanted = self.target(status, plan)
        changes: dict[str, object] = {}
        if current.platform_status != wanted.platform_status:
            changes["status"] = wanted.platform_status
        if wanted.products is not None and set(current.products) != set(wanted.products):
            changes["products"] = list(wanted.products)
        return self._patch(current, changes)

    def _patch(self, current: RemoteSubscriber, changes: dict[str, object]) -> RemoteSubscriber:
        if not changes:
            return current
        if current.platform_status == CANCELLED:
            raise PermanentError(
                "O assinante está cancelado na Skeelo; o cancelamento é definitivo (é preciso um novo contrato).",
                code="subscriber_cancelled",
            )
        answer = self.http.request(
            "PATCH", _path(current.external_ref or ""), json=changes, sensitive=current.personal_values()
        )
        return _remote(answer.body)

    def change_login(self, current: RemoteSubscriber, *, username: str, email: str) -> RemoteSubscriber:
        raise PermanentError("A Skeelo não tem dados de login para alterar.")

    def change_password(self, current: RemoteSubscriber, password: str) -> None:
        raise PermanentError("A Skeelo não tem senha para alterar.")


def _path(external_ref: str) -> str:
    return f"{SUBSCRIBERS}/{quote(external_ref, safe='')}"


def _remote(item: object, *, sent: SubscriberData | None = None) -> RemoteSubscriber:
    """A subscriber from Skeelo's answer. The contract promises only ``{id, external_id,
    status}`` when creating: what it leaves out is what we sent."""
    products = item.get("products") if isinstance(item, dict) else None
    if not isinstance(products, list):
        products = list(sent.plan.codes) if sent else []
    return RemoteSubscriber(
        external_id=str(_field(item, "id")),
        external_ref=str(_field(item, "external_id")),
        document=str(item.get("document") or (sent.document if sent else "")),
        email=str(item.get("email") or (sent.email if sent else "")),
        platform_status=str(_field(item, "status")),
        products=tuple(str(code) for code in products),
        name=str(item.get("name") or (sent.name if sent else "")),
    )


def _field(item: object, key: str) -> object:
    if not isinstance(item, dict) or item.get(key) in (None, ""):
        raise _unexpected(f"o campo {key!r}")
    return item[key]


def _unexpected(what: str) -> PermanentError:
    return PermanentError(f"Skeelo respondeu num formato inesperado (faltou {what}).")
