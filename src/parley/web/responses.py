"""Fast JSON responses (orjson): encoding big threads dominates read cost, so it matters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse as StarletteJSONResponse

_OPTS = orjson.OPT_NON_STR_KEYS


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, option=_OPTS)


class JSONResponse(StarletteJSONResponse):
    """A JSON response encoded with orjson.

    It must subclass Starlette's ``JSONResponse``: FastAPI documents a route's ``response_model``
    only for JSON response classes and writes ``{"type": "string"}`` into the schema otherwise.
    """

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return dumps(content)


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"
