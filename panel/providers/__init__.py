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
from panel.providers.http import Target, Timeouts, connection_target
from panel.providers.ittv import IttvProvider
from panel.providers.skeelo import SkeeloProvider

ADAPTERS: tuple[type[Provider], ...] = (IttvProvider, SkeeloProvider)
REGISTRY: dict[str, type[Provider]] = {adapter.kind: adapter for adapter in ADAPTERS}


def provider_class(kind: str) -> type[Provider]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(f"no adapter for platform kind {kind!r}") from None


def make_provider(
    kind: str, base_url: str, token: str, *, timeouts: Timeouts | None = None, public_only: bool = False
) -> Provider:
    return provider_class(kind)(base_url, token, timeouts=timeouts, public_only=public_only)


def timeouts_from_config(config) -> Timeouts:
    return Timeouts(connect=config["PROVIDER_CONNECT_TIMEOUT"], read=config["PROVIDER_READ_TIMEOUT"])


def public_only_from_config(config) -> bool:
    """Production calls reach only public addresses: a name on PLATFORM_ALLOWED_HOSTS that
    resolves (now, or after a DNS change) to a loopback, private or link-local address is refused
    when connecting. Development and tests call the sandboxes on 127.0.0.1."""
    return config["PANEL_ENV"] == "production"


__all__ = [
    "ADAPTERS", "REGISTRY", "AccessStatus", "ConnectionCheck", "PermanentError", "PlanProducts", "Product",
    "Provider", "ProviderError", "RemoteState", "RemoteSubscriber", "RetryableError", "SubscriberData",
    "SubscriberRef", "Target", "Timeouts", "connection_target", "make_provider", "provider_class", "public_only_from_config", "timeouts_from_config",
]
