"""Bad bodies: naughty strings in every text field; a real server's memory under hostile bodies.

``tests/functional/test_malformed.py`` sends one of each kind of malformed request (10 MB with and
without Content-Length, 10⁵-deep JSON arrays and objects, invalid UTF-8, NUL, lone surrogates …)
and checks each answer's status and code. This file adds:

- every string of ``data/naughty.jsonl`` (our own list, in the spirit of the
  big-list-of-naughty-strings) as every text field of every reader-facing write (comment body,
  guest name, e-mail, title and URL; an edit; a report's reason, explanation and contact; an
  appeal; registration, login, renaming oneself, an SSO token) and as an admin's site name:
  never a 5xx, every refusal a problem document, every acceptance readable back;
- a real ``parley serve`` taking ten 10 MB bodies (declared and chunked), 10⁵-deep JSON, invalid
  UTF-8 and a flood of naughty posts: its resident memory grows by less than
  :data:`MAX_GROWTH_MB` (nothing buffers a body it is going to refuse).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seckit import call, load_jsonl, seed_site, serving

from parley.accounts.models import Role
from parley.clock import FrozenClock
from support.factories import bearer, configure_site, make_account, make_api_token, register

NAUGHTY = load_jsonl("naughty.jsonl")
MAX_GROWTH_MB = 40
PROBLEM = "application/problem+json"


def check(r: Any, what: str, sent: list[int]) -> None:
    sent[0] += 1
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"] == PROBLEM, f"{what}: {r.headers.get('content-type')}"
        assert r.json()["code"], what


@pytest.mark.parametrize(
    "strings",
    [pytest.param(NAUGHTY[::4], id="sample"), pytest.param(NAUGHTY, id="all", marks=pytest.mark.slow)],
)
def test_naughty_strings_in_every_text_field(
    app: FastAPI, client: TestClient, clock: FrozenClock, strings: list[str]
) -> None:
    assert len(NAUGHTY) >= 80
    configure_site(app, "test", moderation={"rate": {"enabled": False}, "classifier": {"enabled": False}})
    db = app.state.registry.db
    admin = bearer(make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN, password=None)))
    reader = register(client)
    auth = {**bearer(reader["token"])}
    client.cookies.clear()
    mine = client.post("/api/v1/threads/naughty/comments", json={"body": "Mein Text."}, headers=auth)
    assert mine.status_code == 201
    cid = mine.json()["comment"]["id"]
    configure_site(
        app,
        "test",
        moderation={"rate": {"enabled": False}, "classifier": {"enabled": False}, "premoderate_all": True},
    )
    held = client.post("/api/v1/threads/naughty/comments", json={"body": "Prüfen."}, headers=auth).json()
    appeal_path = "/api/v1/statements/" + held["statement_url"].rsplit("/", 1)[1] + "/appeal"
    configure_site(app, "test", moderation={"rate": {"enabled": False}, "classifier": {"enabled": False}})
    sent = [0]
    accepted = 0
    for i, s in enumerate(strings):
        post = "/api/v1/threads/naughty/comments"
        guest = {"body": "Gastbeitrag.", "author_name": f"Gast {uuid.uuid4().hex[:6]}"}
        for field, payload in (
            ("body", {"body": s}),
            ("author_name", {**guest, "author_name": s}),
            ("email", {**guest, "email": s}),
            ("title", {"body": "Neu.", "title": s}),
            ("url", {"body": "Neu.", "url": s}),
        ):
            key = f"n{i}-{field}"
            r = client.post(
                post.replace("naughty", key),
                json=payload,
                headers=auth if field != "author_name" and field != "email" else {},
            )
            client.cookies.clear()
            check(r, f"{field}={s[:40]!r}", sent)
            if r.status_code == 201:
                accepted += 1
                back = client.get(f"/api/v1/threads/{key}/comments")
                check(back, f"read back {field}", sent)
        check(client.patch(f"/api/v1/comments/{cid}", json={"body": s}, headers=auth), "edit", sent)
        check(client.post(f"/api/v1/comments/{cid}/reports", json={"reason": s}), "report reason", sent)
        check(
            client.post(
                f"/api/v1/comments/{cid}/reports", json={"reason": "other", "detail": s, "contact": s}
            ),
            "report detail",
            sent,
        )
        check(client.post(appeal_path, json={"text": s}, headers=auth), "appeal", sent)
        check(
            client.post("/api/v1/auth/register", json={"name": s, "email": s, "password": s}),
            "register",
            sent,
        )
        client.cookies.clear()
        check(client.post("/api/v1/auth/login", json={"email": s, "password": s}), "login", sent)
        check(client.patch("/api/v1/me", json={"name": s}, headers=auth), "rename", sent)
        check(client.post("/api/v1/auth/sso", json={"token": s}), "sso", sent)
        check(client.patch("/api/v1/admin/sites/test", json={"name": s}, headers=admin), "site name", sent)
        client.cookies.clear()
    print(f"naughty strings: {len(strings)} strings, {sent[0]} requests, {accepted} comments accepted")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def declared_post(port: int, path: str, body: bytes) -> int:
    """A body with its Content-Length; the server may answer and close before it has all of it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        with contextlib.suppress(OSError):  # refused by its declared length before it was sent
            conn.send(body)
        return conn.getresponse().status
    finally:
        conn.close()


def chunked_post(port: int, path: str, size: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"a" * 65536
        sent = 0
        try:
            while sent < size:
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            conn.send(b"0\r\n\r\n")
        except OSError:  # the server answered and closed early: that is the point
            pass
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_real_server_stays_small_under_hostile_bodies(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "parley.db")
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    seed_site(url, tmp_path)
    path = "/api/v1/threads/gross/comments"
    with serving(url, tmp_path) as server:
        port = server.port
        assert server.proc is not None
        call(port, "GET", "/api/v1/threads/gross/comments")  # warm up
        before = rss_kb(server.proc.pid)
        statuses: dict[str, set[int]] = {}
        big = b'{"body": "' + b"a" * (10 * 1024 * 1024) + b'"}'
        for _ in range(5):
            statuses.setdefault("10MB", set()).add(declared_post(port, path, big))
            statuses.setdefault("10MB-chunked", set()).add(chunked_post(port, path, 10 * 1024 * 1024))
        deep = b"[" * 100_000 + b"]" * 100_000
        invalid = b'{"body": "\xff\xfe\xc3\x28"}'
        for name, raw in (("deep", deep), ("invalid-utf8", invalid), ("nul", b'{"body": "a\\u0000b"}')):
            statuses[name] = {
                call(port, "POST", path, raw=raw, headers={"Content-Type": "application/json"}).status
            }
        for s in NAUGHTY[:40]:
            r = call(port, "POST", path, {"body": s, "author_name": f"Gast {uuid.uuid4().hex[:6]}"})
            statuses.setdefault("naughty", set()).add(r.status)
        after = rss_kb(server.proc.pid)
    assert statuses["10MB"] == {413}
    assert statuses["10MB-chunked"] == {413}
    assert all(s < 500 for v in statuses.values() for s in v), statuses
    assert all(400 <= s < 500 for k in ("deep", "invalid-utf8", "nul") for s in statuses[k]), statuses
    growth = (after - before) / 1024
    answers = json.dumps({k: sorted(v) for k, v in statuses.items()})
    print(f"bad bodies: RSS {before // 1024} MB -> {after // 1024} MB after 100 MB refused; {answers}")
    assert growth < MAX_GROWTH_MB, f"resident memory grew {growth:.0f} MB"
