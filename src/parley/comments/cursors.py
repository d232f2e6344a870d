"""Opaque keyset cursors: the last row's sort key, signed so a client can neither forge nor edit it."""

from __future__ import annotations

from typing import Any

import orjson

from parley.errors import AppError, ErrorCode
from parley.security import b64d, b64e, sign, verify


class InvalidCursor(AppError):
    code = ErrorCode.INVALID_CURSOR
    status = 400
    message = "The cursor is invalid or expired. Start again from the first page."


def encode(secret: bytes, purpose: str, key: list[Any]) -> str:
    payload = orjson.dumps(key)
    return f"{b64e(payload)}.{sign(secret, purpose, payload)}"


def decode(secret: bytes, purpose: str, cursor: str) -> list[Any]:
    if len(cursor) > 2048 or cursor.count(".") != 1:
        raise InvalidCursor()
    data, _, sig = cursor.partition(".")
    try:
        payload = b64d(data)
    except ValueError:
        raise InvalidCursor() from None
    if not verify(secret, purpose, payload, sig):
        raise InvalidCursor()
    try:
        key = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise InvalidCursor() from None
    if not isinstance(key, list):
        raise InvalidCursor()
    return key
