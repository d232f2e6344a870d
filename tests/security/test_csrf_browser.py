"""CSRF from a second origin in a real browser (Debian's Chromium), against cookie auth and the workspace.

A moderator is signed in (the session cookie of the Parley origin is in the browser, as after a real
login). Then the browser opens an attacker's page on two other origins — ``localhost:<port>``
(another site) and ``127.0.0.1:<other port>`` (same site, other origin: SameSite=Lax does not help
there, only Parley's own checks do) — whose scripts and forms knock on every door with the
victim's cookie:

- ``fetch`` with ``credentials: "include"``: a JSON vote (preflighted), a ``text/plain`` comment and
  a ``no-cors`` form-encoded comment (simple requests: no preflight), a body-less POST without
  Content-Type to logout, the workspace's approve and reject with a form body;
- auto-submitted HTML forms (into a hidden frame) to the API (``text/plain`` and urlencoded) and
  to the workspace's approve, reject and logout.

Pass: no state change (no vote, no comment, the held comment still held, the session alive) and
the attacker's scripts could read no answer. ``tests/functional`` covers the same refusals request
by request (``test_accounts``, ``test_votes_reports``, ``test_workspace_actions``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seckit import Pages, live_app, run_browser
from sqlalchemy import func, select

from parley.accounts.services import do_create_account, do_create_session
from parley.app import create_app
from parley.clock import SystemClock
from parley.comments import rendering
from parley.comments.models import Comment, Vote
from parley.comments.services import do_insert_comment
from parley.comments.threads import do_get_or_create_thread
from parley.config import Settings
from parley.sites.models import SiteRole
from parley.sites.services import do_create_site
from support.servers import free_port

ATTACK = """<!doctype html><html><head><meta charset="utf-8"><title>Gewinnspiel</title></head><body>
<h1>Sie haben gewonnen!</h1>
<iframe name="sink" style="display:none"></iframe>
<form id="f1" method="POST" action="{app}/api/v1/threads/csrf-form/comments" enctype="text/plain"
      target="sink">
  <input name='{{"body": "Per Formular", "x": "' value='"}}'></form>
<form id="f2" method="POST" action="{app}/api/v1/comments/{published}/vote" target="sink">
  <input name="value" value="1"></form>
<form id="f3" method="POST" action="{app}/moderate/comments/{held}/approve" target="sink"></form>
<form id="f4" method="POST" action="{app}/moderate/comments/{held}/reject" target="sink">
  <input name="reason_code" value="spam"></form>
<form id="f5" method="POST" action="{app}/moderate/logout" target="sink"></form>
<script>
(async () => {{
  const app = "{app}";
  const report = {{}};
  const tryit = async (name, url, init) => {{
    try {{
      const r = await fetch(app + url, {{credentials: "include", ...init}});
      report[name] = r.type === "opaque" ? "opaque"
                                         : ("read " + r.status + " " + (await r.text()).slice(0, 80));
    }} catch (e) {{ report[name] = "blocked"; }}
  }};
  await tryit("vote-json", "/api/v1/comments/{published}/vote",
              {{method: "PUT", headers: {{"Content-Type": "application/json"}}, body: '{{"value": 1}}'}});
  await tryit("comment-text", "/api/v1/threads/csrf-fetch/comments",
              {{method: "POST", headers: {{"Content-Type": "text/plain"}}, body: '{{"body": "Per fetch"}}'}});
  await tryit("comment-form", "/api/v1/threads/csrf-fetch/comments",
              {{method: "POST", mode: "no-cors", body: new URLSearchParams({{body: "Per no-cors"}})}});
  await tryit("logout-bodyless", "/api/v1/auth/logout", {{method: "POST", mode: "no-cors"}});
  await tryit("approve", "/moderate/comments/{held}/approve", {{method: "POST", mode: "no-cors"}});
  await tryit("reject", "/moderate/comments/{held}/reject",
              {{method: "POST", mode: "no-cors", body: new URLSearchParams({{reason_code: "spam"}})}});
  await tryit("read-me", "/api/v1/me", {{method: "GET"}});
  for (const id of ["f1", "f2", "f3", "f4", "f5"]) {{
    document.getElementById(id).submit();
    await new Promise(r => setTimeout(r, 400));
  }}
  window.__attackReport = report;
  window.__attackDone = true;
}})();
</script></body></html>"""


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("csrf")
    shutil.copy(sqlite_template, d / "parley.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{d / 'parley.db'}",
        data_dir=d,
        secret_key="csrf-test-secret-not-for-production",
        public_url=url,
        default_site="test",
        log_level="WARNING",
        jobs_in_process=False,
        rate_limits_enabled=False,
    )
    app = create_app(settings, clock=SystemClock())
    now = SystemClock().now()
    attacker_same_site, attacker_other_site = Pages(), Pages()
    with app.state.registry.db.write() as s:
        site = do_create_site(
            s,
            slug="test",
            name="Testzeitung",
            now=now,
            allowed_origins=[url],
            settings={"moderation": {"rate": {"enabled": False}, "classifier": {"enabled": False}}},
        )
        mod = do_create_account(s, name="Moderatorin Opfer", email="opfer@example.org", now=now)
        s.add(SiteRole(site_id=site.id, account_id=mod.id, role="admin", created_at=now))
        thread = do_get_or_create_thread(s, site, "csrf", now)
        kw: dict[str, Any] = {"site": site, "thread": thread, "parent": None, "author": mod, "now": now}
        published = do_insert_comment(
            s, body=rendering.render("Sichtbar."), status="published", ip_hash=None, **kw
        )
        held = do_insert_comment(s, body=rendering.render("Wartet."), status="held", ip_hash=None, **kw)
        token = do_create_session(s, mod, now, 1).token
        ids = {"published": published.id, "held": held.id}
    page = ATTACK.format(app=url, **ids)
    pages = [
        attacker_same_site.add("/gewinn", page),
        attacker_other_site.add("/gewinn", page).replace("127.0.0.1", "localhost"),
    ]
    try:
        with live_app(app, port):
            yield {"app": app, "url": url, "token": token, "pages": pages, **ids}
    finally:
        attacker_same_site.close()
        attacker_other_site.close()
        app.state.registry.close()


def state(app: Any, held: int) -> tuple[int, int, str]:
    with app.state.registry.db.read() as s:
        votes = int(s.scalar(select(func.count()).select_from(Vote)) or 0)
        comments = int(s.scalar(select(func.count()).select_from(Comment)) or 0)
        status = s.scalars(select(Comment.status).where(Comment.id == held)).one()
    return votes, comments, status


@pytest.mark.browser
def test_a_second_origin_changes_nothing(world: dict[str, Any]) -> None:
    before = state(world["app"], world["held"])
    assert before == (0, 2, "held")
    cookie = {"name": "parley_session", "value": world["token"], "url": world["url"], "httpOnly": True}
    plan = {
        "contexts": [
            {"cookies": [{**cookie, "sameSite": "Lax"}], "attacks": [{"url": p} for p in world["pages"]]},
        ]
    }
    result = run_browser(plan)
    reports = [a["report"] for a in result["attacks"]]
    sent = sum(len(a["seen"]) for a in result["attacks"])
    print(
        f"CSRF: {len(world['pages'])} attacker origins, {sent} requests seen; reports {json.dumps(reports)}"
    )
    assert all(r is not None for r in reports), "an attacker page did not finish"
    for r in reports:
        leaked = {k: v for k, v in r.items() if v.startswith("read 2")}
        assert not leaked, f"the attacker read an answer: {leaked}"
    hits = [line for a in result["attacks"] for line in a["seen"] if world["url"] in line]
    assert len(hits) >= 8, f"the attack did not reach Parley: {hits}"
    assert state(world["app"], world["held"]) == before
    # the victim's session is alive: the logouts were refused
    with world["app"].state.registry.db.read() as s:
        from parley.accounts.principal import resolve

        principal = resolve(
            s, authorization=None, cookie_token=world["token"], site=None, now=SystemClock().now()
        )
        assert principal.account_id is not None
