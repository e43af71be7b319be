"""Secrets kept in the database (platform tokens), encrypted with Fernet.

ENCRYPTION_KEY may list several keys separated by commas, newest first: new values are encrypted
with the first, and any of them decrypts, so a key can be rotated without losing the tokens
(`flask reencrypt-secrets` then rewrites them with the new key).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class UnreadableSecret(Exception):
    """The stored value was encrypted with a key we no longer have (or was altered)."""


def parse_keys(value: str) -> list[Fernet]:
    """The Fernet keys of an ENCRYPTION_KEY setting; raises ValueError on a malformed one."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not keys:
        raise ValueError("no key given")
    return [Fernet(key.encode()) for key in keys]


def _cipher() -> MultiFernet:
    return MultiFernet(parse_keys(current_app.config["ENCRYPTION_KEY"]))


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret() from None


def rotate(ciphertext: str) -> str:
    """The same secret, encrypted with the newest key."""
    try:
        return _cipher().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret() from None
