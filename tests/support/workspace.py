"""Helpers for workspace tests: moderators with per-site roles, signed in through the login form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from parley.clock import Clock
from parley.db.database import Database
from parley.sites.models import SiteRole
from support.factories import PASSWORD, make_account, unique


@dataclass
class Mod:
    """A signed-in moderator: the client carries the session cookie, ``csrf`` goes in a header."""

    client: TestClient
    account_id: int
    email: str
    csrf: str

    def get(self, path: str, **kw: Any) -> Response:
        return self.client.get(path, **kw)

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = True, **kw: Any
    ) -> Response:
        headers = {
            "X-CSRF-Token": self.csrf,
            **({"HX-Request": "true"} if htmx else {}),
            **kw.pop("headers", {}),
        }
        return self.client.post(path, data=data or {}, headers=headers, **kw)


def grant(db: Database, clock: Clock, account_id: int, site_id: int, role: str = "moderator") -> None:
    with db.write() as s:
        s.add(SiteRole(site_id=site_id, account_id=account_id, role=role, created_at=clock.now()))


def site_id(db: Database, slug: str) -> int:
    from parley.sites.services import get_site_by_slug

    with db.read() as s:
        return get_site_by_slug(s, slug).id


def sign_in(app: FastAPI, email: str, account_id: int) -> Mod:
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    r = client.post("/moderate/login", data={"email": email, "password": PASSWORD, "next": "/moderate"})
    assert r.status_code == 303, r.text
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    return Mod(client, account_id, email, me.json()["csrf_token"])


def moderator(
    app: FastAPI, clock: Clock, slug: str = "test", role: str = "moderator", name: str | None = None
) -> Mod:
    """A new account with ``role`` on site ``slug``, signed in to the workspace."""
    db: Database = app.state.registry.db
    email = f"{unique('mod')}@example.org"
    account_id = make_account(db, clock, name=name or unique("Moderatorin "), email=email)
    grant(db, clock, account_id, site_id(db, slug), role)
    return sign_in(app, email, account_id)


def make_copy_wave(
    db: Database, clock: Clock, original_id: int, texts: list[str], site: str = "test"
) -> list[int]:
    """Held copies of ``original_id`` as the copy-spam phase leaves them: the ``copy_wave`` tag and
    a ``copy_spam`` reason naming the original (each by a new account)."""
    from parley.accounts.models import Account
    from parley.comments import rendering
    from parley.comments.models import Comment, Thread
    from parley.comments.services import do_insert_comment
    from parley.moderation.messages import make_reason
    from parley.moderation.services import do_record_decision
    from parley.moderation.types import Decision, Verdict
    from parley.sites.services import get_site_by_slug

    ids = []
    with db.write() as s:
        site_row = get_site_by_slug(s, site)
        original = s.get(Comment, original_id)
        assert original is not None
        thread = s.get(Thread, original.thread_id)
        assert thread is not None
        for body in texts:
            author = Account(
                display_name=unique("Kopist "), name_skeleton=None, kind="guest", created_at=clock.now()
            )
            s.add(author)
            s.flush()
            reason = make_reason(
                "copies",
                "copy_spam",
                Verdict.HOLD,
                {"original_id": original_id, "similarity": 0.9},
                evidence={"original_id": original_id, "wave_id": original_id, "similarity": 0.9},
            )
            comment = do_insert_comment(
                s,
                site=site_row,
                thread=thread,
                parent=None,
                author=author,
                body=rendering.render(body),
                status="held",
                now=clock.now(),
                ip_hash=None,
                flags={"tags": [f"copy_wave:{original_id}"]},
            )
            decision = Decision(
                verdict=Verdict.HOLD,
                reasons=(reason,),
                scores={},
                tags=frozenset({f"copy_wave:{original_id}"}),
                runs=(),
            )
            do_record_decision(
                s,
                site_id=site_row.id,
                comment_id=comment.id,
                decision=decision,
                status_before=None,
                status_after="held",
                now=clock.now(),
            )
            ids.append(comment.id)
    return ids
