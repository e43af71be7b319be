"""Password hashing with argon2id (argon2-cffi): memory-hard, the OWASP recommendation.

The cost parameters come from the config; a hash made with older parameters is replaced at the
next successful login (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    app.extensions["password_hasher"] = PasswordHasher(
        time_cost=app.config.get("ARGON2_TIME_COST", 3),
        memory_cost=app.config.get("ARGON2_MEMORY_COST", 65536),
        parallelism=app.config.get("ARGON2_PARALLELISM", 4),
    )


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


# Verified against when the username does not exist, so an unknown user costs the same time as
# a wrong password and the login form does not reveal which usernames exist.
_DUMMY_HASH: dict[int, str] = {}


def burn_time(password: str) -> None:
    hasher = _hasher()
    key = id(hasher)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not-a-real-password")
    verify_password(_DUMMY_HASH[key], password)
