"""Votes (+1/-1/0, changeable, one per account) and reader reports (one per reader; enough of them
put a comment back into the moderation queue)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from parley.clock import FrozenClock
from parley.comments.models import Comment, Report, Vote
from parley.db.database import Database
from support.factories import bearer, configure_site, guest_session, make_comments, register


def vote(client: TestClient, cid: int, value: Any, token: str) -> Any:
    return client.put(f"/api/v1/comments/{cid}/vote", json={"value": value}, headers=bearer(token))


def stored(db: Database, cid: int) -> tuple[int, int, int, float, int]:
    with db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        rows = int(s.scalar(select(func.count()).select_from(Vote).where(Vote.comment_id == cid)) or 0)
        return c.up, c.down, c.score, c.wilson, rows


def test_vote_change_and_take_back(client: TestClient, db: Database, clock: FrozenClock) -> None:
    [cid] = make_comments(db, clock, "v", 1)
    token = guest_session(client)
    steps = [
        (1, (1, 0, 1)),
        (1, (1, 0, 1)),
        (-1, (0, 1, -1)),
        (0, (0, 0, 0)),
        (0, (0, 0, 0)),
        (-1, (0, 1, -1)),
    ]
    for value, (up, down, mine) in steps:
        r = vote(client, cid, value, token)
        assert r.status_code == 200, r.text
        assert r.json() == {"id": cid, "up": up, "down": down, "my_vote": mine}
        s_up, s_down, score, _, rows = stored(db, cid)
        assert (s_up, s_down, score, rows) == (up, down, up - down, 1 if mine else 0)


def test_votes_move_the_best_order(client: TestClient, db: Database, clock: FrozenClock) -> None:
    first, second = make_comments(db, clock, "rank", 2)
    voters = [guest_session(client) for _ in range(3)]
    before = [c["id"] for c in client.get("/api/v1/threads/rank/comments").json()["comments"]]
    assert before == [second, first]  # no votes: newest id first
    for token in voters:
        vote(client, first, 1, token)
    vote(client, second, 1, voters[0])
    vote(client, second, -1, voters[1])
    page = client.get("/api/v1/threads/rank/comments", headers=bearer(voters[1])).json()["comments"]
    assert [c["id"] for c in page] == [first, second]
    assert [(c["up"], c["down"], c["my_vote"]) for c in page] == [(3, 0, 1), (1, 1, -1)]
    assert stored(db, first)[3] > stored(db, second)[3] > 0 or stored(db, second)[3] == 0


def test_who_may_vote_on_what(client: TestClient, db: Database, clock: FrozenClock) -> None:
    [cid] = make_comments(db, clock, "who", 1)
    [held] = make_comments(db, clock, "who", 1, status="held")
    r = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    account = register(client)
    assert vote(client, held, 1, account["token"]).status_code == 404
    assert vote(client, 10**9, 1, account["token"]).status_code == 404
    client.cookies.set("parley_session", account["token"])
    r = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    r = client.put(
        f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers={"X-CSRF-Token": account["csrf_token"]}
    )
    assert r.status_code == 200
    assert r.json()["up"] == 1
    client.cookies.clear()
    assert stored(db, cid)[:2] == (1, 0)


def report(client: TestClient, cid: int, token: str | None = None, **fields: Any) -> Any:
    body = {"reason": "insult", "detail": "Beleidigt andere Leser.", **fields}
    return client.post(f"/api/v1/comments/{cid}/reports", json=body, headers=bearer(token) if token else {})


def test_reports_count_each_reader_once_and_requeue(
    client: TestClient, app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    configure_site(app, "test", moderation={"reports": {"requeue_after": 3}})
    [cid] = make_comments(db, clock, "rep", 1)
    readers = [guest_session(client) for _ in range(3)]
    r = report(client, cid, readers[0], contact="leser@example.org", good_faith=True)
    assert r.status_code == 201
    assert r.json()["status"] == "open"
    again = report(client, cid, readers[0], reason="spam")
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    assert report(client, cid, readers[1]).status_code == 201
    assert client.get("/api/v1/threads/rep/comments").json()["thread"]["comment_count"] == 1
    assert report(client, cid, readers[2]).status_code == 201
    # the third distinct reader puts it back into the queue: no longer shown, counters follow
    listing = client.get("/api/v1/threads/rep/comments").json()
    assert listing["comments"] == []
    assert listing["thread"]["comment_count"] == 0
    assert report(client, cid, readers[0]).status_code == 404  # only published comments are reported
    with db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        assert c.status == "held"
        assert c.report_count == 3
        reports = list(s.scalars(select(Report).where(Report.comment_id == cid)))
    assert len(reports) == 3
    assert {r.reason for r in reports} == {"insult"}
    assert sum(r.good_faith for r in reports) == 1


def test_report_threshold_zero_never_requeues(
    client: TestClient, app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    configure_site(app, "test", moderation={"reports": {"requeue_after": 0}})
    [cid] = make_comments(db, clock, "rep0", 1)
    for _ in range(4):
        assert report(client, cid, guest_session(client)).status_code == 201
    assert client.get("/api/v1/threads/rep0/comments").json()["thread"]["comment_count"] == 1


def test_report_anonymously_and_unknown_comments(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    [cid] = make_comments(db, clock, "anon", 1)
    r = report(client, cid, reason="other", detail="")
    assert r.status_code == 201
    assert report(client, 10**9).status_code == 404


def test_suspended_and_banned_readers_may_neither_vote_nor_edit(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    from datetime import timedelta

    from parley.accounts.models import Account

    author = register(client)
    cid = client.post(
        "/api/v1/threads/sanctioned/comments",
        json={"body": "Noch darf ich das"},
        headers=bearer(author["token"]),
    ).json()["comment"]["id"]
    voter = register(client)
    for status, until in (("suspended", clock.now() + timedelta(days=3)), ("banned", None)):
        with db.write() as s:
            for account_id in (author["account"]["id"], voter["account"]["id"]):
                acc = s.get(Account, account_id)
                assert acc is not None
                acc.status, acc.suspended_until = status, until
        vote = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, headers=bearer(voter["token"]))
        assert (vote.status_code, vote.json()["code"]) == (403, f"account_{status}")
        edit = client.patch(
            f"/api/v1/comments/{cid}", json={"body": "geändert"}, headers=bearer(author["token"])
        )
        assert (edit.status_code, edit.json()["code"]) == (403, f"account_{status}")
    with db.read() as s:
        assert s.scalar(select(func.count(Vote.id)).where(Vote.comment_id == cid)) == 0
        comment = s.get(Comment, cid)
        assert comment is not None
        assert comment.edited_at is None
