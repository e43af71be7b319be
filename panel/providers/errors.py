"""The two ways a platform call can fail, as the provisioning engine needs to tell them apart.

Every message here is written for the operator (pt-BR) and is safe to store and show: adapters
never put a token or a subscriber's personal data in it (see ``panel.providers.http``).
"""

from __future__ import annotations


class ProviderError(Exception):
    """A platform call that did not succeed."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code  # the HTTP status, when the platform answered at all


class RetryableError(ProviderError):
    """Worth trying again later: a timeout, a connection error, a 5xx or a 429.

    The change may or may not have happened at the platform (a lost response); jobs retry by
    reading the platform's state first, so trying again is always safe.
    """

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status_code=status_code)
        # Seconds the platform asked us to wait (429/503 Retry-After), or None.
        self.retry_after = retry_after


class PermanentError(ProviderError):
    """The platform refused the request (4xx): trying again will not help until someone changes
    the data or the settings."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        platform_message: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.platform_message = platform_message  # the platform's own words, redacted
        self.code = code  # the platform's machine-readable error code, when it gives one
