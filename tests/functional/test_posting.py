"""Posting: guests, registered readers (bearer and cookie + CSRF), SSO readers; thread creation;
replies; Idempotency-Key; closed threads; what the stored comment looks like."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from parley.audit.models import AuditEvent
from parley.clock import FrozenClock
from parley.comments.models import Comment, Thread
from parley.comments.paths import segment
from parley.db.database import Database
from support.factories import bearer, configure_site, make_comments, make_site, post, register

URL = "/api/v1/threads/{}/comments"


def count(db: Database, model: Any = Comment) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@contextmanager
def sent(db: Database) -> Iterator[list[tuple[Any, str]]]:
    """Every statement the write engine sends inside the block, with the cursor it went out on
    (kept: no id is reused)."""
    statements: list[tuple[Any, str]] = []

    def seen(_conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        statements.append((cursor, sql))

    event.listen(db.write_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(db.write_engine, "before_cursor_execute", seen)


@contextmanager
def sent_by_new_guests(client: TestClient, db: Database) -> Iterator[list[tuple[Any, str]]]:
    """:func:`sent`, the client's cookies cleared before and after: each POST inside comes from a
    guest without a session (as a flood's would), unless the block sends one."""
    client.cookies.clear()
    try:
        with sent(db) as statements:
            yield statements
    finally:
        client.cookies.clear()


def selects(statements: list[tuple[Any, str]]) -> list[str]:
    return [sql for _, sql in statements if sql.lstrip().upper().startswith("SELECT")]


def test_guest_post_gets_a_session_cookie(client: TestClient) -> None:
    r = client.post(URL.format("g1"), json={"body": "Erster!", "author_name": "Gast Geber"})
    assert r.status_code == 201, r.text
    session = r.json()["session"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"parley_session={session['token']};")
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attrs
    assert "secure" not in attrs
    assert "samesite=lax" in cookie.lower()
    # the same guest posts again with the cookie: CSRF token required, then no new session
    r = client.post(URL.format("g1"), json={"body": "Zweiter!"})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    r = client.post(
        URL.format("g1"), json={"body": "Zweiter!"}, headers={"X-CSRF-Token": session["csrf_token"]}
    )
    assert r.status_code == 201, r.text
    assert "session" not in r.json() or r.json()["session"] is None
    assert r.json()["comment"]["author"]["name"] == "Gast Geber"
    assert r.json()["comment"]["author"]["guest"] is True
    client.cookies.clear()


def test_registered_reader_posts_with_bearer_and_with_cookie(client: TestClient) -> None:
    account = register(client, name="Regina Registriert")
    r = post(client, "reg", "Mit Konto.", token=account["token"])
    assert r.status_code == 201, r.text
    c = r.json()["comment"]
    assert c["author"] == {
        "name": "Regina Registriert",
        "verified": False,
        "role": "commenter",
        "guest": False,
    }
    assert c["mine"] is True
    assert r.json().get("session") is None
    # author_name from a logged-in reader is ignored, not a second identity
    r = post(client, "reg", "Anderer Name?", token=account["token"], author_name="Jemand Anders")
    assert r.json()["comment"]["author"]["name"] == "Regina Registriert"
    client.cookies.set("parley_session", account["token"])
    r = client.post(URL.format("reg"), json={"body": "Mit Cookie."})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    r = client.post(URL.format("reg"), json={"body": "Mit Cookie."}, headers={"X-CSRF-Token": "falsch"})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    r = client.post(
        URL.format("reg"), json={"body": "Mit Cookie."}, headers={"X-CSRF-Token": account["csrf_token"]}
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()


def test_sso_reader_posts_with_a_publisher_token(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_site(db, clock, "verlag", name="Verlag", sso_secret="verlag-secret-0123456789abcdef-0123456789")
    claims = {
        "sub": "u-42",
        "name": "Vera Verlag",
        "email": "vera@verlag.example",
        "exp": int(time.time()) + 600,
    }
    token = jwt.encode(claims, "verlag-secret-0123456789abcdef-0123456789", algorithm="HS256")
    r = client.post(
        URL.format("s"), json={"body": "Über SSO."}, headers={**bearer(token), "X-Parley-Site": "verlag"}
    )
    assert r.status_code == 201, r.text
    first = r.json()["comment"]
    assert first["author"]["name"] == "Vera Verlag"
    assert first["author"]["guest"] is False
    r = client.post(
        URL.format("s"), json={"body": "Noch einmal."}, headers={**bearer(token), "X-Parley-Site": "verlag"}
    )
    assert r.status_code == 201
    with db.read() as s:
        authors = set(s.scalars(select(Comment.author_id).where(Comment.site_id != 1)))
    assert len(authors) == 1  # (site, sub) is one account
    # the same token is worth nothing on another site
    r = client.post(URL.format("s"), json={"body": "Falsche Seite."}, headers=bearer(token))
    assert r.status_code in (400, 401)
    assert r.json()["code"] in ("sso_not_configured", "invalid_token")


def test_first_comment_creates_the_thread(client: TestClient, db: Database) -> None:
    r = post(client, "new-story", "Los geht's.", title="  Eine   Geschichte ", url="javascript:alert(1)")
    assert r.status_code == 201
    listing = client.get(URL.format("new-story")).json()
    assert listing["thread"]["title"] == "Eine Geschichte"
    assert listing["thread"]["url"] == ""  # only http(s) article URLs are kept
    post(client, "new-story", "Zweiter.", title="Anderer Titel", url="https://news.example/story")
    thread = client.get(URL.format("new-story")).json()["thread"]
    assert thread["title"] == "Eine Geschichte"  # the first title stays
    assert thread["url"] == "https://news.example/story"  # an empty url is filled in
    assert thread["comment_count"] == 2
    assert count(db, Thread) == 1


def test_thread_creation_can_be_switched_off(
    client: TestClient, app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    make_comments(db, clock, "exists", 1)
    configure_site(app, "test", auto_create_threads=False)
    r = post(client, "does-not-exist", "Hallo?")
    assert r.status_code == 404
    assert r.json()["code"] == "thread_not_found"
    assert post(client, "exists", "Hier geht es.").status_code == 201


def test_guests_can_be_switched_off(client: TestClient, app: FastAPI) -> None:
    configure_site(app, "test", guests_allowed=False)
    r = post(client, "members", "Als Gast?")
    assert r.status_code == 401
    assert r.json()["code"] == "guests_not_allowed"
    account = register(client)
    assert post(client, "members", "Mit Konto.", token=account["token"]).status_code == 201


def test_replies_need_a_visible_parent_in_the_same_thread(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    [root] = make_comments(db, clock, "r", 1)
    [elsewhere] = make_comments(db, clock, "other", 1)
    [held] = make_comments(db, clock, "r", 1, status="held")
    r = post(client, "r", "Antwort.", parent_id=root)
    assert r.status_code == 201
    reply = r.json()["comment"]
    assert (reply["parent_id"], reply["depth"]) == (root, 1)
    r2 = post(client, "r", "Antwort auf die Antwort.", parent_id=reply["id"])
    assert r2.json()["comment"]["depth"] == 2
    for parent in (elsewhere, held, 10**9):
        r = post(client, "r", "Ins Leere.", parent_id=parent)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_parent"), parent
    top = client.get(URL.format("r")).json()["comments"][0]
    assert (top["reply_count"], top["descendant_count"]) == (1, 2)


def test_bodies_are_rendered_and_sanitized(client: TestClient) -> None:
    source = (
        "**fett** und [Link](https://example.org/a) <script>alert(1)</script>\n\n"
        "[böse](javascript:alert(1)) ![Bild](https://example.org/x.png)\n\n> Zitat"
    )
    html = post(client, "html", source).json()["comment"]["html"]
    assert "<strong>fett</strong>" in html
    assert '<a href="https://example.org/a" rel="nofollow ugc noopener">Link</a>' in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html.replace("&lt;", "<").split("href=")[-1] or 'href="javascript' not in html
    assert "<img" not in html
    assert "<blockquote>" in html


def test_site_length_limits(client: TestClient, app: FastAPI) -> None:
    configure_site(app, "test", moderation={"max_length": 20, "min_length": 5})
    r = post(client, "len", "x" * 21)
    assert r.status_code == 422
    assert r.json()["code"] == "body_too_long"
    r = post(client, "len", "kurz")
    assert r.status_code == 422
    assert r.json()["code"] == "body_too_short"
    assert post(client, "len", "genau richtig").status_code == 201


# --- Idempotency-Key --------------------------------------------------------------------------------


def test_same_key_and_body_give_the_same_answer_once(client: TestClient, db: Database) -> None:
    key = str(uuid.uuid4())
    payload = {"body": "Nur einmal, bitte.", "author_name": "Ida Idempotent"}
    first = client.post(URL.format("idem"), json=payload, headers={"Idempotency-Key": key})
    client.cookies.clear()
    again = client.post(URL.format("idem"), json=payload, headers={"Idempotency-Key": key})
    client.cookies.clear()
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert count(db) == 1
    # another key is another comment
    other = client.post(URL.format("idem"), json=payload, headers={"Idempotency-Key": str(uuid.uuid4())})
    client.cookies.clear()
    assert other.status_code == 201
    assert other.json()["comment"]["id"] != first.json()["comment"]["id"]


def test_same_key_with_another_body_is_refused(client: TestClient, db: Database) -> None:
    key = "k-" + uuid.uuid4().hex
    ok = client.post(
        URL.format("idem"), json={"body": "Eins.", "author_name": "Ida"}, headers={"Idempotency-Key": key}
    )
    client.cookies.clear()
    assert ok.status_code == 201
    for changed in (
        {"body": "Zwei.", "author_name": "Ida"},
        {"body": "Eins.", "author_name": "Ida", "parent_id": 1},
    ):
        r = client.post(URL.format("idem"), json=changed, headers={"Idempotency-Key": key})
        assert r.status_code == 422
        assert r.json()["code"] == "idempotency_mismatch"
        assert r.headers["content-type"] == "application/problem+json"
    r = client.post(
        URL.format("idem-elsewhere"),
        json={"body": "Eins.", "author_name": "Ida"},
        headers={"Idempotency-Key": key},
    )
    assert r.json()["code"] == "idempotency_mismatch"  # the thread is part of the request
    assert count(db) == 1


def test_idempotency_keys_belong_to_their_account(client: TestClient, db: Database) -> None:
    a, b = register(client), register(client)
    key = "shared-key"
    ra = client.post(
        URL.format("idem"), json={"body": "Von A."}, headers={**bearer(a["token"]), "Idempotency-Key": key}
    )
    rb = client.post(
        URL.format("idem"), json={"body": "Von A."}, headers={**bearer(b["token"]), "Idempotency-Key": key}
    )
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["comment"]["id"] != rb.json()["comment"]["id"]
    assert count(db) == 2


def test_a_refused_post_does_not_burn_its_key(client: TestClient, app: FastAPI) -> None:
    key = "retry-" + uuid.uuid4().hex
    payload = {"body": "Jetzt aber.", "author_name": "Rita Retry"}
    configure_site(app, "test", guests_allowed=False)
    assert client.post(URL.format("k"), json=payload, headers={"Idempotency-Key": key}).status_code == 401
    configure_site(app, "test", guests_allowed=True)
    r = client.post(URL.format("k"), json=payload, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    client.cookies.clear()


# --- closed threads -------------------------------------------------------------------------------


@pytest.fixture
def admin_token(db: Database, clock: FrozenClock) -> str:
    from parley.accounts.models import Role
    from support.factories import make_account, make_api_token

    return make_api_token(db, clock, make_account(db, clock, role=Role.ADMIN, password=None))


def test_closed_threads_refuse_comments(
    client: TestClient, db: Database, clock: FrozenClock, admin_token: str
) -> None:
    [cid] = make_comments(db, clock, "closing", 1)
    account = register(client)
    r = client.post("/api/v1/admin/sites/test/threads/closing/close", headers=bearer(admin_token))
    assert r.status_code == 200
    assert r.json()["status"] == "closed"
    assert client.get(URL.format("closing")).json()["thread"]["status"] == "closed"
    r = post(client, "closing", "Zu spät?")
    assert r.status_code == 409
    assert r.json()["code"] == "thread_closed"
    r = post(client, "closing", "Antwort?", parent_id=cid, token=account["token"])
    assert r.status_code == 409
    assert r.json()["code"] == "thread_closed"
    # reading and voting still work
    assert (
        client.put(
            f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=bearer(account["token"])
        ).status_code
        == 200
    )
    client.post("/api/v1/admin/sites/test/threads/closing/open", headers=bearer(admin_token))
    assert post(client, "closing", "Wieder offen.").status_code == 201


def test_threads_close_after_the_sites_days(client: TestClient, app: FastAPI, clock: FrozenClock) -> None:
    configure_site(app, "test", close_after_days=2)
    assert post(client, "timed", "Am ersten Tag.").status_code == 201
    clock.advance(86400)
    assert post(client, "timed", "Am zweiten Tag.").status_code == 201
    clock.advance(86400 + 1)
    r = post(client, "timed", "Am dritten Tag.")
    assert r.status_code == 409
    assert r.json()["code"] == "thread_closed"
    assert client.get(URL.format("timed")).json()["thread"]["status"] == "closed"


def test_the_answer_to_a_post_shows_the_comment_as_stored(client: TestClient, app: FastAPI) -> None:
    """The 201 body is built from the write unit's objects, not read back: it must equal what a
    read of the stored comment shows its author — for a top-level comment, a reply, and a held one."""
    configure_site(app, "test", moderation={"terms": {"suspect": ["Staatsfunk"]}})
    headers: dict[str, str] = {}

    def post_and_compare(body: dict[str, Any]) -> dict[str, Any]:
        r = client.post(URL.format("stored"), json=body, headers=headers)
        assert r.status_code == 201, r.text
        if r.json().get("session"):
            headers["X-CSRF-Token"] = r.json()["session"]["csrf_token"]
        answered: dict[str, Any] = r.json()["comment"]
        stored = client.get(f"/api/v1/comments/{answered['id']}").json()
        shown = {k: v for k, v in answered.items() if k not in ("reasons", "statement_url")}
        assert shown == {k: v for k, v in stored.items() if k in shown}
        assert set(stored) <= set(shown) | {"replies", "source"}  # the single read adds the Markdown
        return answered

    top = post_and_compare({"body": "Erster *Beitrag*", "author_name": "Ida Moser"})
    reply = post_and_compare({"body": "Antwort", "parent_id": top["id"]})
    held = post_and_compare({"body": "Der Staatsfunk lügt"})
    assert reply["parent_id"] == top["id"]
    assert reply["depth"] == 1
    assert held["status"] == "held"
    assert held["mine"] is True
    client.cookies.clear()


def test_concurrent_posts_take_turns_for_their_work_before_the_write_lock(
    client: TestClient, app: FastAPI, db: Database
) -> None:
    """The pipeline's text-only work runs before the writers' lock, one request at a time per
    process (``Registry.cpu_turns``): CPU-bound threads left to compete for the GIL starved some
    requests for seconds. Six concurrent guest POSTs: never two preparing at once, all stored."""
    import threading

    pipeline = app.state.registry.pipeline
    original = pipeline.prepare
    inside = [0]
    most = [0]
    guard = threading.Lock()

    def slow_prepare(ctx: Any) -> Any:
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for the other requests to arrive meanwhile
        try:
            return original(ctx)
        finally:
            with guard:
                inside[0] -= 1

    pipeline.prepare = slow_prepare
    try:
        before = count(db)
        results: list[int] = []

        def one(i: int) -> None:
            r = client.post(
                URL.format("turns"), json={"body": f"Gleichzeitig Nummer {i}", "author_name": f"Gast {i}"}
            )
            results.append(r.status_code)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pipeline.prepare = original
        client.cookies.clear()
    assert results == [201] * 6
    assert count(db) == before + 6
    assert most[0] == 1


def test_a_comment_is_stored_whole_with_its_path(client: TestClient, db: Database) -> None:
    """Its id is drawn before the INSERT, so the row carries its path and root: no UPDATE of the
    comment follows (on PostgreSQL one would add a second entry to each of the table's indexes)."""
    try:
        with sent(db) as seen:
            top = client.post(URL.format("ganz"), json={"body": "Oben", "author_name": "Ida Ganz"})
            csrf = {"X-CSRF-Token": top.json()["session"]["csrf_token"]}
            reply = client.post(
                URL.format("ganz"),
                json={"body": "Darunter", "parent_id": top.json()["comment"]["id"]},
                headers=csrf,
            )
    finally:
        client.cookies.clear()
    statements = [" ".join(sql.split()).lower() for _, sql in seen]
    assert top.status_code == reply.status_code == 201, (top.text, reply.text)
    assert sum(s.startswith("insert into comments ") for s in statements) == 2
    assert not [s for s in statements if s.startswith("update comments ") and "path" in s]
    top_id, reply_id = top.json()["comment"]["id"], reply.json()["comment"]["id"]
    with db.read() as s:
        stored = {c.id: c for c in s.scalars(select(Comment).where(Comment.id.in_([top_id, reply_id])))}
    assert (stored[top_id].path, stored[top_id].root_id) == (segment(top_id), top_id)
    assert (stored[reply_id].path, stored[reply_id].root_id) == (segment(top_id) + segment(reply_id), top_id)
    assert reply_id > top_id


def test_a_guests_post_writes_in_one_statement_on_postgresql(client: TestClient, db: Database) -> None:
    """A new guest's account and session, the comment, the thread's counters, the decision and the
    copy index's rows go out together (``Direct.defer``, decision 0011): on PostgreSQL as one
    statement; SQLite runs each at once."""
    client.post(URL.format("einmal"), json={"body": "Der Faden beginnt.", "author_name": "Erste"})
    with sent_by_new_guests(client, db) as statements:
        body = "Ein Beitrag mit genug Wörtern, damit der Kopienindex ihn aufnimmt und Zeilen schreibt."
        r = client.post(URL.format("einmal"), json={"body": body, "author_name": "Zweite Stimme"})
    writes = [
        (cursor, f"{words[0]} {words[2 if words[0] == 'INSERT' else 1]}")
        for cursor, words in ((c, sql.split()) for c, sql in statements)
        if words[0] in ("INSERT", "UPDATE")
    ]
    assert r.status_code == 201, r.text
    assert r.json()["comment"]["status"] == "published"
    tables = {w for _, w in writes}
    assert {"INSERT sessions", "INSERT comments", "UPDATE threads", "INSERT moderation_decisions"} <= tables
    assert {"INSERT moderation_copy_signatures", "INSERT moderation_copy_bands"} <= tables
    assert "INSERT accounts" in tables  # a new guest: its id drawn with the POST's first read
    assert len({id(c) for c, _ in writes}) == (len(writes) if db.is_sqlite else 1)


def test_a_guests_post_reads_in_one_statement_on_postgresql(client: TestClient, db: Database) -> None:
    """The thread, the ids, the webhooks, the guest's name holder and returning account and the
    copies phase's look-up in the index are one statement on PostgreSQL (``Direct.first_with``) —
    and what each read found still decides: a returning guest keeps their account, the copy of
    another author's comment is held."""
    body = "Ein Beitrag mit genug Wörtern, damit der Kopienindex ihn aufnimmt und später wiederfindet."
    first = client.post(URL.format("lesen"), json={"body": body, "author_name": "Erste", "email": "e@x.at"})
    assert first.status_code == 201, first.text
    with sent_by_new_guests(client, db) as statements:
        again = client.post(
            URL.format("lesen"),
            json={
                "body": "Noch ein anderer Gedanke dazu, der mit dem ersten nichts teilt.",
                "author_name": "Erste",
                "email": "e@x.at",
            },
        )
        client.cookies.clear()
        copy = client.post(URL.format("lesen"), json={"body": body, "author_name": "Kopistin"})
    reads = selects(statements)
    assert again.status_code == 201, again.text
    with db.read() as s:
        authors = s.scalars(select(Comment.author_id).order_by(Comment.id)).all()
    assert authors[-2] == authors[-3]  # the returning guest's account, found by the same read
    assert copy.status_code == 201, copy.text
    assert copy.json()["comment"]["status"] == "held"
    assert "copy_spam" in {r["code"] for r in copy.json()["reasons"]}
    if not db.is_sqlite:
        assert len(reads) == 2, reads  # one per POST: every table in one statement
        assert all("accounts" in sql and "moderation_copy_bands" in sql for sql in reads)


def test_a_held_posts_audit_event_goes_out_with_its_other_writes(client: TestClient, db: Database) -> None:
    """A comment the pipeline holds is audited (``comment.moderated``) — in the unit's deferred
    writes (``audit.services.do_audit_later``): on PostgreSQL the held POST writes in one
    statement, as a published one does, instead of sending its writes early for the event's id."""
    body = "Ein Beitrag mit genug Wörtern, damit der Kopienindex ihn aufnimmt und später wiederfindet."
    first = client.post(URL.format("pruefen"), json={"body": body, "author_name": "Erste"})
    assert first.status_code == 201, first.text
    with sent_by_new_guests(client, db) as statements:
        copy = client.post(URL.format("pruefen"), json={"body": body, "author_name": "Kopistin"})
    assert copy.status_code == 201, copy.text
    assert copy.json()["comment"]["status"] == "held"
    with db.read() as s:
        audited = s.execute(
            select(AuditEvent.object_id, AuditEvent.action, AuditEvent.data).where(
                AuditEvent.action == "comment.moderated"
            )
        ).all()
    assert [(a.object_id, a.action) for a in audited] == [(copy.json()["comment"]["id"], "comment.moderated")]
    assert audited[0].data["after"] == "held"
    assert "copy_spam" in audited[0].data["codes"]
    if not db.is_sqlite:
        writes = [
            (cursor, sql) for cursor, sql in statements if not sql.lstrip().upper().startswith("SELECT")
        ]
        # the deferred writes go out as one statement, on one cursor (each part is still seen)
        assert len({id(cursor) for cursor, _ in writes}) == 1, [sql[:60] for _, sql in writes]
        assert any(sql.startswith("INSERT INTO audit_events") for _, sql in writes)


def test_a_replys_parent_is_read_with_the_posts_first_read(client: TestClient, db: Database) -> None:
    """A reply's parent goes along the POST's first read (``services.parent_along``): one statement
    on PostgreSQL; on either database the parent is not read a second time through the ORM."""
    top = client.post(
        URL.format("antwort"), json={"body": "Worauf man antworten kann.", "author_name": "Erste"}
    )
    assert top.status_code == 201, top.text
    with sent_by_new_guests(client, db) as statements:
        reply = client.post(
            URL.format("antwort"),
            json={
                "body": "Eine Antwort darauf.",
                "author_name": "Zweite",
                "parent_id": top.json()["comment"]["id"],
            },
        )
    reads = selects(statements)
    assert reply.status_code == 201, reply.text
    assert reply.json()["comment"]["parent_id"] == top.json()["comment"]["id"]
    assert reply.json()["comment"]["depth"] == 1
    parent_reads = [sql for sql in reads if "comments.id = " in sql or "comments_1.id = " in sql]
    assert len(parent_reads) == 1, "\n----\n".join(parent_reads)  # not again through the ORM
    if not db.is_sqlite:
        assert parent_reads[0] is reads[0]  # inside the POST's first statement


def test_a_guest_with_the_same_name_and_address_returns_to_their_account(
    client: TestClient, db: Database
) -> None:
    """Name and e-mail address find the guest account again (on PostgreSQL read together with the
    name's holder, ``accounts.services.guest_look_up``); another address makes another account, and
    a registered reader's name is still refused to a guest."""
    register(client, name="Rita Registriert")
    client.cookies.clear()

    def author_of(body: str, name: str, email: str) -> int:
        r = post(client, "wieder", body, author_name=name, email=email)
        assert r.status_code == 201, r.text
        comment_id = r.json()["comment"]["id"]
        with db.read() as s:
            return int(s.scalar(select(Comment.author_id).where(Comment.id == comment_id)) or 0)

    first = author_of("Zum ersten Mal hier.", "Gerda Gast", "gerda@example.org")
    again = author_of("Schon wieder da.", "Gerda  Gast", "Gerda@Example.org")  # the same, written apart
    other = author_of("Eine andere Gerda.", "Gerda Gast", "andere@example.org")
    assert first == again
    assert other not in (0, first)
    taken = post(client, "wieder", "Ich bin Rita.", author_name="Rita Registriert", email="rita@example.org")
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "name_taken"
