"""Password hashing with Argon2id (pwdlib's recommended parameters)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 handles long inputs, but unbounded ones are a cheap DoS


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("parley-timing-equalizer")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Constant-ish time: an account without a hash still pays for one verification."""
    if hashed is None:
        _hasher().verify(password, _dummy_hash())
        return False
    try:
        return _hasher().verify(password, hashed)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False
