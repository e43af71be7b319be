"""Platform adapters, looked up by kind: each speaks one platform's HTTP API in the domain's
words (panel.domain.vocabulary). Only jobs build and call them (panel.jobs.adapters).

Adding a platform: its kind (panel/domain/kinds/<kind>.py), its adapter here
(``panel/providers/<kind>.py``, listed in ``ADAPTERS``), its sandbox (``sandbox/<kind>.py``) and one
case in ``tests/providers/test_contract.py``. See README.md, "Adding a platform".
"""

from __future__ import annotations

from panel.domain.vocabulary import (
    AccessStatus,
    CatalogueItem,
    PlanProducts,
    RemoteSubscriber,
    SubscriberData,
    SubscriberRef,
)
from panel.providers.base import ConnectionCheck, Provider, RemoteState
from panel.providers.errors import PermanentError, ProviderError, RetryableError
from panel.providers.http import Timeouts
from panel.providers.ittv import IttvProvider
from panel.providers.skeelo import SkeeloProvider
from panel.providers.tokens import LocalTokenCache, TokenCache
from panel.providers.watch import WatchProvider

ADAPTERS: tuple[type[Provider], ...] = (IttvProvider, SkeeloProvider, WatchProvider)
REGISTRY: dict[str, type[Provider]] = {adapter.kind: adapter for adapter in ADAPTERS}
Product = CatalogueItem  # (the catalogue's word, as adapters have always returned it)


def provider_class(kind: str) -> type[Provider]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"no adapter for platform kind {kind!r}") from None


def make_provider(
    kind: str,
    base_url: str,
    token: str,
    *,
    timeouts: Timeouts | None = None,
    public_only: bool = False,
    token_cache: TokenCache | None = None,
) -> Provider:
    return provider_class(kind)(base_url, token, timeouts=timeouts, public_only=public_only, token_cache=token_cache)


def timeouts_from_config(config) -> Timeouts:
    return Timeouts(connect=config["PROVIDER_CONNECT_TIMEOUT"], read=config["PROVIDER_READ_TIMEOUT"])


def public_only_from_config(config) -> bool:
    """Production calls reach only public addresses (see panel.providers.http)."""
    return config["PANEL_ENV"] == "production"


__all__ = [
    "ADAPTERS",
    "REGISTRY",
    "AccessStatus",
    "CatalogueItem",
    "ConnectionCheck",
    "LocalTokenCache",
    "PermanentError",
    "PlanProducts",
    "Product",
    "Provider",
    "ProviderError",
    "RemoteState",
    "RemoteSubscriber",
    "RetryableError",
    "SubscriberData",
    "SubscriberRef",
    "Timeouts",
    "TokenCache",
    "make_provider",
    "provider_class",
    "public_only_from_config",
    "timeouts_from_config",
]
