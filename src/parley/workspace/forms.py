"""Small helpers for HTML form posts: origin check, CSRF comparison, clean values, the cookie."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from parley.accounts.errors import CsrfFailed
from parley.errors import ValidationFailed
from parley.web.context import RequestContext
from parley.web.inputs import has_unstorable


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(ctx: RequestContext) -> None:
    """Form posts from another origin are refused (login CSRF, cross-site form posts).

    Browsers send ``Origin`` on every POST; a request without one is not a browser's form post from
    another site, and the CSRF token still guards what needs a session.
    """
    origin = ctx.request.headers.get("origin")
    if origin is None:
        return
    own = {_origin(ctx.settings.public_url), _origin(str(ctx.request.base_url))}
    if origin.lower() not in own:
        raise CsrfFailed(context={"reason": "cross-origin form post"})


def same_secret(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


def clean(value: str | None, field: str, max_length: int = 2000) -> str:
    """A form value without NUL or lone surrogates (PostgreSQL cannot store them), trimmed."""
    value = (value or "").strip()
    if has_unstorable(value):
        raise ValidationFailed([{"field": field, "code": "invalid", "message": "unstorable characters"}])
    if len(value) > max_length:
        raise ValidationFailed([{"field": field, "code": "too_long", "message": f"at most {max_length}"}])
    return value


def lines(value: str | None, field: str, max_length: int = 500_000) -> list[str]:
    """A textarea with one entry per line: trimmed, empty lines and duplicates dropped."""
    text = clean(value, field, max_length)
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def ids(values: list[str], field: str = "ids", limit: int = 500) -> list[int]:
    out = []
    for v in values[: limit + 1]:
        try:
            n = int(v)
        except ValueError:
            raise ValidationFailed([{"field": field, "code": "invalid", "message": "not an id"}]) from None
        if not 1 <= n <= 2**53:
            raise ValidationFailed([{"field": field, "code": "invalid", "message": "not an id"}])
        out.append(n)
    return list(dict.fromkeys(out))
