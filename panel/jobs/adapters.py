"""Building a platform's adapter — only jobs call platforms. The token is decrypted here, in the
worker; the server URL is checked again against today's settings (they may have changed since it
was saved, or the row was written by an older version with looser rules); in production the
adapter also refuses, when connecting, any address that is not public.

A worker keeps each platform's adapter — its HTTP session (open connections), the decrypted
token, the checked URL — and every job for that platform reuses it, until the platform's settings
change (another URL or token: a new adapter). Per thread: an adapter is used by one at a time.
"""

from __future__ import annotations

import threading

from flask import current_app

from panel import crypto
from panel.domain import DomainError
from panel.domain.platforms import UNREADABLE_TOKEN
from panel.domain.provisioning import PlatformAccess
from panel.domain.server_urls import check_server_url
from panel.jobs.token_cache import RedisTokenCache
from panel.models import Platform
from panel.providers import Provider, make_provider, public_only_from_config, timeouts_from_config

_kept = threading.local()


def provider_for(platform: Platform | PlatformAccess) -> Provider:
    """The adapter for this account, ready to call, kept for the next job (do not close it).
    DomainError: our side refuses — an unreadable token, a URL no longer allowed."""
    config = current_app.config
    settings = (
        platform.kind,
        platform.server_url,
        platform.token_ciphertext,
        public_only_from_config(config),
        timeouts_from_config(config),
        tuple(config["PLATFORM_ALLOWED_HOSTS"]),
    )
    kept = getattr(_kept, "adapters", None)
    if kept is None:
        kept = _kept.adapters = {}
    found = kept.get(platform.id)
    if found is not None and found[0] == settings:
        return found[1]
    provider = fresh_provider_for(platform)
    if found is not None:
        found[1].close()
    kept[platform.id] = (settings, provider)
    return provider


def fresh_provider_for(platform: Platform | PlatformAccess) -> Provider:
    """A new adapter for this account, for one use (the caller closes it)."""
    url = check_server_url(platform.server_url)
    try:
        token = crypto.decrypt(platform.token_ciphertext)
    except crypto.UnreadableSecret:
        raise DomainError(UNREADABLE_TOKEN, "token") from None
    config = current_app.config
    return make_provider(
        platform.kind,
        url,
        token,
        timeouts=timeouts_from_config(config),
        public_only=public_only_from_config(config),
        token_cache=RedisTokenCache(),  # access tokens a platform issues, shared by every job
    )
