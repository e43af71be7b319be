"""The one interface every platform adapter implements, and the typed values it speaks.

The panel thinks in access statuses (active, partial block, total block, cancelled) and in the
plan's packages; each adapter maps those onto its platform's own words and calls. Adapters read
before they write: ``create`` looks the subscriber up before creating it, and ``set_status``
sends only what differs from the state it was given, so a job that runs twice, or again after a
lost response, ends in the same platform state.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from panel.providers.errors import PermanentError
from panel.providers.http import JsonHttpClient, Timeouts


class AccessStatus(enum.StrEnum):
    """What a subscriber may use at the platform; desired and confirmed states use these words."""

    ACTIVE = "active"
    PARTIAL_BLOCK = "partial_block"  # ITTV: only the plan's base packages
    BLOCKED = "blocked"  # total block
    CANCELLED = "cancelled"  # final on platforms that know it; a new contract is needed

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    AccessStatus.ACTIVE: "Ativo",
    AccessStatus.PARTIAL_BLOCK: "Bloqueio parcial",
    AccessStatus.BLOCKED: "Bloqueio total",
    AccessStatus.CANCELLED: "Cancelado",
}


@dataclass(frozen=True, slots=True)
class Product:
    """One entry of a platform's catalogue; ``code`` is the sigla plans refer to."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PlanProducts:
    """The packages a plan gives at one platform, and which of them survive a partial block."""

    codes: tuple[str, ...]
    base_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.codes:
            raise ValueError("a plan needs at least one product at the platform")
        if not set(self.base_codes) <= set(self.codes):
            raise ValueError("base packages must be among the plan's packages")


@dataclass(frozen=True, slots=True)
class SubscriberRef:
    """How we find a subscriber at a platform: our stable reference, the document (ITTV finds
    customers by CPF/CNPJ) and, once known, the platform's own id."""

    external_ref: str
    document: str = field(repr=False)
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriberData:
    """Everything a platform may need to create a subscriber. Personal fields stay out of repr()
    so that a stray log line or traceback cannot print them."""

    external_ref: str
    name: str = field(repr=False)
    document: str = field(repr=False)  # CPF or CNPJ, digits only
    email: str = field(repr=False)
    plan: PlanProducts
    phone: str = field(default="", repr=False)
    zipcode: str = field(default="", repr=False)
    street: str = field(default="", repr=False)
    number: str = field(default="", repr=False)
    complement: str = field(default="", repr=False)
    city: str = field(default="", repr=False)
    state: str = field(default="", repr=False)  # UF
    # Login at platforms that have one (ITTV): by the seed's rule, e-mail and document digits.
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def ref(self) -> SubscriberRef:
        return SubscriberRef(self.external_ref, self.document)

    def personal_values(self) -> tuple[str, ...]:
        """Values that must never reach a log line or an error message: every personal field
        a platform may be sent, plus each word of the name and the e-mail's part before the @
        (a platform may quote them apart: "Prezado João"). ``redact`` leaves values shorter
        than three characters alone (the UF, a house number "12")."""
        fields = (
            self.name, self.document, self.email, self.phone, self.zipcode, self.street, self.number,
            self.complement, self.city, self.state, self.username, self.password,
        )
        words = re.findall(r"[^\W_]+", self.name)  # 'João "Jota"' → João, Jota
        logins = (value.partition("@")[0] for value in (self.email, self.username) if "@" in value)
        extra = (*words, *logins)
        return tuple(value for value in (*fields, *extra) if value)


@dataclass(frozen=True, slots=True)
class RemoteSubscriber:
    """A subscriber as the platform answered it, in the platform's own words."""

    external_id: str  # the platform's id (ITTV ``_id``, Skeelo ``id``)
    external_ref: str | None  # our reference as the platform keeps it (None where it keeps none)
    document: str = field(repr=False)
    email: str = field(repr=False)
    platform_status: str  # e.g. ACTIVE / INACTIVE (ITTV), active / inactive / cancelled (Skeelo)
    products: tuple[str, ...]

    def personal_values(self) -> tuple[str, ...]:
        """What we know of the person here, masked in what the platform answers about it."""
        local = self.email.partition("@")[0] if "@" in self.email else ""
        return tuple(value for value in (self.document, self.email, local) if value)


@dataclass(frozen=True, slots=True)
class RemoteState:
    """What the platform must hold for one of our access statuses, in its own words."""

    platform_status: str
    products: tuple[str, ...] | None  # None: the packages do not matter in this state


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The answer of *Testar conexão*: the platform took our token and showed its catalogue."""

    product_count: int

    @property
    def message(self) -> str:
        return f"Conexão OK ({self.product_count} produto(s) no catálogo)."


class Provider(ABC):
    """A platform adapter. One instance holds one HTTP session (connections are reused) and is
    used by one thread at a time; ``close()`` it, or use it as a context manager."""

    kind: ClassVar[str]  # registry key, stored on each platform row
    label: ClassVar[str]  # shown to operators, e.g. "ITTV / PlayHub"
    role_label: ClassVar[str]  # how the seeds call it: operadora, fornecedor
    # The statuses this platform can hold; the panel offers only these for it.
    supported_statuses: ClassVar[frozenset[AccessStatus]]
    # Whether subscribers log in with a username and password we set (ITTV does, Skeelo not).
    has_login: ClassVar[bool] = False
    # The access plans served by this platform: "tv_ott" (an operadora) or "sva" (a fornecedor).
    plan_type: ClassVar[str]
    # Seed rules of the platform: one synced contract per client (ITTV finds customers by CPF),
    # and a reactivated contract's subscriber stays blocked until the operator unblocks it.
    one_contract_per_client: ClassVar[bool] = False
    reactivation_needs_unblock: ClassVar[bool] = False

    def __init__(
        self, base_url: str, token: str, *, timeouts: Timeouts | None = None, public_only: bool = False
    ) -> None:
        """``public_only`` (production): calls reach only public addresses (``JsonHttpClient``)."""
        self.http = JsonHttpClient(
            base_url,
            token,
            platform=self.label,
            timeouts=timeouts or Timeouts(),
            message_of=self.platform_message,
            public_only=public_only,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- what every adapter implements ------------------------------------------------------

    @staticmethod
    @abstractmethod
    def platform_message(body: object) -> tuple[str | None, str | None]:
        """The platform's (message, error code) from an error body, as far as it gives them."""

    @abstractmethod
    def list_products(self) -> list[Product]:
        """The platform's catalogue."""

    @abstractmethod
    def get(self, ref: SubscriberRef) -> RemoteSubscriber | None:
        """The subscriber as the platform has it now, or None when it has none."""

    @abstractmethod
    def create(self, data: SubscriberData, status: AccessStatus = AccessStatus.ACTIVE) -> RemoteSubscriber:
        """Make sure the platform has this subscriber, in ``status``: looks it up first and
        creates it only when missing (a create repeated after a lost response finds the first)."""

    @abstractmethod
    def set_status(self, current: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> RemoteSubscriber:
        """Bring ``current`` (as just read from the platform) to ``status`` under ``plan``,
        sending only what differs."""

    @abstractmethod
    def change_login(self, current: RemoteSubscriber, *, username: str, email: str) -> RemoteSubscriber:
        """Update the login data (ITTV: username and e-mail)."""

    @abstractmethod
    def change_password(self, current: RemoteSubscriber, password: str) -> None:
        """Set the subscriber's password at the platform."""

    @abstractmethod
    def list_subscribers(self) -> Iterator[RemoteSubscriber]:
        """Every subscriber of our account at the platform, for reconciliation."""

    @abstractmethod
    def target(self, status: AccessStatus, plan: PlanProducts) -> RemoteState:
        """How this platform expresses ``status`` for a subscriber of ``plan``."""

    # -- shared behaviour -------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        """Proves the server URL and the token: an authenticated read of the catalogue."""
        return ConnectionCheck(product_count=len(self.list_products()))

    def change_products(self, current: RemoteSubscriber, plan: PlanProducts, *, status: AccessStatus) -> RemoteSubscriber:
        """Move the subscriber to another plan's packages, keeping ``status`` (a plan change
        never lifts a block): the same convergence as ``set_status``, under the new plan."""
        return self.set_status(current, status, plan)

    @classmethod
    def check_plan(cls, plan: PlanProducts) -> None:
        """Raise PermanentError (with a message for the operator) when this platform cannot
        serve ``plan``'s packages; Configurações calls it before saving a plan (no call is made:
        it is a rule of the platform, not a question to it)."""

    def matches(self, remote: RemoteSubscriber, status: AccessStatus, plan: PlanProducts) -> bool:
        """Whether the platform already holds ``status`` for this subscriber."""
        wanted = self.target(status, plan)
        return remote.platform_status == wanted.platform_status and (
            wanted.products is None or set(remote.products) == set(wanted.products)
        )

    def status_of(self, remote: RemoteSubscriber, plan: PlanProducts) -> AccessStatus | None:
        """Our access status for what the platform holds, or None when it matches none of them
        (e.g. active with packages the plan does not give): a drift to show. Where two statuses
        look the same at the platform (ITTV keeps a cancelled customer INACTIVE, like a blocked
        one) the milder one is named."""
        for status in AccessStatus:
            if status not in self.supported_statuses:
                continue
            try:
                if self.matches(remote, status, plan):
                    return status
            except PermanentError:  # a status this plan cannot have (partial without a base)
                continue
        return None

    def check_status_supported(self, status: AccessStatus) -> None:
        if status not in self.supported_statuses:
            raise ValueError(f"{self.label} does not support status {status.value!r}")
