"""The public thread views under the response cache: every reader-visible write shows on the next
read (new comment, edit, vote, moderation decision, thread close, delete), ETag / If-None-Match
answers 304 without a body, ``Cache-Control`` is public for anonymous readers and private for
logged-in ones, whose pages never reach the shared cache, and the Redis-backed cache does the same."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.cache.memory import MemoryCache
from parley.clock import FrozenClock
from parley.config import Settings
from parley.db.database import Database
from support.apps import checking_client, make_test_app
from support.factories import bearer, guest_session, make_comments, post
from support.servers import RedisServer
from support.workspace import moderator

URL = "/api/v1/threads/{}/comments"


def read(client: TestClient, thread: str, **kw: Any) -> Any:
    r = client.get(URL.format(thread), **kw)
    assert r.status_code == 200, r.text
    return r


def texts(response: Any) -> list[str]:
    return [c["html"] for c in response.json()["comments"]]


def raw_body(app: FastAPI, path: str, accept: str = "gzip") -> bytes:
    """The bytes on the wire for a client that accepts ``accept`` (not decoded)."""
    plain = TestClient(app, base_url="http://testserver")  # no lifespan: the fixture owns the app
    with plain.stream("GET", path, headers={"Accept-Encoding": accept}) as r:
        return b"".join(r.iter_raw())


DECODE: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress, "br": brotli.decompress}


def hits(app: FastAPI, view: str = "thread") -> float:
    value = app.state.registry.metrics.registry.get_sample_value(
        "parley_cache_requests_total", {"view": view, "result": "hit"}
    )
    return float(value or 0)


def test_the_second_anonymous_read_is_a_cache_hit(app: FastAPI, client: TestClient) -> None:
    assert post(client, "hit", "Der erste Kommentar.").status_code == 201
    first = read(client, "hit")
    assert hits(app) == 0
    second = read(client, "hit")
    assert hits(app) == 1
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert isinstance(app.state.registry.cache, MemoryCache)


def test_a_new_comment_is_visible_on_the_next_read(client: TestClient) -> None:
    assert post(client, "fresh", "Eins.").status_code == 201
    before = read(client, "fresh")
    assert post(client, "fresh", "Zwei.").status_code == 201
    after = read(client, "fresh")
    assert len(after.json()["comments"]) == 2
    assert after.headers["etag"] != before.headers["etag"]
    # and the thread's first read (no thread yet) is not kept once the thread exists
    empty = read(client, "later")
    assert empty.json()["comments"] == []
    assert post(client, "later", "Jetzt gibt es ihn.").status_code == 201
    assert len(read(client, "later").json()["comments"]) == 1


def test_an_edit_is_visible_on_the_next_read(client: TestClient) -> None:
    created = post(client, "edit", "Vorher.").json()
    read(client, "edit")
    read(client, "edit")
    r = client.patch(
        f"/api/v1/comments/{created['comment']['id']}",
        json={"body": "Nachher."},
        headers=bearer(created["session"]["token"]),
    )
    assert r.status_code == 200, r.text
    assert any("Nachher." in t for t in texts(read(client, "edit")))


def test_a_delete_is_visible_on_the_next_read(client: TestClient) -> None:
    created = post(client, "gone", "Gleich weg.").json()
    assert any("Gleich weg." in t for t in texts(read(client, "gone")))
    r = client.delete(
        f"/api/v1/comments/{created['comment']['id']}", headers=bearer(created["session"]["token"])
    )
    assert r.status_code == 204
    assert not any("Gleich weg." in t for t in texts(read(client, "gone")))


def test_a_vote_is_visible_on_the_next_read(client: TestClient) -> None:
    cid = post(client, "votes", "Stimmt ab!").json()["comment"]["id"]
    assert read(client, "votes").json()["comments"][0]["up"] == 0
    voter = guest_session(client)
    r = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=bearer(voter))
    assert r.status_code == 200, r.text
    assert read(client, "votes").json()["comments"][0]["up"] == 1


def test_moderation_decisions_are_visible_on_the_next_read(
    app: FastAPI, client: TestClient, db: Database, clock: FrozenClock
) -> None:
    [held] = make_comments(db, clock, "decided", 1, text="Wartet auf Freigabe.", status="held")
    [shown] = make_comments(db, clock, "decided", 1, text="Bald entfernt.")
    assert texts(read(client, "decided")) == ["<p>Bald entfernt.</p>"]
    mod = moderator(app, clock)
    assert mod.post(f"/moderate/comments/{held}/approve").status_code == 200
    assert "<p>Wartet auf Freigabe.</p>" in texts(read(client, "decided"))
    r = mod.post(f"/moderate/comments/{shown}/reject", {"reason_code": "insult", "note": ""})
    assert r.status_code == 200, r.text
    assert "<p>Bald entfernt.</p>" not in texts(read(client, "decided"))


def test_a_rename_is_visible_on_the_next_read(client: TestClient) -> None:
    created = post(client, "renamed", "Wer bin ich?").json()
    assert read(client, "renamed").json()["comments"][0]["author"]["name"] == created["session"]["name"]
    r = client.patch(
        "/api/v1/me", json={"name": "Ganz Neuer Name"}, headers=bearer(created["session"]["token"])
    )
    assert r.status_code == 200, r.text
    assert read(client, "renamed").json()["comments"][0]["author"]["name"] == "Ganz Neuer Name"


def test_closing_a_thread_is_visible_on_the_next_read(
    app: FastAPI, client: TestClient, db: Database, clock: FrozenClock
) -> None:
    from parley.comments.models import ThreadStatus
    from parley.comments.threads import do_set_thread_status, find_thread

    make_comments(db, clock, "closing", 1)
    assert read(client, "closing").json()["thread"]["status"] == "open"
    with db.write() as s:
        thread = find_thread(s, 1, "closing")
        assert thread is not None
        do_set_thread_status(s, thread, ThreadStatus.CLOSED, clock.now())
    assert read(client, "closing").json()["thread"]["status"] == "closed"


def test_replies_view_is_cached_and_invalidated(app: FastAPI, client: TestClient) -> None:
    root = post(client, "subtree", "Oben.").json()["comment"]["id"]
    assert post(client, "subtree", "Antwort eins.", parent_id=root).status_code == 201
    url = f"/api/v1/comments/{root}/replies"
    assert len(client.get(url).json()["comments"]) == 1
    assert len(client.get(url).json()["comments"]) == 1
    assert hits(app, "replies") == 1
    assert post(client, "subtree", "Antwort zwei.", parent_id=root).status_code == 201
    assert len(client.get(url).json()["comments"]) == 2


def test_one_comment_is_cached_and_invalidated(app: FastAPI, client: TestClient, clock: FrozenClock) -> None:
    created = post(client, "single", "Einzeln.").json()
    cid = created["comment"]["id"]
    url = f"/api/v1/comments/{cid}"
    first = client.get(url)
    assert first.headers["cache-control"].startswith("public")
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert hits(app, "comment") == 1
    mine = client.get(url, headers=bearer(created["session"]["token"]))
    assert mine.json()["source"] == "Einzeln."  # the author's view: never shared
    assert mine.headers["cache-control"] == "private, no-cache"
    assert "source" not in client.get(url).json()
    mod = moderator(app, clock)
    assert (
        mod.post(f"/moderate/comments/{cid}/reject", {"reason_code": "insult", "note": ""}).status_code == 200
    )
    assert client.get(url).status_code == 404


def test_etag_and_if_none_match(client: TestClient) -> None:
    assert post(client, "etag", "Mit ETag.").status_code == 201
    r = read(client, "etag")
    etag = r.headers["etag"]
    assert etag.startswith('"')  # strong: no W/
    assert etag.endswith('"')
    again = client.get(URL.format("etag"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == r.headers["cache-control"]
    # weak comparison, lists and *
    assert client.get(URL.format("etag"), headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(URL.format("etag"), headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(URL.format("etag"), headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(URL.format("etag"), headers={"If-None-Match": "garbage,,"}).status_code == 200
    # after a write the old tag no longer matches
    assert post(client, "etag", "Noch einer.").status_code == 201
    assert client.get(URL.format("etag"), headers={"If-None-Match": etag}).status_code == 200


def test_anonymous_pages_are_public_for_a_cdn(app: FastAPI, client: TestClient) -> None:
    make_comments(app.state.registry.db, app.state.registry.clock, "cdn", 1)
    r = read(client, "cdn")
    cc = r.headers["cache-control"]
    assert cc.startswith("public")
    assert "s-maxage=10" in cc
    assert " max-age=5" in cc
    assert "stale-while-revalidate=30" in cc
    vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
    assert {"authorization", "cookie", "accept-encoding", "origin"} <= vary


def test_logged_in_pages_are_private_and_never_shared(app: FastAPI, client: TestClient) -> None:
    created = post(client, "mine", "Öffentlich.").json()
    token = created["session"]["token"]
    cid = created["comment"]["id"]
    voter = guest_session(client)
    assert (
        client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=bearer(voter)).status_code
        == 200
    )
    anonymous = read(client, "mine")
    cache: MemoryCache = app.state.registry.cache
    stored = len(cache)
    personal = read(client, "mine", headers=bearer(voter))
    assert personal.headers["cache-control"] == "private, no-cache"
    assert personal.json()["comments"][0]["my_vote"] == 1
    assert len(cache) == stored  # nothing of it went into the shared cache
    # a later anonymous reader still gets the anonymous page
    again = read(client, "mine")
    assert again.json()["comments"][0]["my_vote"] == 0
    assert again.content == anonymous.content
    assert again.headers["cache-control"].startswith("public")
    # the author's own page is theirs alone too
    mine = read(client, "mine", headers=bearer(token))
    assert mine.json()["comments"][0]["mine"] is True
    assert mine.headers["cache-control"] == "private, no-cache"
    # a session cookie (even an unknown one) makes the response private
    client.cookies.set("parley_session", "not-a-session")
    cookie = read(client, "mine")
    client.cookies.clear()
    assert cookie.headers["cache-control"] == "private, no-cache"
    assert cookie.json()["comments"][0]["my_vote"] == 0


@pytest.mark.parametrize(
    ("accept", "coding", "suffix"),
    [("gzip", "gzip", '-gz"'), ("gzip, deflate, br", "br", '-br"'), ("br;q=0.5, gzip", "gzip", '-gz"')],
)
def test_large_pages_are_compressed_with_their_own_etag(
    app: FastAPI, client: TestClient, accept: str, coding: str, suffix: str
) -> None:
    make_comments(app.state.registry.db, app.state.registry.clock, "big", 30, text="Ein langer Text {i} " * 5)
    plain = client.get(URL.format("big"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get(URL.format("big"), headers={"Accept-Encoding": accept})
    assert zipped.headers["content-encoding"] == coding
    assert zipped.json() == plain.json()  # httpx decoded it
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + suffix
    r = client.get(
        URL.format("big"), headers={"Accept-Encoding": accept, "If-None-Match": zipped.headers["etag"]}
    )
    assert r.status_code == 304
    assert r.headers["etag"] == zipped.headers["etag"]
    on_the_wire = raw_body(app, URL.format("big"), accept)
    assert DECODE[coding](on_the_wire) == plain.content  # exactly one layer


def test_a_shared_page_is_compressed_in_a_coding_when_first_asked_for(
    app: FastAPI, client: TestClient
) -> None:
    """No CPU for bytes nobody is sent: the first reader's coding is made with the page, another
    when its first reader comes (through the view or the front of the cache), then kept."""
    make_comments(
        app.state.registry.db, app.state.registry.clock, "lazy", 30, text="Ein langer Text {i} " * 5
    )
    cache = app.state.registry.cache
    stored: list[Any] = []
    original = cache.set
    cache.set = lambda key, entry: (stored.append(entry), original(key, entry))[1]  # type: ignore[method-assign]
    try:
        plain = client.get(URL.format("lazy"), headers={"Accept-Encoding": "identity"})
        assert [(e.br, e.gzip) for e in stored] == [(None, None)]
        for accept, coding in (("br", "br"), ("gzip", "gzip"), ("gzip, br", "br"), ("gzip", "gzip")):
            r = client.get(URL.format("lazy"), headers={"Accept-Encoding": accept})
            assert r.headers["content-encoding"] == coding
            assert r.json() == plain.json()
            assert r.headers["etag"] == plain.headers["etag"][:-1] + {"br": '-br"', "gzip": '-gz"'}[coding]
        made = [(e.br is not None, e.gzip is not None) for e in stored]
        assert made == [(False, False), (True, False), (True, True)]
        assert stored[-1].body == plain.content
        post(client, "lazy", "Neu.")  # a new version: made in its first reader's coding
        r = client.get(URL.format("lazy"), headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert len(r.json()["comments"]) == 31
        assert (stored[-1].br, stored[-1].gzip is not None) == (None, True)
    finally:
        cache.set = original  # type: ignore[method-assign]


@pytest.mark.parametrize("accept", ["gzip", "br", "gzip, br", "identity"])
def test_logged_in_pages_are_compressed_in_the_coding_asked_for(
    app: FastAPI, client: TestClient, accept: str
) -> None:
    make_comments(app.state.registry.db, app.state.registry.clock, "big", 30, text="Ein langer Text {i} " * 5)
    auth = bearer(guest_session(client))
    plain = client.get(URL.format("big"), headers={**auth, "Accept-Encoding": "identity"})
    r = client.get(URL.format("big"), headers={**auth, "Accept-Encoding": accept})
    assert r.headers["cache-control"] == "private, no-cache"
    coding = {"gzip": "gzip", "identity": None}.get(accept, "br")
    assert r.headers.get("content-encoding") == coding
    assert r.json() == plain.json()
    if coding is not None:
        assert r.headers["etag"] == plain.headers["etag"][:-1] + {"br": '-br"', "gzip": '-gz"'}[coding]


def test_brotli_can_be_turned_off(settings: Settings, clock: FrozenClock) -> None:
    application = make_test_app(settings.model_copy(update={"compress_brotli": False}), clock)
    try:
        make_comments(application.state.registry.db, clock, "big", 30, text="Ein langer Text {i} " * 5)
        with checking_client(application) as c:
            for path in (URL.format("big"), "/api/v1/openapi.json"):
                r = c.get(path, headers={"Accept-Encoding": "br, gzip"})
                assert r.headers["content-encoding"] == "gzip", path
                assert "content-encoding" not in c.get(path, headers={"Accept-Encoding": "br"}).headers
    finally:
        application.state.registry.close()


def test_other_large_responses_are_compressed_but_not_event_streams(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    r = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br"
    assert r.json()["openapi"]  # httpx decoded it
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_embed_js_is_not_compressed_twice(app: FastAPI, client: TestClient, coding: str) -> None:
    r = client.get("/embed.js", headers={"Accept-Encoding": coding})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == coding
    script = DECODE[coding](raw_body(app, "/embed.js", coding))  # exactly one layer: JavaScript inside
    assert script.startswith(b"(function (w, d) {")


# --- the same behaviour with the cache in Redis -----------------------------------------------------


@pytest.fixture(scope="module")
def redis_cache_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def redis_app(
    settings: Settings, clock: FrozenClock, redis_cache_server: RedisServer, tmp_path: Path
) -> Iterator[FastAPI]:
    application = make_test_app(settings.model_copy(update={"redis_url": redis_cache_server.url}), clock)
    application.state.registry.cache.clear()
    yield application
    application.state.registry.close()


@pytest.mark.redis
def test_redis_cache_hits_and_invalidates(redis_app: FastAPI) -> None:
    from parley.cache.redis import RedisCache

    assert isinstance(redis_app.state.registry.cache, RedisCache)
    with checking_client(redis_app) as client:
        assert post(client, "shared", "Über Redis.").status_code == 201
        first = read(client, "shared")
        second = read(client, "shared")
        assert hits(redis_app) == 1
        assert second.content == first.content
        assert post(client, "shared", "Und noch einer.").status_code == 201
        assert len(read(client, "shared").json()["comments"]) == 2
        personal = read(client, "shared", headers=bearer(guest_session(client)))
        assert personal.headers["cache-control"] == "private, no-cache"
