"""Platform adapters, looked up by kind.

Adding a platform: write ``panel/providers/<kind>.py`` (a ``Provider`` subclass), list it in
``ADAPTERS`` below, write ``sandbox/<kind>.py``, and add one case to
``tests/providers/test_contract.py``. See README.md, "Adding a platform".
"""

from __future__ import annotations

from panel.providers.base import (
    AccessStatus,
    ConnectionCheck,
    PlanProducts,
    Product,
    Provider,
    RemoteState,
    RemoteSubscriber,
    SubscriberData,
    SubscriberRef,
)
from panel.providers.errors import PermanentError, ProviderError, RetryableError
from panel.providers.http import Timeouts
from panel.providers.ittv import IttvProvider
from panel.providers.skeelo import SkeeloProvider

ADAPTERS: tuple[type[Provider], ...] = (IttvProvider, SkeeloProvider)
REGISTRY: dict[str, type[Provider]] = {adapter.kind: adapter for adapter in ADAPTERS}


def provider_class(kind: str) -> type[Provider]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"no adapter for platform kind {kind!r}") from None


def make_provider(kind: str, base_url: str, token: str, *, timeouts: Timeouts | None = None) -> Provider:
    return provider_class(kind)(base_url, token, timeouts=timeouts)


def timeouts_from_config(config) -> Timeouts:
    return Timeouts(connect=config["PROVIDER_CONNECT_TIMEOUT"], read=config["PROVIDER_READ_TIMEOUT"])


__all__ = [
    "ADAPTERS", "REGISTRY", "AccessStatus", "ConnectionCheck", "PermanentError", "PlanProducts", "Product",
    "Provider", "ProviderError", "RemoteState", "RemoteSubscriber", "RetryableError", "SubscriberData",
    "SubscriberRef", "Timeouts", "make_provider", "provider_class", "timeouts_from_config",
]
