"""``GET /api/v1/threads/{key}/events``: Server-Sent Events announce published comments, edits,
removals and vote counts (ids and counts only), never held comments; Last-Event-ID replays.

The test client collects a streamed response whole, so these streams are short
(``live_stream_seconds``) and the requests that cause events run on another thread meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.config import Settings
from support.factories import bearer, configure_site, post, register


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # long enough for a POST and a vote on a loaded machine (1.5 s once missed the vote on PostgreSQL
    # during a full `make test`: the stream had ended before the vote's event)
    return settings.model_copy(update={"live_stream_seconds": 3.0, "live_heartbeat_seconds": 0.25})


def parse(stream: str) -> list[dict[str, Any]]:
    events = []
    for block in stream.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                fields[name] = value
        if "event" in fields:
            fields["data"] = json.loads(fields["data"])
            events.append(fields)
    return events


def listen(client: TestClient, app: FastAPI, thread: str, during: Callable[[], None], **headers: str) -> Any:
    """Open the stream, run ``during`` once the reader is subscribed, return the whole response."""
    out: dict[str, Any] = {}
    bus = app.state.registry.events
    before = bus.subscriber_count

    def reader() -> None:
        out["response"] = client.get(f"/api/v1/threads/{thread}/events", headers=headers)

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.monotonic() + 5
    while bus.subscriber_count == before and time.monotonic() < deadline:
        time.sleep(0.01)
    during()
    t.join(10)
    return out["response"]


def test_stream_announces_published_comments_and_votes_by_id_only(app: FastAPI, client: TestClient) -> None:
    first = post(client, "live", "Der erste Kommentar").json()["comment"]
    voter = register(client)["token"]
    state: dict[str, Any] = {}

    def act() -> None:
        state["second"] = post(client, "live", "Ein geheimer Text, der nie im Stream steht").json()["comment"]
        r = client.put(f"/api/v1/comments/{first['id']}/vote", json={"value": 1}, headers=bearer(voter))
        assert r.status_code == 200

    r = listen(client, app, "live", act)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache, no-transform"
    assert "retry: " in r.text
    assert ": ping" in r.text  # heartbeats while idle
    assert "geheimer" not in r.text  # no bodies
    assert "Gast" not in r.text  # no names
    events = parse(r.text)
    assert [e["event"] for e in events] == ["comment.published", "vote.changed"]
    assert events[0]["data"] == {"id": state["second"]["id"], "parent_id": None}
    assert events[1]["data"] == {"id": first["id"], "parent_id": None, "up": 1, "down": 0}


def test_held_comments_are_never_announced(app: FastAPI, client: TestClient) -> None:
    post(client, "still", "Damit es den Faden gibt")
    configure_site(app, "test", moderation={"premoderate_all": True})

    def act() -> None:
        r = post(client, "still", "Wartet auf die Moderation")
        assert r.json()["comment"]["status"] == "held"

    r = listen(client, app, "still", act)
    assert parse(r.text) == []
    assert "Wartet" not in r.text


def test_last_event_id_replays_what_the_reader_missed(app: FastAPI, client: TestClient) -> None:
    post(client, "replay", "Erster")
    r = listen(client, app, "replay", lambda: post(client, "replay", "Zweiter"))
    (seen,) = parse(r.text)
    missed = post(client, "replay", "Dritter, während niemand zuhörte").json()["comment"]
    again = listen(client, app, "replay", lambda: None, **{"Last-Event-ID": seen["id"]})
    replayed = parse(again.text)
    assert [e["data"]["id"] for e in replayed] == [missed["id"]]
    assert replayed[0]["id"] != seen["id"]
    # an id from before a restart (or made up) cannot be replayed: the reader is told to reload
    unknown = listen(client, app, "replay", lambda: None, **{"Last-Event-ID": "deadbeef-7"})
    assert [e["event"] for e in parse(unknown.text)] == ["reset"]


def test_unknown_thread_asks_to_come_back_later_or_is_not_found(app: FastAPI, client: TestClient) -> None:
    r = client.get("/api/v1/threads/noch-nicht-da/events")
    assert r.status_code == 200
    assert r.text.startswith("retry: 30000")
    assert parse(r.text) == []
    configure_site(app, "test", auto_create_threads=False)
    r = client.get("/api/v1/threads/noch-nicht-da/events")
    assert r.status_code == 404
    assert r.json()["code"] == "thread_not_found"


def test_live_updates_can_be_switched_off(app: FastAPI, client: TestClient) -> None:
    app.state.registry.settings = app.state.registry.settings.model_copy(update={"live_max_connections": 0})
    post(client, "aus", "Faden")
    r = client.get("/api/v1/threads/aus/events")
    assert r.status_code == 503
    assert r.json()["code"] == "service_unavailable"
