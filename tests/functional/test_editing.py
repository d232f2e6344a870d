"""Editing and deleting: the author, within the site's edit window (a frozen clock moves past it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from parley.accounts.models import Role
from parley.clock import FrozenClock
from parley.comments.models import CommentRevision
from parley.db.database import Database
from support.factories import bearer, configure_site, make_account, make_comments, make_site, post, register


def posted(
    client: TestClient, thread: str = "edit", body: str = "Ursprünglich.", **kw: Any
) -> tuple[int, str]:
    r = post(client, thread, body, **kw)
    assert r.status_code == 201, r.text
    data = r.json()
    token = kw.get("token") or data["session"]["token"]
    return data["comment"]["id"], token


def patch(client: TestClient, cid: int, body: str, token: str | None) -> Any:
    return client.patch(
        f"/api/v1/comments/{cid}", json={"body": body}, headers=bearer(token) if token else {}
    )


def delete(client: TestClient, cid: int, token: str | None) -> Any:
    return client.delete(f"/api/v1/comments/{cid}", headers=bearer(token) if token else {})


def test_author_edits_within_the_window(client: TestClient, db: Database, clock: FrozenClock) -> None:
    cid, token = posted(client)
    clock.advance(600)
    r = patch(client, cid, "Geändert, mit *Betonung*.", token)
    assert r.status_code == 200, r.text
    c = r.json()["comment"]
    assert c["html"] == "<p>Geändert, mit <em>Betonung</em>.</p>"
    assert c["edited_at"] is not None
    assert c["edited_at"] != c["created_at"]
    assert c["status"] == "published"
    assert r.json()["reasons"] == []
    assert client.get(f"/api/v1/comments/{cid}").json()["html"] == c["html"]
    with db.read() as s:
        revisions = list(
            s.scalars(select(CommentRevision.body_source).where(CommentRevision.comment_id == cid))
        )
    assert revisions == ["Ursprünglich."]


def test_the_window_closes(client: TestClient, app: FastAPI, clock: FrozenClock) -> None:
    cid, token = posted(client)
    clock.advance(900)  # the default window is 900 s: the last second still counts
    assert patch(client, cid, "Gerade noch.", token).status_code == 200
    clock.advance(1)
    r = patch(client, cid, "Zu spät.", token)
    assert r.status_code == 403
    assert r.json()["code"] == "edit_window_closed"
    assert r.json()["edit_window_seconds"] == 900
    r = delete(client, cid, token)
    assert r.status_code == 403
    assert r.json()["code"] == "edit_window_closed"
    configure_site(app, "test", edit_window_seconds=3600)  # a longer window reopens it
    assert patch(client, cid, "Doch noch.", token).status_code == 200


def test_only_the_author_may_change_a_comment(client: TestClient, db: Database, clock: FrozenClock) -> None:
    cid, token = posted(client)
    other = register(client)["token"]
    r = patch(client, cid, "Fremd.", other)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert delete(client, cid, other).status_code == 403
    r = patch(client, cid, "Anonym.", None)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    make_site(db, clock, "fremd", name="Fremde Zeitung")
    r = client.patch(
        f"/api/v1/comments/{cid}", json={"body": "x"}, headers={**bearer(token), "X-Parley-Site": "fremd"}
    )
    assert r.status_code == 404  # another site does not know the comment
    assert client.get(f"/api/v1/comments/{cid}").json()["html"] == "<p>Ursprünglich.</p>"


def test_an_edit_is_moderated_again(client: TestClient, app: FastAPI) -> None:
    cid, token = posted(client)
    configure_site(app, "test", moderation={"max_length": 30})
    r = patch(client, cid, "x" * 31, token)
    assert r.status_code == 422
    assert r.json()["code"] == "body_too_long"
    configure_site(app, "test", moderation={"max_length": 5000, "premoderate_all": True})
    r = patch(client, cid, "Jetzt muss jemand draufschauen.", token)
    assert r.status_code == 200
    assert r.json()["comment"]["status"] == "held"
    assert r.json()["statement_url"]
    listing = client.get("/api/v1/threads/edit/comments").json()
    assert listing["comments"] == []
    assert listing["thread"]["comment_count"] == 0


def test_author_deletes_and_counters_follow(client: TestClient) -> None:
    root, root_token = posted(client, "del", "Wurzel.")
    reply, token = posted(client, "del", "Antwort.", parent_id=root)
    assert client.get("/api/v1/threads/del/comments").json()["thread"]["comment_count"] == 2
    r = delete(client, reply, token)
    assert r.status_code == 204
    assert r.content == b""
    listing = client.get("/api/v1/threads/del/comments").json()
    assert listing["thread"]["comment_count"] == 1
    [top] = listing["comments"]
    assert (top["reply_count"], top["descendant_count"], top["replies"]) == (0, 0, [])
    assert client.get(f"/api/v1/comments/{reply}").status_code == 404
    r = delete(client, reply, token)
    assert r.status_code == 409
    assert r.json()["code"] == "comment_not_editable"
    r = patch(client, reply, "Wiederbelebt?", token)
    assert r.status_code == 409
    assert r.json()["code"] == "comment_not_editable"
    assert delete(client, root, root_token).status_code == 204
    assert client.get("/api/v1/threads/del/comments").json()["comments"] == []


def test_staff_may_delete_any_comment_any_time(client: TestClient, db: Database, clock: FrozenClock) -> None:
    [cid] = make_comments(db, clock, "staff", 1)
    mod = make_account(db, clock, role=Role.MODERATOR, password=None)
    from parley.accounts.models import Account
    from parley.accounts.services import do_create_session

    with db.write() as s:
        account = s.get(Account, mod)
        assert account is not None
        token = do_create_session(s, account, clock.now(), 30).token
    clock.advance(2 * 86400)  # long after the edit window
    r = patch(client, cid, "Moderatoren schreiben nicht um.", token)
    assert r.status_code == 403
    assert delete(client, cid, token).status_code == 204
    # gone now: to everyone but its author it does not exist, whatever the method
    assert patch(client, cid, "Moderatoren schreiben nicht um.", token).status_code == 404


def test_author_gets_the_markdown_source_to_edit_others_do_not(client: TestClient) -> None:
    posted = post(client, "src", "Siehe [Bericht](https://example.org/a) **fett**").json()
    token = posted["session"]["token"]
    cid = posted["comment"]["id"]
    own = client.get(f"/api/v1/comments/{cid}", headers=bearer(token)).json()
    assert own["source"] == "Siehe [Bericht](https://example.org/a) **fett**"
    assert "source" not in client.get(f"/api/v1/comments/{cid}").json()
