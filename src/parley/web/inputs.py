"""The base of every API request body: unknown fields refused, and no string that cannot be stored.

JSON may carry ``\\u0000`` and unpaired surrogates (``\\ud800``) inside strings. Neither belongs in a
comment, a name or a setting, and both break storage: PostgreSQL refuses NUL in text and JSONB,
and no driver can encode a lone surrogate as UTF-8. Refusing them here, field by field, turns what
would be a 500 deep in a service into a ``validation_failed`` problem naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_ID = 2**53  # ids a JavaScript client can hold exactly; far below int64 (PostgreSQL BIGINT)


def has_unstorable(value: Any, depth: int = 0) -> bool:
    """True when ``value`` (or a string nested in it, keys included) holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if depth > 32:
        return False  # request bodies this deep never validate anyway
    if isinstance(value, dict):
        return any(has_unstorable(k, depth + 1) or has_unstorable(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_unstorable(v, depth + 1) for v in value)
    return False


def check_storable(value: str) -> str:
    """For single strings outside request bodies (query parameters, headers)."""
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


class ApiInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if has_unstorable(value):
            raise ValueError("must not contain NUL characters or unpaired surrogates")
        return value
