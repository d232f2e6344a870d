"""Malformed requests: every one gets a 4xx ``application/problem+json`` answer with a stable code.

Table-driven: each :class:`Case` is one kind of bad input (broken or hostile JSON, wrong types,
unknown fields, oversized and chunked bodies, invalid UTF-8, NUL bytes, lone surrogates, absurd
numbers and ids, forged and foreign cursors, unknown enum values, bad content types, wrong
methods, absurd headers, hostile thread keys ...). No case may produce a 5xx, and each must give
the code listed. The requests go through the whole app (middleware, routing, validation, the
database on SQLite and PostgreSQL); nothing a case sends may be stored.

The app is shared by the cases of one backend (module scope): malformed requests change nothing,
and the last test proves it by counting rows.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.accounts.models import Role
from parley.app import create_app
from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from parley.errors import ErrorCode
from support.apps import TEST_MODERATION, checking_client, module_database, settings_for
from support.factories import make_account, make_api_token, make_comments, make_site, post

MB = 1024 * 1024
PROBLEM = "application/problem+json"


@dataclass
class World:
    client: TestClient
    cid: int  # a published top-level comment in thread t1 (with replies)
    other_cid: int  # a comment of another site
    token: str  # a session token for bearer auth
    cookie: str  # the same kind of token, for cookie auth
    top_cursor: str  # next page of t1, sort=best
    other_thread_cursor: str  # next page of t2, sort=best
    newest_cursor: str  # next page of t1, sort=newest
    replies_cursor: str  # next replies of cid
    admin_token: str
    counts: dict[str, int] = field(default_factory=dict)

    def fill(self, text: str) -> str:
        return (
            text.replace("{cid}", str(self.cid))
            .replace('"{other_cid}"', str(self.other_cid))
            .replace("{other_cid}", str(self.other_cid))
        )


def _count_rows(app: Any) -> dict[str, int]:
    with app.state.registry.db.read() as s:
        return {
            "comments": int(s.scalar(select(func.count()).select_from(Comment)) or 0),
            "threads": int(s.scalar(select(func.count()).select_from(Thread)) or 0),
        }


@pytest.fixture(scope="module")
def world(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("malformed")
    with module_database(backend, request, tmp) as url:
        yield from _world(url, tmp)


def _world(url: str, tmp: Path) -> Iterator[World]:
    clock = FrozenClock()
    app = create_app(settings_for(url, tmp), clock=clock)
    db = app.state.registry.db
    make_site(db, clock, "test", name="Testzeitung", settings={"moderation": TEST_MODERATION})
    make_site(db, clock, "other", name="Andere Zeitung")
    admin = make_account(db, clock, role=Role.ADMIN, password=None)
    admin_token = make_api_token(db, clock, admin)
    top = make_comments(db, clock, "t1", 5)
    make_comments(db, clock, "t1", 5, parent_id=top[0], text="Antwort {i}")
    make_comments(db, clock, "t2", 5)
    other = make_comments(db, clock, "t1", 1, site="other")
    with checking_client(app) as client:
        guest = post(client, "t3", "Ich bin ein Gast.").json()["session"]["token"]
        cookie = post(client, "t3", "Ich bin auch ein Gast.").json()["session"]["token"]

        def cursor(thread: str, **params: Any) -> str:
            r = client.get(f"/api/v1/threads/{thread}/comments", params={"limit": 2, **params})
            value: str = r.json()["next_cursor"]
            assert value
            return value

        page = client.get("/api/v1/threads/t1/comments", params={"replies": 1}).json()
        replies_cursor = next(c["replies_cursor"] for c in page["comments"] if c["id"] == top[0])
        w = World(
            client=client,
            cid=top[0],
            other_cid=other[0],
            token=guest,
            cookie=cookie,
            top_cursor=cursor("t1"),
            other_thread_cursor=cursor("t2"),
            newest_cursor=cursor("t1", sort="newest"),
            replies_cursor=replies_cursor,
            admin_token=admin_token,
        )
        w.counts = _count_rows(app)
        yield w
        w.client.cookies.clear()
    app.state.registry.close()


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    code: ErrorCode
    json: Any = None
    content: bytes | None = None
    stream: int | None = None  # send this many bytes chunked, without Content-Length
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    auth: str | None = None  # "bearer" | "cookie" | "admin"
    cursor: str | None = None  # name of a World cursor to send as ?cursor=


J = {"content-type": "application/json"}
POST = "/api/v1/threads/t1/comments"
GUEST = {"author_name": "Ein Gast"}


def body(**fields: Any) -> dict[str, Any]:
    return {"body": "Ein ganz normaler Kommentar.", **GUEST, **fields}


def deep(n: int) -> bytes:
    return b'{"body": ' + b"[" * n + b"]" * n + b"}"


V, NF, BJ = ErrorCode.VALIDATION_FAILED, ErrorCode.NOT_FOUND, ErrorCode.INVALID_JSON
CASES = [
    # --- the body is not JSON, or not the JSON we want ----------------------------------------------
    Case("broken-json", "POST", POST, 400, BJ, content=b'{"body": "x", ', headers=J),
    Case("json-trailing-garbage", "POST", POST, 400, BJ, content=b'{"body": "x"} trailing', headers=J),
    Case("json-single-quotes", "POST", POST, 400, BJ, content=b"{'body': 'x'}", headers=J),
    Case("invalid-utf8", "POST", POST, 400, BJ, content=b'{"body": "caf\xe9 \xff\xfe"}', headers=J),
    Case("deep-json-array-1e5", "POST", POST, 400, BJ, content=deep(100_000), headers=J),
    # 10^5 nested objects are 600 KB: the size limit refuses them before any parser runs
    Case(
        "deep-json-object-1e5",
        "POST",
        POST,
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        content=b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        headers=J,
    ),
    Case(
        "deep-json-object-4e4",
        "POST",
        POST,
        400,
        BJ,
        content=b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
        headers=J,
    ),
    Case("empty-body", "POST", POST, 422, V, content=b"", headers=J),
    Case("json-null", "POST", POST, 422, V, content=b"null", headers=J),
    Case("json-array", "POST", POST, 422, V, json=[body()]),
    Case("json-string", "POST", POST, 422, V, json="Hallo"),
    Case("json-number", "POST", POST, 422, V, json=42),
    Case("missing-body-field", "POST", POST, 422, V, json=GUEST),
    Case("body-wrong-type", "POST", POST, 422, V, json={**GUEST, "body": 123}),
    Case("body-is-object", "POST", POST, 422, V, json={**GUEST, "body": {"$gt": ""}}),
    Case("unknown-field", "POST", POST, 422, V, json=body(is_admin=True)),
    Case("parent-not-a-number", "POST", POST, 422, V, json=body(parent_id="abc")),
    Case("parent-float", "POST", POST, 422, V, json=body(parent_id=1.5)),
    Case("parent-negative", "POST", POST, 422, V, json=body(parent_id=-1)),
    Case("parent-zero", "POST", POST, 422, V, json=body(parent_id=0)),
    Case("parent-over-int64", "POST", POST, 422, V, json=body(parent_id=2**64 + 1)),
    Case("parent-2e63", "POST", POST, 422, V, json=body(parent_id=2**63)),
    Case("parent-1e400-inf", "POST", POST, 422, V, content=b'{"body": "x", "parent_id": 1e400}', headers=J),
    Case("parent-nan", "POST", POST, 422, V, content=b'{"body": "x", "parent_id": NaN}', headers=J),
    Case("parent-unknown", "POST", POST, 422, ErrorCode.INVALID_PARENT, json=body(parent_id=987654321)),
    Case(
        "parent-other-site", "POST", POST, 422, ErrorCode.INVALID_PARENT, json=body(parent_id="{other_cid}")
    ),
    Case("body-empty-string", "POST", POST, 422, ErrorCode.BODY_TOO_SHORT, json=body(body="")),
    Case(
        "body-only-markup",
        "POST",
        POST,
        422,
        ErrorCode.BODY_TOO_SHORT,
        json=body(body="> \n- \n[](https://x.example)"),
    ),
    Case(
        "body-zero-width", "POST", POST, 422, ErrorCode.BODY_TOO_SHORT, json=body(body="\u200b\u200d\u2060")
    ),
    Case("body-too-long", "POST", POST, 422, ErrorCode.BODY_TOO_LONG, json=body(body="a" * 6000)),
    Case("body-over-field-limit", "POST", POST, 422, V, json=body(body="a" * 100_001)),
    Case("nul-in-body", "POST", POST, 422, V, json=body(body="a\x00b")),
    Case("nul-in-name", "POST", POST, 422, V, json=body(author_name="Max\x00Mustermann")),
    Case("nul-in-title", "POST", POST, 422, V, json=body(title="Titel\x00")),
    Case("nul-in-email", "POST", POST, 422, V, json=body(email="a\x00@example.org")),
    Case(
        "lone-surrogate-body",
        "POST",
        POST,
        422,
        V,
        content=b'{"body": "a\\ud800b", "author_name": "Gast"}',
        headers=J,
    ),
    Case(
        "lone-surrogate-name",
        "POST",
        POST,
        422,
        V,
        content=b'{"body": "abc", "author_name": "G\\udfffast"}',
        headers=J,
    ),
    Case("name-too-long", "POST", POST, 422, V, json=body(author_name="N" * 201)),
    Case(
        "name-invisible",
        "POST",
        POST,
        422,
        ErrorCode.NAME_INVALID,
        json=body(author_name="\u200b\u200b\u200b"),
    ),
    Case("guest-without-name", "POST", POST, 422, V, json={"body": "Ein Kommentar ohne Namen."}),
    Case("title-wrong-type", "POST", POST, 422, V, json=body(title=["a"])),
    # --- size limits, enforced before parsing -------------------------------------------------------
    Case(
        "body-10mb",
        "POST",
        POST,
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        content=b'{"body": "' + b"a" * (10 * MB) + b'"}',
        headers=J,
    ),
    Case("chunked-10mb-no-length", "POST", POST, 413, ErrorCode.PAYLOAD_TOO_LARGE, stream=10 * MB, headers=J),
    Case(
        "chunked-300kb-no-length",
        "POST",
        POST,
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        stream=300 * 1024,
        headers=J,
    ),
    # --- content types ------------------------------------------------------------------------------
    Case(
        "text-plain",
        "POST",
        POST,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        content=orjson.dumps(body()),
        headers={"content-type": "text/plain"},
    ),
    Case(
        "form-urlencoded",
        "POST",
        POST,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        content=b"body=x&author_name=y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "multipart",
        "POST",
        POST,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        content=b"--b\r\n\r\nx\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    ),
    Case(
        "no-content-type", "POST", POST, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, content=orjson.dumps(body())
    ),
    Case(
        "garbage-content-type",
        "POST",
        POST,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        content=orjson.dumps(body()),
        headers={"content-type": "a/b/c; ;;="},
    ),
    Case(
        "xml-vote",
        "PUT",
        "/api/v1/comments/{cid}/vote",
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        content=b"<value>1</value>",
        headers={"content-type": "application/xml"},
        auth="bearer",
    ),
    # --- query parameters ---------------------------------------------------------------------------
    Case("limit-zero", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "0"}),
    Case("limit-negative", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "-5"}),
    Case("limit-over-max", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "201"}),
    Case("limit-huge", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "9" * 40}),
    Case("limit-not-a-number", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "ten"}),
    Case("limit-float", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": "1.5"}),
    Case("limit-empty", "GET", "/api/v1/threads/t1/comments", 422, V, params={"limit": ""}),
    Case("replies-negative", "GET", "/api/v1/threads/t1/comments", 422, V, params={"replies": "-1"}),
    Case("replies-over-max", "GET", "/api/v1/threads/t1/comments", 422, V, params={"replies": "51"}),
    Case("sort-unknown", "GET", "/api/v1/threads/t1/comments", 422, V, params={"sort": "worst"}),
    Case(
        "sort-sql", "GET", "/api/v1/threads/t1/comments", 422, V, params={"sort": "best; DROP TABLE comments"}
    ),
    Case("view-unknown", "GET", "/api/v1/threads/t1/comments", 422, V, params={"view": "nested"}),
    Case(
        "cursor-garbage",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        params={"cursor": "abc"},
    ),
    Case(
        "cursor-non-ascii",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        params={"cursor": "äöü.ß"},
    ),
    Case(
        "cursor-nul",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        params={"cursor": "a\x00.b"},
    ),
    Case("cursor-too-long", "GET", "/api/v1/threads/t1/comments", 422, V, params={"cursor": "a" * 3000}),
    Case(
        "cursor-forged-signature",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        params={
            "cursor": base64.urlsafe_b64encode(b"[1e308, 1]").decode().rstrip("=") + ".AAAAAAAAAAAAAAAAAAAAAA"
        },
    ),
    Case(
        "cursor-other-thread",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        cursor="other_thread_cursor",
    ),
    Case(
        "cursor-other-sort",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        cursor="newest_cursor",
    ),
    Case(
        "cursor-replies-as-page",
        "GET",
        "/api/v1/threads/t1/comments",
        400,
        ErrorCode.INVALID_CURSOR,
        cursor="replies_cursor",
    ),
    Case(
        "cursor-page-as-replies",
        "GET",
        "/api/v1/comments/{cid}/replies",
        400,
        ErrorCode.INVALID_CURSOR,
        cursor="top_cursor",
    ),
    Case(
        "site-unknown",
        "GET",
        "/api/v1/threads/t1/comments",
        404,
        ErrorCode.SITE_NOT_FOUND,
        params={"site": "nope"},
    ),
    Case(
        "site-nul",
        "GET",
        "/api/v1/threads/t1/comments",
        404,
        ErrorCode.SITE_NOT_FOUND,
        params={"site": "te\x00st"},
    ),
    Case(
        "site-10kb",
        "GET",
        "/api/v1/threads/t1/comments",
        404,
        ErrorCode.SITE_NOT_FOUND,
        params={"site": "s" * 10_000},
    ),
    Case("counts-missing", "GET", "/api/v1/counts", 422, V),
    Case("counts-only-commas", "GET", "/api/v1/counts", 422, V, params={"threads": ",,,,"}),
    Case(
        "counts-101-keys",
        "GET",
        "/api/v1/counts",
        422,
        V,
        params={"threads": ",".join(f"k{i}" for i in range(101))},
    ),
    Case("counts-nul-key", "GET", "/api/v1/counts", 422, V, params={"threads": "a,b\x00c"}),
    Case("counts-key-too-long", "GET", "/api/v1/counts", 422, V, params={"threads": "k" * 600}),
    # --- path parameters ----------------------------------------------------------------------------
    Case("id-not-a-number", "GET", "/api/v1/comments/abc", 422, V),
    Case("id-negative", "GET", "/api/v1/comments/-5", 422, V),
    Case("id-zero", "GET", "/api/v1/comments/0", 422, V),
    Case("id-float", "GET", "/api/v1/comments/1.5", 422, V),
    Case("id-over-int64", "GET", "/api/v1/comments/99999999999999999999999", 422, V),
    Case(
        "id-int64-max-vote",
        "PUT",
        "/api/v1/comments/9223372036854775807/vote",
        422,
        V,
        json={"value": 1},
        auth="bearer",
    ),
    Case("id-unknown", "GET", "/api/v1/comments/987654321", 404, NF),
    Case("id-of-other-site", "GET", "/api/v1/comments/{other_cid}", 404, NF),
    Case("replies-unknown-id", "GET", "/api/v1/comments/987654321/replies", 404, NF),
    Case("thread-key-513", "GET", "/api/v1/threads/" + "k" * 513 + "/comments", 422, V),
    Case("thread-key-60kb", "GET", "/api/v1/threads/" + "k" * 60_000 + "/comments", 422, V),
    Case("thread-key-control-char", "GET", "/api/v1/threads/a%01b/comments", 422, V),
    Case("thread-key-nul", "POST", "/api/v1/threads/a%00b/comments", 422, V, json=body()),
    Case("thread-key-nul-get", "GET", "/api/v1/threads/a%00b/comments", 422, V),
    Case("unknown-route", "GET", "/api/v1/nothing-here", 404, NF),
    Case("unknown-api-version", "GET", "/api/v9/threads/t1/comments", 404, NF),
    # --- methods ------------------------------------------------------------------------------------
    Case("delete-thread-listing", "DELETE", "/api/v1/threads/t1/comments", 405, ErrorCode.METHOD_NOT_ALLOWED),
    Case("put-counts", "PUT", "/api/v1/counts", 405, ErrorCode.METHOD_NOT_ALLOWED, json={}),
    Case("get-vote", "GET", "/api/v1/comments/{cid}/vote", 405, ErrorCode.METHOD_NOT_ALLOWED),
    Case("patch-login", "PATCH", "/api/v1/auth/login", 405, ErrorCode.METHOD_NOT_ALLOWED, json={}),
    # --- vote, report, account and admin bodies -----------------------------------------------------
    Case("vote-out-of-range", "PUT", "/api/v1/comments/{cid}/vote", 422, V, json={"value": 2}, auth="bearer"),
    Case("vote-string", "PUT", "/api/v1/comments/{cid}/vote", 422, V, json={"value": "1"}, auth="bearer"),
    Case(
        "vote-anonymous", "PUT", "/api/v1/comments/{cid}/vote", 401, ErrorCode.UNAUTHORIZED, json={"value": 1}
    ),
    Case(
        "vote-cookie-no-csrf",
        "PUT",
        "/api/v1/comments/{cid}/vote",
        403,
        ErrorCode.CSRF_FAILED,
        json={"value": 1},
        auth="cookie",
    ),
    Case(
        "report-unknown-reason", "POST", "/api/v1/comments/{cid}/reports", 422, V, json={"reason": "boring"}
    ),
    Case(
        "report-detail-too-long",
        "POST",
        "/api/v1/comments/{cid}/reports",
        422,
        V,
        json={"reason": "spam", "detail": "x" * 4001},
    ),
    Case(
        "report-nul-detail",
        "POST",
        "/api/v1/comments/{cid}/reports",
        422,
        V,
        json={"reason": "spam", "detail": "\x00"},
    ),
    Case(
        "register-bad-email",
        "POST",
        "/api/v1/auth/register",
        422,
        V,
        json={"name": "Neu", "email": "kein-at", "password": "x" * 12},
    ),
    Case(
        "register-short-password",
        "POST",
        "/api/v1/auth/register",
        422,
        V,
        json={"name": "Neu Ling", "email": "n@example.org", "password": "x"},
    ),
    Case(
        "register-nul-email",
        "POST",
        "/api/v1/auth/register",
        422,
        V,
        json={"name": "Neu Ling", "email": "n\x00@example.org", "password": "x" * 12},
    ),
    Case("login-wrong-types", "POST", "/api/v1/auth/login", 422, V, json={"email": ["a"], "password": 5}),
    Case(
        "login-nul",
        "POST",
        "/api/v1/auth/login",
        422,
        V,
        json={"email": "\x00@example.org", "password": "x" * 12},
    ),
    Case(
        "sso-not-configured",
        "POST",
        "/api/v1/auth/sso",
        400,
        ErrorCode.SSO_NOT_CONFIGURED,
        json={"token": "a.b.c"},
    ),
    Case("sso-token-not-string", "POST", "/api/v1/auth/sso", 422, V, json={"token": {"alg": "none"}}),
    Case(
        "admin-site-bad-settings",
        "POST",
        "/api/v1/admin/sites",
        422,
        V,
        json={"slug": "neu", "name": "Neu", "settings": {"edit_window_seconds": "forever"}},
        auth="admin",
    ),
    Case(
        "admin-site-unknown-setting",
        "POST",
        "/api/v1/admin/sites",
        422,
        V,
        json={"slug": "neu", "name": "Neu", "settings": {"colour": "red"}},
        auth="admin",
    ),
    Case(
        "admin-site-bad-slug",
        "POST",
        "/api/v1/admin/sites",
        422,
        V,
        json={"slug": "../etc", "name": "Neu"},
        auth="admin",
    ),
    Case(
        "admin-patch-bad-moderation",
        "PATCH",
        "/api/v1/admin/sites/test",
        422,
        V,
        json={"settings": {"moderation": {"max_length": -1}}},
        auth="admin",
    ),
    Case(
        "admin-nul-in-settings",
        "PATCH",
        "/api/v1/admin/sites/test",
        422,
        V,
        json={"settings": {"cta": {"text": "\x00"}}},
        auth="admin",
    ),
    Case(
        "admin-thread-unknown-setting",
        "PATCH",
        "/api/v1/admin/sites/test/threads/story-1",
        422,
        V,
        json={"settings": {"premoderate": True, "colour": 10**30}},
        auth="admin",
    ),
    Case(
        "admin-thread-setting-wrong-type",
        "PATCH",
        "/api/v1/admin/sites/test/threads/story-1",
        422,
        V,
        json={"settings": {"heat": [1]}},
        auth="admin",
    ),
    # --- headers ------------------------------------------------------------------------------------
    Case(
        "auth-basic",
        "GET",
        "/api/v1/me",
        401,
        ErrorCode.UNAUTHORIZED,
        headers={"authorization": "Basic YTpi"},
    ),
    Case(
        "auth-bearer-empty",
        "GET",
        "/api/v1/me",
        401,
        ErrorCode.UNAUTHORIZED,
        headers={"authorization": "Bearer "},
    ),
    Case(
        "auth-bearer-garbage",
        "GET",
        "/api/v1/me",
        401,
        ErrorCode.INVALID_TOKEN,
        headers={"authorization": "Bearer garbage"},
    ),
    Case(
        "auth-forged-session",
        "GET",
        "/api/v1/me",
        401,
        ErrorCode.INVALID_TOKEN,
        headers={"authorization": "Bearer pst_forged"},
    ),
    Case(
        "auth-forged-api-token",
        "GET",
        "/api/v1/admin/sites",
        401,
        ErrorCode.INVALID_TOKEN,
        headers={"authorization": "Bearer pat_forged"},
    ),
    Case(
        "auth-8kb-jwt-shape",
        "GET",
        "/api/v1/me",
        400,
        ErrorCode.SSO_NOT_CONFIGURED,
        headers={"authorization": "Bearer " + "a" * 4000 + "." + "b" * 4000 + ".c"},
    ),
    Case(
        "idempotency-key-too-long", "POST", POST, 422, V, json=body(), headers={"idempotency-key": "k" * 256}
    ),
    Case("idempotency-key-blank", "POST", POST, 422, V, json=body(), headers={"idempotency-key": "   "}),
    Case(
        "site-header-unknown",
        "GET",
        "/api/v1/threads/t1/comments",
        404,
        ErrorCode.SITE_NOT_FOUND,
        headers={"x-parley-site": "x" * 3000},
    ),
    Case(
        "absurd-accept-language",
        "GET",
        "/api/v1/comments/987654321",
        404,
        NF,
        headers={"accept-language": "de;q=abc, *;q=-1, " + "x-" * 2000},
    ),
    Case(
        "garbage-cookie-write",
        "PUT",
        "/api/v1/comments/{cid}/vote",
        401,
        ErrorCode.UNAUTHORIZED,
        json={"value": 1},
        headers={"cookie": "parley_session=%ZZ%00\\; x=;;;"},
    ),
]


def test_there_are_at_least_fifty_kinds() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 50


def _send(w: World, case: Case) -> Any:
    headers = dict(case.headers)
    if case.auth == "bearer":
        headers["authorization"] = f"Bearer {w.token}"
    elif case.auth == "admin":
        headers["authorization"] = f"Bearer {w.admin_token}"
    w.client.cookies.clear()
    if case.auth == "cookie":
        w.client.cookies.set("parley_session", w.cookie)
    params = dict(case.params or {})
    if case.cursor:
        params["cursor"] = getattr(w, case.cursor)
    kw: dict[str, Any] = {"headers": headers, "params": params}
    if case.json is not None:
        kw["content"] = w.fill(json.dumps(case.json)).encode()
        headers.setdefault("content-type", "application/json")
    elif case.content is not None:
        kw["content"] = case.content
    elif case.stream is not None:
        size = case.stream

        def chunks() -> Iterator[bytes]:
            sent = 0
            while sent < size:
                yield b"a" * 65536
                sent += 65536

        kw["content"] = chunks()
    try:
        return w.client.request(case.method, w.fill(case.path), **kw)
    finally:
        w.client.cookies.clear()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_request_gets_a_problem(world: World, case: Case) -> None:
    r = _send(world, case)
    assert r.status_code < 500, r.text[:500]
    assert r.headers["content-type"] == PROBLEM, (r.status_code, r.text[:300])
    problem = r.json()
    assert (r.status_code, problem["code"]) == (case.status, case.code.value), problem
    assert problem["status"] == r.status_code
    assert problem["type"] == f"urn:parley:problem:{problem['code']}"
    assert problem["title"]
    assert problem["detail"]
    assert "Traceback" not in r.text
    assert "sqlalchemy" not in r.text.lower()


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "a/b/../../c", "https://example.org/2025/03/a?b=c#d", "ü ß 漢字 🙂"],
)
def test_hostile_thread_keys_are_opaque_names(world: World, key: str) -> None:
    """Keys that look like paths or URLs are just names: nothing is resolved, nothing leaks."""
    from urllib.parse import quote

    r = world.client.get(f"/api/v1/threads/{quote(key, safe='')}/comments")
    assert r.status_code == 200, r.text
    assert r.json()["thread"]["key"] == key
    assert r.json()["comments"] == []


def test_nothing_malformed_was_stored(world: World) -> None:
    app = world.client.app
    assert _count_rows(app) == world.counts
