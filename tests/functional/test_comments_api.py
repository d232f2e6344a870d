"""The comment API contract: post, list, reply, sort, page, edit, delete, vote, report, counts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from parley.accounts.models import Account
from parley.clock import FrozenClock
from support.factories import bearer, post, register


def test_guest_posts_and_reads_back(client: TestClient) -> None:
    r = post(
        client,
        "article-1",
        "Hallo **Welt**",
        author_name="Erika Muster",
        title="Titel",
        url="https://x.example/a",
    )
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["comment"]["status"] == "published"
    assert data["comment"]["html"] == "<p>Hallo <strong>Welt</strong></p>"
    assert data["reasons"] == []
    assert data["session"]["token"].startswith("pst_")
    listing = client.get("/api/v1/threads/article-1/comments").json()
    assert listing["thread"] == {
        "key": "article-1",
        "title": "Titel",
        "url": "https://x.example/a",
        "status": "open",
        "comment_count": 1,
    }
    [c] = listing["comments"]
    assert c["author"] == {"name": "Erika Muster", "verified": False, "role": "commenter", "guest": True}
    assert c["id"] == data["comment"]["id"]


def test_replies_are_embedded_and_paged(client: TestClient) -> None:
    root = post(client, "t", "root").json()["comment"]["id"]
    ids = [post(client, "t", f"reply {i}", parent_id=root).json()["comment"]["id"] for i in range(5)]
    page = client.get("/api/v1/threads/t/comments", params={"replies": 2}).json()
    [top] = page["comments"]
    assert [x["id"] for x in top["replies"]] == ids[:2]
    assert top["reply_count"] == 5
    assert top["descendant_count"] == 5
    rest = client.get(
        f"/api/v1/comments/{root}/replies", params={"cursor": top["replies_cursor"], "limit": 2}
    ).json()
    assert [x["id"] for x in rest["comments"]] == ids[2:4]
    last = client.get(f"/api/v1/comments/{root}/replies", params={"cursor": rest["next_cursor"]}).json()
    assert [x["id"] for x in last["comments"]] == ids[4:]
    assert last["next_cursor"] is None


def test_vote_counts_once_and_changes(client: TestClient) -> None:
    cid = post(client, "v", "vote on me").json()["comment"]["id"]
    token = register(client)["token"]
    for _ in range(3):
        r = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=bearer(token))
        assert r.json() == {"id": cid, "up": 1, "down": 0, "my_vote": 1}
    r = client.put(f"/api/v1/comments/{cid}/vote", json={"value": -1}, headers=bearer(token))
    assert r.json() == {"id": cid, "up": 0, "down": 1, "my_vote": -1}
    listing = client.get("/api/v1/threads/v/comments", headers=bearer(token)).json()
    assert listing["comments"][0]["my_vote"] == -1


def test_guest_names_cannot_look_like_accounts_but_guests_share_names(client: TestClient) -> None:
    register(client, name="Sektglas Grünling")
    r = post(client, "g", "hallo", author_name="Sektglas Grϋnling")  # Greek ϋ
    assert r.status_code == 409
    assert r.json()["code"] == "name_taken"
    assert post(client, "g", "eins", author_name="Max").status_code == 201
    assert post(client, "g", "zwei", author_name="Max").status_code == 201


def test_a_guests_name_is_looked_up_once_and_before_the_writers_lock(
    app: FastAPI, client: TestClient
) -> None:
    """The guest check and the names phase both ask who holds the name; the answer is read once,
    on SQLite on the read engine, so the writers' lock is not held for it (issue 7). PostgreSQL has
    one engine and no writers' lock: read once in the write transaction."""
    register(client, name="Sektglas Grünling")
    db = app.state.registry.db
    engines = {"read": db.engine, "write": db.write_engine}
    looked_up: list[str] = []

    def spy(label: str) -> Any:
        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "name_skeleton =" in statement:
                looked_up.append(label)

        return before

    listeners = [
        (engine, spy(label))
        for label, engine in engines.items()
        if label == "read" or engine is not db.engine
    ]
    for engine, fn in listeners:
        event.listen(engine, "before_cursor_execute", fn)
    try:
        assert post(client, "g", "hallo", author_name="Ganz Neuer Gast").status_code == 201
        assert looked_up == ["read"]
        looked_up.clear()
        r = post(client, "g", "hallo", author_name="Sektglas Grϋnling")  # still refused as before
        assert r.status_code == 409
        assert r.json()["code"] == "name_taken"
        assert looked_up == ["read"]
    finally:
        for engine, fn in listeners:
            event.remove(engine, "before_cursor_execute", fn)


def test_returning_guest_with_email_keeps_account(
    app: FastAPI, client: TestClient, clock: FrozenClock
) -> None:
    a = post(client, "g", "eins", author_name="Lisa", email="lisa@example.org").json()["session"][
        "account_id"
    ]
    clock.advance(60)
    b = post(client, "g", "zwei", author_name="Lisa", email="LISA@example.org").json()["session"][
        "account_id"
    ]
    with app.state.registry.db.read() as session:  # the new session's login time is stored
        assert session.get(Account, a).last_login_at == clock.now()
    c = post(client, "g", "drei", author_name="Lisa", email="other@example.org").json()["session"][
        "account_id"
    ]
    assert a == b != c
