"""The front of the response cache (``parley.cache.front``, ``parley.web.frontcache``): a repeated
anonymous read is answered without routing or the database, with the same bytes and headers as the
view sends; a write by this or another process, a passing closing time, credentials, another site
or another query all go the normal way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from parley.app import create_app
from parley.clock import FrozenClock
from parley.comments.models import Thread
from parley.config import Settings
from parley.db.database import Database
from parley.jobs.services import do_enqueue
from support.factories import bearer, make_comments, make_site, post, register

URL = "/api/v1/threads/{}/comments"


@contextmanager
def counting_reads(db: Database) -> Iterator[list[int]]:
    """Counts the read units of work the app opens (the front answers without one)."""
    count = [0]
    original = db.read

    @contextmanager
    def read() -> Iterator[Any]:
        count[0] += 1
        with original() as session:
            yield session

    db.read = read  # type: ignore[method-assign]
    try:
        yield count
    finally:
        db.read = original  # type: ignore[method-assign]


def get(client: TestClient, path: str, **kw: Any) -> Any:
    r = client.get(path, **kw)
    assert r.status_code in (200, 304), r.text
    return r


def test_a_repeated_read_is_answered_without_the_database_and_with_the_same_bytes(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    make_comments(db, app.state.registry.clock, "front", 30, text="Ein längerer Kommentar Nummer {i}.")
    # three query strings: the front remembers per query, and answers any encoding from one entry
    for query, headers in (
        ("view=flat", {"Accept-Encoding": "identity"}),
        ("limit=20", {"Accept-Encoding": "gzip"}),
        ("limit=10", {"Accept-Encoding": "gzip, deflate, br"}),
    ):
        path = URL.format("front") + "?" + query
        with counting_reads(db) as reads:
            slow = get(client, path, headers=headers)
            assert reads[0] == 1
            fast = get(client, path, headers=headers)
            assert reads[0] == 1, "the second read went to the database"
        assert fast.content == slow.content
        assert dict(fast.headers) == dict(slow.headers)
        # a conditional request answered by the front is the same 304 as the view's
        cond = {**headers, "If-None-Match": slow.headers["etag"]}
        with counting_reads(db) as reads:
            not_modified = get(client, path, headers=cond)
            assert reads[0] == 0
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == slow.headers["etag"]
        wanted = {"identity": None, "gzip": "gzip"}.get(headers["Accept-Encoding"], "br")
        assert fast.headers.get("content-encoding") == wanted


def test_a_write_by_another_process_is_seen_on_the_next_read(
    app: FastAPI, client: TestClient, db: Database, settings: Settings
) -> None:
    make_comments(db, app.state.registry.clock, "elsewhere", 2)
    path = URL.format("elsewhere")
    get(client, path)
    assert get(client, path).json()["thread"]["status"] == "open"
    other = Database(settings)  # what `parley worker`, a CLI command or another worker opens
    try:
        with other.write() as s:  # not even through a service: the stamp sees every committed row
            s.execute(update(Thread).where(Thread.key == "elsewhere").values(status="closed"))
    finally:
        other.dispose()
    assert get(client, path).json()["thread"]["status"] == "closed"


def test_bookkeeping_writes_and_writes_that_change_nothing_keep_the_front(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    clock = app.state.registry.clock
    make_comments(db, clock, "quiet", 2)
    path = URL.format("quiet")
    get(client, path)
    with db.write() as s:
        do_enqueue(s, "test.nothing", {}, clock.now())  # the job queue: no reader sees it
        s.execute(update(Thread).where(Thread.key == "no-such-thread").values(title="x"))  # 0 rows
    with counting_reads(db) as reads:
        get(client, path)
        assert reads[0] == 0
    with db.write() as s:
        s.execute(update(Thread).where(Thread.key == "quiet").values(title="Neuer Titel"))
    with counting_reads(db) as reads:
        assert get(client, path).json()["thread"]["title"] == "Neuer Titel"
        assert reads[0] == 1


def test_a_closing_time_that_passes_is_seen_without_any_write(
    app: FastAPI, client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_comments(db, clock, "closes", 1)
    with db.write() as s:
        s.execute(
            update(Thread).where(Thread.key == "closes").values(closes_at=clock.now() + timedelta(hours=1))
        )
    path = URL.format("closes")
    assert get(client, path).json()["thread"]["status"] == "open"
    with counting_reads(db) as reads:
        assert get(client, path).json()["thread"]["status"] == "open"
        assert reads[0] == 0
    clock.advance(3600)
    assert get(client, path).json()["thread"]["status"] == "closed"


def test_the_answer_is_rechecked_after_cache_recheck_seconds(
    app: FastAPI, client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_comments(db, clock, "recheck", 1)
    path = URL.format("recheck")
    get(client, path)
    with counting_reads(db) as reads:
        get(client, path)
        assert reads[0] == 0
        clock.advance(app.state.registry.settings.cache_recheck_seconds)
        get(client, path)
        assert reads[0] == 1


def test_logged_in_readers_never_get_the_front(app: FastAPI, client: TestClient, db: Database) -> None:
    make_comments(db, app.state.registry.clock, "mine", 1)
    path = URL.format("mine")
    get(client, path)
    get(client, path)
    account = register(client)
    client.cookies.set("parley_session", account["token"])
    with counting_reads(db) as reads:
        by_cookie = get(client, path)
        assert reads[0] == 1
    assert by_cookie.headers["cache-control"] == "private, no-cache"
    client.cookies.clear()
    with counting_reads(db) as reads:
        by_token = get(client, path, headers=bearer(account["token"]))
        assert reads[0] == 1
    assert by_token.headers["cache-control"] == "private, no-cache"
    assert post(client, "mine", "Mein eigener.", token=account["token"]).status_code == 201


def test_the_site_an_origin_chooses_is_part_of_what_is_remembered(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    clock = app.state.registry.clock
    make_site(db, clock, "zweite", name="Zweite Zeitung", allowed_origins=["https://zweite.example"])
    make_comments(db, clock, "gleich", 1, text="Auf der Testzeitung.")
    make_comments(db, clock, "gleich", 2, site="zweite", text="Auf der zweiten {i}.")
    path = URL.format("gleich")
    for _ in range(2):
        first = get(client, path, headers={"Origin": "http://testserver"}).json()
        second = get(client, path, headers={"Origin": "https://zweite.example"}).json()
        by_param = get(client, path + "?site=zweite").json()
        assert (first["site"]["name"], len(first["comments"])) == ("Testzeitung", 1)
        assert (second["site"]["name"], len(second["comments"])) == ("Zweite Zeitung", 2)
        assert by_param == second
    # repeated headers: the view reads the first one, so the front must remember under the first
    both = get(client, path, headers=[("Origin", "https://zweite.example"), ("Origin", "http://testserver")])
    assert both.json()["site"]["name"] == "Zweite Zeitung"
    for _ in range(2):
        alone = get(client, path, headers={"Origin": "http://testserver"}).json()
        assert alone["site"]["name"] == "Testzeitung"


@pytest.fixture
def app_without_front(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(settings.model_copy(update={"cache_recheck_seconds": 0}), clock=clock)
    make_site(application.state.registry.db, clock, "test", name="Testzeitung")
    yield application
    application.state.registry.close()


def test_recheck_zero_turns_the_front_off(app_without_front: FastAPI) -> None:
    db = app_without_front.state.registry.db
    make_comments(db, app_without_front.state.registry.clock, "off", 1)
    with TestClient(app_without_front) as c, counting_reads(db) as reads:
        for _ in range(3):
            get(c, URL.format("off"))
        assert reads[0] == 3


def test_comment_counts_are_answered_by_the_front_until_a_write(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    """Article lists ask for the same counts on every page view."""
    clock = app.state.registry.clock
    make_comments(db, clock, "liste-a", 3)
    make_comments(db, clock, "liste-b", 1)
    path = "/api/v1/counts?threads=liste-a,liste-b,liste-leer"
    with counting_reads(db) as reads:
        first = get(client, path)
        again = get(client, path)
        assert reads[0] == 1, "the second request went to the database"
    assert first.json() == again.json() == {"counts": {"liste-a": 3, "liste-b": 1, "liste-leer": 0}}
    assert again.headers["etag"] == first.headers["etag"]
    assert get(client, path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert post(client, "liste-b", "Noch ein Kommentar dazu", author_name="Zählerin").status_code == 201
    with counting_reads(db) as reads:
        after = get(client, path)
        assert reads[0] == 1
    assert after.json()["counts"] == {"liste-a": 3, "liste-b": 2, "liste-leer": 0}
    assert after.headers["etag"] != first.headers["etag"]


def test_a_write_to_one_thread_keeps_the_answers_for_the_others(
    app: FastAPI, client: TestClient, db: Database, settings: Settings
) -> None:
    """The change stamp has a slot per thread: a comment under one article sends only that article's
    readers back to the database. A change every thread may show (a rename) still reaches all."""
    clock = app.state.registry.clock
    created = post(client, "nachbar", "Ich schreibe nebenan.").json()
    [root] = make_comments(db, clock, "hier", 1)
    here, there = URL.format("hier"), URL.format("nachbar")
    replies, one = f"/api/v1/comments/{root}/replies", f"/api/v1/comments/{root}"
    voter = post(client, "anderswo", "Eine Stimme von anderswo.").json()["session"]["token"]

    def write_here() -> Iterator[str]:
        """Writes to "hier", each followed by its name."""
        assert (
            post(
                client, "hier", "Noch einer.", author_name="Wiederkehrend", email="w@example.org"
            ).status_code
            == 201
        )
        yield "a comment"
        assert (
            post(client, "hier", "Und noch.", author_name="Wiederkehrend", email="w@example.org").status_code
            == 201
        )
        yield "a returning guest's comment"
        assert post(client, "hier", "Eine Antwort.", parent_id=root).status_code == 201
        yield "a reply"
        r = client.put(f"/api/v1/comments/{root}/vote", json={"value": 1}, headers=bearer(voter))
        assert r.status_code == 200, r.text
        yield "a vote"
        other = Database(settings)
        try:
            make_comments(other, clock, "hier", 1, text="Von einem anderen Prozess.")
        finally:
            other.dispose()
        yield "a comment by another process"

    for path in (here, there, replies, one):
        get(client, path)
    seen = get(client, here).json()["comments"]
    for what in write_here():
        with counting_reads(db) as reads:
            get(client, there)
            assert reads[0] == 0, f"{what} here sent the other thread's readers to the database"
            now = get(client, here).json()["comments"]
            get(client, replies)
            get(client, one)
            assert reads[0] == 3, f"{what} was not seen here"
        assert now != seen
        seen = now
    assert get(client, one).json()["up"] == 1
    assert len(get(client, replies).json()["comments"]) == 1
    report = {"reason": "spam", "detail": "Werbung.", "good_faith": True}
    assert client.post(f"/api/v1/comments/{root}/reports", json=report).status_code == 201
    with counting_reads(db) as reads:
        get(client, there)
        assert reads[0] == 0, "a report here sent the other thread's readers to the database"
    r = client.patch("/api/v1/me", json={"name": "Umbenannt"}, headers=bearer(created["session"]["token"]))
    assert r.status_code == 200, r.text
    with counting_reads(db) as reads:
        assert get(client, there).json()["comments"][0]["author"]["name"] == "Umbenannt"
        get(client, here)
        assert reads[0] == 2, "a rename is a change for every thread"


def test_counts_follow_writes_to_their_threads_and_new_threads_only(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    clock = app.state.registry.clock
    make_comments(db, clock, "gezaehlt", 2)
    make_comments(db, clock, "nicht-gezaehlt", 1)
    path = "/api/v1/counts?threads=gezaehlt,noch-leer"
    assert get(client, path).json()["counts"] == {"gezaehlt": 2, "noch-leer": 0}
    assert post(client, "nicht-gezaehlt", "Zählt hier nicht.").status_code == 201
    with counting_reads(db) as reads:
        get(client, path)
        assert reads[0] == 0
    assert post(client, "gezaehlt", "Zählt.").status_code == 201
    assert get(client, path).json()["counts"] == {"gezaehlt": 3, "noch-leer": 0}
    assert post(client, "noch-leer", "Der erste hier.").status_code == 201  # a new thread: everybody's
    assert get(client, path).json()["counts"] == {"gezaehlt": 3, "noch-leer": 1}
