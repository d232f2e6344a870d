"""Idempotency and vote stuffing against two real app instances on one database, and the client
address a spoofed ``X-Forwarded-For`` cannot choose.

Two ``parley serve`` processes share one database (PostgreSQL, and a SQLite file in WAL mode), so
nothing in one process's memory can keep order; requests are released together by a barrier and
alternate between the instances.

- The same ``Idempotency-Key`` 50× at once: 50 identical 201 answers, one comment. The same key
  with another body: 422 ``idempotency_mismatch`` (problem+json), nothing stored.
- 64 concurrent votes by one account on one comment: one vote row, counters equal to it; 16
  accounts × 4 concurrent votes each: 16 rows, ``up == 16`` (counts equal distinct voters).
- ``X-Forwarded-For`` from a peer that is not a configured trusted proxy is ignored: every guest
  comment is stored under the peer's address hash whatever the header says, and per-address rate
  limits cannot be dodged by rotating it. From a trusted proxy the header is believed, hop by hop.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from seckit import SERVER_ENV, Reply, all_at_once, call, doc_ip, private_body, seed_site
from sqlalchemy import func, select

from parley.accounts.models import Account
from parley.accounts.services import do_create_session
from parley.app import create_app
from parley.clock import FrozenClock, SystemClock
from parley.comments.models import Comment, Thread, Vote
from parley.config import Settings
from parley.db.database import Database
from parley.security import hash_ip
from support.apps import TEST_MODERATION, checking_client, module_database, settings_for
from support.factories import make_account, make_comments, make_site
from support.servers import ParleyServer

TEST_SECRET = "test-secret-key-not-for-production"


@dataclass
class Pair:
    db: Database
    servers: list[ParleyServer]

    def port(self, i: int) -> int:
        return self.servers[i % len(self.servers)].port


@pytest.fixture(scope="module")
def pair(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("two-instances")
    with module_database(backend, request, tmp) as url:
        seed_site(url, tmp)
        db = Database(settings_for(url, tmp))
        servers = [ParleyServer(url, tmp, env=SERVER_ENV) for _ in range(2)]
        try:
            all_at_once([s.start for s in servers])
            yield Pair(db, servers)
        finally:
            for s in servers:
                s.stop()
            db.dispose()


def session_token(db: Database) -> str:
    account_id = make_account(db, SystemClock(), password=None)
    with db.write() as s:
        account = s.get(Account, account_id)
        assert account is not None
        return do_create_session(s, account, SystemClock().now(), 1).token


def vote_rows(db: Database, cid: int) -> tuple[int, int, list[int]]:
    with db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        return c.up, c.down, sorted(s.scalars(select(Vote.value).where(Vote.comment_id == cid)))


def test_50_concurrent_posts_with_one_idempotency_key(pair: Pair) -> None:
    thread = "idem-" + uuid.uuid4().hex[:8]
    auth = {"Authorization": f"Bearer {session_token(pair.db)}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"body": private_body("Einmal und nur einmal."), "title": "Idempotenz"}
    path = f"/api/v1/threads/{thread}/comments"
    answers: list[Reply] = all_at_once(
        [(lambda i=i: call(pair.port(i), "POST", path, body, auth)) for i in range(50)]
    )
    assert [a.status for a in answers] == [201] * 50, [a.body[:200] for a in answers if a.status != 201][:2]
    assert len({a.body for a in answers}) == 1, "the answers differ"
    with pair.db.read() as s:
        found = s.scalar(select(Thread).where(Thread.key == thread))
        assert found is not None
        assert s.scalar(select(func.count()).select_from(Comment).where(Comment.thread_id == found.id)) == 1
    # the same key with another body: refused, nothing stored
    other = call(pair.port(0), "POST", path, {**body, "body": "Ein anderer Text."}, auth)
    assert other.status == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_mismatch"
    with pair.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Comment).where(Comment.thread_id == found.id)) == 1


def test_64_concurrent_votes_by_one_account_are_one_vote(pair: Pair) -> None:
    [cid] = make_comments(pair.db, SystemClock(), "votes-" + uuid.uuid4().hex[:6], 1)
    auth = {"Authorization": f"Bearer {session_token(pair.db)}"}
    path = f"/api/v1/comments/{cid}/vote"
    answers = all_at_once(
        [(lambda i=i: call(pair.port(i), "PUT", path, {"value": 1}, auth)) for i in range(64)]
    )
    assert {a.status for a in answers} == {200}
    assert {a.json()["up"] for a in answers} == {1}
    assert vote_rows(pair.db, cid) == (1, 0, [1])
    # a mix of up, down and withdrawals leaves one consistent vote (or none)
    values = [(1, -1, 0, -1)[i % 4] for i in range(64)]
    answers = all_at_once(
        [(lambda i=i: call(pair.port(i), "PUT", path, {"value": values[i]}, auth)) for i in range(64)]
    )
    assert {a.status for a in answers} == {200}
    up, down, rows = vote_rows(pair.db, cid)
    assert len(rows) <= 1
    stored = rows[0] if rows else 0
    assert (up, down) == (int(stored == 1), int(stored == -1))


def test_counts_equal_distinct_voters(pair: Pair) -> None:
    [cid] = make_comments(pair.db, SystemClock(), "crowd-" + uuid.uuid4().hex[:6], 1)
    tokens = [session_token(pair.db) for _ in range(16)]
    path = f"/api/v1/comments/{cid}/vote"
    answers = all_at_once(
        [
            (
                lambda i=i: call(
                    pair.port(i), "PUT", path, {"value": 1}, {"Authorization": f"Bearer {tokens[i % 16]}"}
                )
            )
            for i in range(64)
        ]
    )
    assert {a.status for a in answers} == {200}
    assert vote_rows(pair.db, cid) == (16, 0, [1] * 16)


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(pair: Pair) -> None:
    """The servers trust no proxy: whatever the header says, the address is the peer's (loopback)."""
    thread = "xff-" + uuid.uuid4().hex[:8]
    spoofs = ["203.0.113.7", "198.51.100.1, 203.0.113.8", "::1", "2001:db8::1", "not an address", "127.0.0.2"]
    for i, spoof in enumerate(spoofs):
        r = call(
            pair.port(i),
            "POST",
            f"/api/v1/threads/{thread}/comments",
            {"body": private_body(f"Beitrag {i}."), "author_name": f"Gast {chr(97 + i)}bc"},
            {"X-Forwarded-For": spoof, "X-Real-IP": doc_ip(i), "Forwarded": f"for={doc_ip(i + 9)}"},
        )
        assert r.status == 201, r.body
    key = Settings(secret_key=TEST_SECRET).ip_key
    with pair.db.read() as s:
        hashes = set(
            s.scalars(
                select(Comment.ip_hash)
                .join(Thread, Thread.id == Comment.thread_id)
                .where(Thread.key == thread)
            )
        )
    assert hashes == {hash_ip(key, "127.0.0.1")}


# --- in process: which peers are believed ----------------------------------------------------------


@pytest.fixture
def proxied_app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    configured = settings.model_copy(
        update={"trusted_proxies": ["10.0.0.0/8", "fd00::/8"], "rate_limit_guest_ip": "3/10m"}
    )
    application = create_app(configured, clock=clock)
    make_site(
        application.state.registry.db,
        clock,
        "test",
        name="Testzeitung",
        settings={"moderation": TEST_MODERATION},
    )
    yield application
    application.state.registry.close()


def stored_hash(app: FastAPI, peer: str, forwarded: str | None) -> str | None:
    with checking_client(app, client=(peer, 40000)) as c:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        r = c.post(
            "/api/v1/threads/proxies/comments",
            json={"body": private_body(), "author_name": "Gast " + uuid.uuid4().hex[:6]},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        cid = r.json()["comment"]["id"]
    with app.state.registry.db.read() as s:
        c = s.get(Comment, cid)
        assert c is not None
        return c.ip_hash


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.20", "203.0.113.5", "198.51.100.20"),  # untrusted peer: header ignored
        ("198.51.100.20", "10.1.1.1", "198.51.100.20"),
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),  # trusted proxy: believed
        ("10.0.0.2", "203.0.113.5, 10.0.0.9", "203.0.113.5"),  # two trusted hops
        ("10.0.0.2", "203.0.113.5, 198.51.100.3", "198.51.100.3"),  # stops at the first untrusted hop
        ("10.0.0.2", "203.0.113.5, garbage", "10.0.0.2"),  # a broken hop is not believed
        ("::ffff:10.0.0.2", "203.0.113.6", "203.0.113.6"),  # mapped IPv4 of a trusted proxy
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        ("10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_the_client_address_comes_only_from_trusted_proxies(
    proxied_app: FastAPI, peer: str, forwarded: str | None, client: str
) -> None:
    key = proxied_app.state.registry.settings.ip_key
    assert stored_hash(proxied_app, peer, forwarded) == hash_ip(key, client)


def test_rotating_the_header_does_not_dodge_an_address_limit(proxied_app: FastAPI) -> None:
    statuses = []
    with checking_client(proxied_app, client=("198.51.100.44", 40000)) as c:
        for i in range(6):
            r = c.post(
                "/api/v1/threads/rotate/comments",
                json={"body": private_body(), "author_name": f"Gast Rot{chr(97 + i)}"},
                headers={"X-Forwarded-For": doc_ip(i)},
            )
            c.cookies.clear()
            statuses.append(r.status_code)
    assert statuses == [201, 201, 201, 429, 429, 429]


def test_settings_refuse_a_malformed_proxy_network() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        Settings(trusted_proxies=["everyone"])
