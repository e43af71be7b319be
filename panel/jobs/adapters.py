"""Building a platform's adapter — only jobs call platforms. The token is decrypted here, in the
worker, right before the calls; the server URL is checked again against today's settings (they
may have changed since it was saved, or the row was written by an older version with looser
rules); in production the adapter also refuses, when connecting, any address that is not public."""

from __future__ import annotations

from flask import current_app

from panel import crypto
from panel.domain import DomainError
from panel.domain.platforms import UNREADABLE_TOKEN
from panel.domain.server_urls import check_server_url
from panel.models import Platform
from panel.providers import Provider, make_provider, public_only_from_config, timeouts_from_config


def provider_for(platform: Platform) -> Provider:
    """The adapter for this account, ready to call (DomainError: our side refuses — an
    unreadable token, a URL no longer allowed)."""
    url = check_server_url(platform.server_url)
    try:
        token = crypto.decrypt(platform.token_ciphertext)
    except crypto.UnreadableSecret:
        raise DomainError(UNREADABLE_TOKEN, "token") from None
    config = current_app.config
    return make_provider(
        platform.kind, url, token, timeouts=timeouts_from_config(config), public_only=public_only_from_config(config)
    )
