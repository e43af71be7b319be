"""The one interface every platform adapter implements.

The panel thinks in access statuses (active, partial block, total block, cancelled) and in the
plan's packages — the domain's words (panel.domain.vocabulary); each adapter maps those onto its
platform's own words and calls, and knows its platform's kind (panel.domain.kinds). Adapters read
before they write: ``create`` looks the subscriber up before creating it, and ``set_status``
sends only what differs from the state it was given, so a job that runs twice, or again after a
lost response, ends in the same platform state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from panel.domain.kinds import PlatformKind
from panel.domain.vocabulary import (
    AccessStatus,
    CatalogueItem,
    PlanProducts,
    RemoteSubscriber,
    SubscriberData,
    SubscriberRef,
)
from panel.formats import ngettext
from panel.providers.errors import PermanentError
from panel.providers.http import JsonHttpClient, Timeouts
from panel.providers.tokens import LocalTokenCache, TokenCache


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
        return ngettext(
            "Conexão OK: %(num)s produto no catálogo.", "Conexão OK: %(num)s produtos no catálogo.", self.product_count
        )


class Provider(ABC):
    """A platform adapter. One instance holds one HTTP session (connections are reused) and is
    used by one thread at a time; ``close()`` it, or use it as a context manager."""

    platform_kind: ClassVar[PlatformKind]  # what the platform is (panel.domain.kinds)
    # Read from the kind, for the adapter's own use (messages, checks):
    kind: ClassVar[str]  # the registry key, stored on each platform row
    label: ClassVar[str]
    supported_statuses: ClassVar[frozenset[AccessStatus]]
    has_login: ClassVar[bool]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("platform_kind")
        if kind is not None:
            cls.kind, cls.label = kind.name, kind.label
            cls.supported_statuses, cls.has_login = kind.supported_statuses, kind.has_login

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeouts: Timeouts | None = None,
        public_only: bool = False,
        token_cache: TokenCache | None = None,
    ) -> None:
        """``public_only`` (production): calls reach only public addresses (``JsonHttpClient``).
        ``token`` is the account's stored secret (the kind's credentials, packed: see
        ``PlatformKind.pack_credentials``); ``token_cache`` is where adapters whose platform issues
        its own access tokens keep them across jobs (the others ignore it)."""
        self.token_cache: TokenCache = token_cache if token_cache is not None else LocalTokenCache()
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
    def list_products(self) -> list[CatalogueItem]:
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

    def change_products(
        self, current: RemoteSubscriber, plan: PlanProducts, *, status: AccessStatus
    ) -> RemoteSubscriber:
        """Move the subscriber to another plan's packages, keeping ``status`` (a plan change
        never lifts a block): the same convergence as ``set_status``, under the new plan."""
        return self.set_status(current, status, plan)

    @classmethod
    def check_plan(cls, plan: PlanProducts) -> None:
        """Raise PermanentError (with a message for the operator) when this platform cannot
        serve ``plan``'s packages (the kind's rule; no call is made)."""
        problem = cls.platform_kind.package_problem(plan)
        if problem:
            raise PermanentError(problem)

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
