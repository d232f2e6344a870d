"""Test factories: sites, accounts, logins and comments, through services or the HTTP API."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from parley.accounts.models import Role
from parley.accounts.services import do_create_account, do_create_api_token
from parley.clock import Clock
from parley.db.database import Database
from parley.sites.services import do_create_site

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def make_site(db: Database, clock: Clock, slug: str, **kw: Any) -> int:
    with db.write() as s:
        site = do_create_site(s, slug=slug, name=kw.pop("name", f"Site {slug}"), now=clock.now(), **kw)
        return site.id


def make_account(
    db: Database,
    clock: Clock,
    *,
    name: str | None = None,
    email: str | None = None,
    password: str | None = PASSWORD,
    role: Role = Role.COMMENTER,
    verified: bool = False,
) -> int:
    n = next(_seq)
    with db.write() as s:
        acc = do_create_account(
            s,
            name=name or f"Leserin {n:04d}",
            email=email or f"reader{n}@example.org",
            password=password,
            role=role,
            verified=verified,
            now=clock.now(),
        )
        return acc.id


def make_api_token(db: Database, clock: Clock, account_id: int, site_id: int | None = None) -> str:
    from parley.accounts.models import Account

    with db.write() as s:
        acc = s.get(Account, account_id)
        assert acc is not None
        return do_create_api_token(s, acc, "test", clock.now(), site_id)


def register(client: TestClient, name: str | None = None, email: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    r = client.post(
        "/api/v1/auth/register",
        json={"name": name or f"Leser {n:04d}", "email": email or f"user{n}@example.org", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    client.cookies.clear()  # tests pick cookie or bearer auth explicitly
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(
    client: TestClient, thread: str, body: str, *, token: str | None = None, **fields: Any
) -> Response:
    payload: dict[str, Any] = {"body": body, **fields}
    if token is None and "author_name" not in payload:
        payload["author_name"] = unique("Gast ")
    headers = bearer(token) if token else {}
    r = client.post(f"/api/v1/threads/{thread}/comments", json=payload, headers=headers)
    client.cookies.clear()
    return r
