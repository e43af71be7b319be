"""ITTV / PlayHub: its public reseller API (DESIGN.md, "Platforms — the wire contracts").

How our statuses map onto it: a customer holds one ``status`` (ACTIVE / INACTIVE) and one
``product`` (a sigla).
- active: ACTIVE with the plan's full product;
- partial block: ACTIVE with the plan's base product;
- total block and cancelled: INACTIVE (ITTV has no cancelled state; the product is left alone).

A customer holds one product, so a plan for ITTV has one full package and at most one base
package (its kind's rule, panel.domain.kinds.ittv, refuses others): the *full* product is its
package that is not a base one (or its only package), the *base* product its base package.
Creating sends the base product, as the wire contract says, and then moves an active customer to
the full one.

The API documents no reads; we assume ``GET /alpha/reseller/customer?cpf=`` and
``GET /alpha/reseller/product`` (see DESIGN.md) and keep that assumption in this module.
Customers are found by CPF/CNPJ: ITTV keeps no reference of ours, and refuses a second customer
with the same document, so the document is what makes creating idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote

from panel.domain.kinds.ittv import ITTV
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

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
CUSTOMERS = "/alpha/reseller/customer"


class IttvProvider(Provider):
    platform_kind = ITTV

    @staticmethod
    def platform_message(body: object) -> tuple[str | None, str | None]:
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"], None
        return None, None

    # -- reads --------------------------------------------------------------------------------

    def list_products(self) -> list[CatalogueItem]:
        items = self.http.request("GET", "/alpha/reseller/product").body
        return [
            CatalogueItem(code=str(_field(item, "_id")), name=str(item.get("name") or item["_id"]))
            for item in _list(items)
        ]

    def get(self, ref: SubscriberRef) -> RemoteSubscriber | None:
        found = self._customers(cpf=ref.document)
        if ref.external_id is None:
            return found[0] if found else None
        for customer in found:
            if customer.external_id == ref.external_id:
                return customer
        # Our document changed after the customer was created (ITTV cannot change a CPF):
        # find the customer by its id in the full list rather than create a second one.
        return next((c for c in self.list_subscribers() if c.external_id == ref.external_id), None)

    def list_subscribers(self) -> Iterator[RemoteSubscriber]:
        yield from self._customers()

    def _customers(self, cpf: str | None = None) -> list[RemoteSubscriber]:
        answer = self.http.request(
            "GET", CUSTOMERS, params={"cpf": cpf} if cpf is not None else None, sensitive=(cpf or "",)
        )
        return [_remote(item) for item in _list(answer.body)]

    # -- writes -------------------------------------------------------------------------------

    def create(self, data: SubscriberData, status: AccessStatus = AccessStatus.ACTIVE) -> RemoteSubscriber:
        self.check_status_supported(status)
        existing = self.get(data.ref)
        if existing is None:
            existing = self._post_customer(data, status)
        return self.set_status(existing, status, data.plan)

    def _post_customer(self, data: SubscriberData, status: AccessStatus) -> RemoteSubscriber:
        platform_status = self.target(status, data.plan).platform_status
        product = _base_code(data.plan) or _full_code(data.plan)
        body = {
            "name": data.name,
            "cpf": data.document,
            "status": platform_status,
            "phone": data.phone,
            "email": data.email,
            "username": data.username or data.email,  # the seed's default login...
            "password": data.password or data.document,  # ...and password
            "zipcode": data.zipcode,
            "product": product,
            "address": data.street,
            "city": data.city,
            "number": data.number,
            "state": data.state,
        }
        if data.complement:
            body["complement"] = data.complement
        try:
            answer = self.http.request("POST", CUSTOMERS, json=body, sensitive=data.personal_values())
        except PermanentError as refused:
            # 409 (or 400) for a CPF that exists: an earlier create whose answer we lost, or a
            # customer made by hand. Take it if it is there; otherwise the refusal stands.
            if refused.status_code in (400, 409):
                found = self.get(data.ref)
                if found is not None:
                    return found
            raise
        customer_id = _field(answer.body, "_id")
        return RemoteSubscriber(
            external_id=str(customer_id),
            external_ref=None,
            document=data.document,
            email=data.email,
            platform_status=platform_status,
            products=(product,),
        )

    def target(self, status: AccessStatus, plan: PlanProducts) -> RemoteState:
        self.check_plan(plan)
        if status is AccessStatus.ACTIVE:
            return RemoteState(ACTIVE, (_full_code(plan),))
        if status is AccessStatus.PARTIAL_BLOCK:
            base = _base_code(plan)
            if base is None:
                raise PermanentError("O plano não tem pacote base na ITTV: o bloqueio parcial não é possível.")
            return RemoteState(ACTIVE, (base,))
        return RemoteState(INACTIVE, None)

    def set_status(self, current: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> RemoteSubscriber:
        self.check_status_supported(status)
        wanted = self.target(status, plan)
        remote = current
        # The product changes before the customer is activated, so a partial block lifted from
        # a total block never shows the full product for a moment.
        if wanted.products is not None and remote.products != wanted.products:
            remote = self._order(remote, wanted.products[0])
        if remote.platform_status != wanted.platform_status:
            self.http.request(
                "PUT",
                f"{_path(remote)}/status",
                json={"status": wanted.platform_status},
                sensitive=remote.personal_values(),
            )
            remote = replace(remote, platform_status=wanted.platform_status)
        return remote

    def _order(self, current: RemoteSubscriber, product: str) -> RemoteSubscriber:
        self.http.request(
            "PUT", f"{_path(current)}/order", json={"idProduct": product}, sensitive=current.personal_values()
        )
        return replace(current, products=(product,))

    def change_login(self, current: RemoteSubscriber, *, username: str, email: str) -> RemoteSubscriber:
        self.http.request(
            "PUT",
            _path(current),
            json={"username": username, "email": email},
            sensitive=(username, email, *current.personal_values()),
        )
        return replace(current, email=email)

    def change_password(self, current: RemoteSubscriber, password: str) -> None:
        self.http.request(
            "POST",
            f"{_path(current)}/changepassword",
            json={"password": password},
            sensitive=(password, *current.personal_values()),
        )


def _full_code(plan: PlanProducts) -> str:
    return next((code for code in plan.codes if code not in plan.base_codes), plan.codes[0])


def _base_code(plan: PlanProducts) -> str | None:
    return plan.base_codes[0] if plan.base_codes else None


def _path(customer: RemoteSubscriber) -> str:
    return f"{CUSTOMERS}/{quote(customer.external_id, safe='')}"


def _remote(item: object) -> RemoteSubscriber:
    product = item.get("product") if isinstance(item, dict) else None
    return RemoteSubscriber(
        external_id=str(_field(item, "_id")),
        external_ref=None,
        document=str(item.get("cpf") or ""),
        email=str(item.get("email") or ""),
        platform_status=str(item.get("status") or ""),
        products=(str(product),) if product else (),
    )


def _list(body: object) -> list:
    if not isinstance(body, list):
        raise PermanentError("ITTV respondeu num formato inesperado (esperava uma lista).")
    return body


def _field(item: object, key: str) -> object:
    if not isinstance(item, dict) or item.get(key) in (None, ""):
        raise PermanentError(f"ITTV respondeu num formato inesperado (faltou {key!r}).")
    return item[key]
