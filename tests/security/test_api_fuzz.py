"""API fuzzing with Schemathesis against ``/api/v1/openapi.json``: every operation, every check,
anonymous and signed in. Pass: no 5xx, no response that breaks the document (status, media type,
headers, body schema), no invalid input accepted.

Generated values are steered at real objects half of the time (an existing comment id, thread key
or statement token instead of a random one), so the checks reach the code behind the 404s. The
fast run is bounded (:data:`FAST_EXAMPLES` per operation and identity); ``make soak`` runs
:data:`SOAK_EXAMPLES`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig

from parley.accounts.models import Role
from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from support.apps import TEST_MODERATION, checking_client
from support.factories import bearer, configure_site, make_account, make_api_token, make_comments, make_site

FAST_EXAMPLES = 8
SOAK_EXAMPLES = 150
# Every check is on. One is tuned: a request the document allows may still break a rule JSON Schema
# cannot state (visible characters in a name, a look-alike of a taken name, text without NUL or
# lone surrogates, a guest needs a name, Markdown that renders to nothing, a forged cursor), and
# Parley answers those with 400/422 problem+json — which the document declares on every operation.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", "3XX", "400", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)


@dataclass
class World:
    app: FastAPI
    comment_id: int
    thread_key: str
    statement_token: str
    tokens: dict[str, str]  # identity -> Authorization header value


@pytest.fixture
def world(settings: Settings, clock: FrozenClock) -> Iterator[World]:
    # live streams end after a moment (the test client reads a stream to its end)
    app = create_app(
        settings.model_copy(update={"live_stream_seconds": 0.2, "live_heartbeat_seconds": 0.1}), clock=clock
    )
    db = app.state.registry.db
    make_site(
        db,
        clock,
        "test",
        name="Testzeitung",
        allowed_origins=["http://testserver"],
        settings={"moderation": TEST_MODERATION},
    )
    ids = make_comments(db, clock, "fuzz-thread", 5)
    make_comments(db, clock, "fuzz-thread", 3, parent_id=ids[0])
    admin = make_account(db, clock, role=Role.ADMIN, password=None)
    with checking_client(app) as c:
        from support.factories import register

        reader = register(c)
        configure_site(app, "test", moderation={**TEST_MODERATION, "premoderate_all": True})
        held = c.post(
            "/api/v1/threads/fuzz-thread/comments",
            json={"body": "Bitte prüfen."},
            headers=bearer(reader["token"]),
        )
        assert held.status_code == 201, held.text
        configure_site(app, "test", moderation=TEST_MODERATION)
        token = held.json()["statement_url"].rsplit("/", 1)[1]
    yield World(
        app=app,
        comment_id=ids[0],
        thread_key="fuzz-thread",
        statement_token=token,
        tokens={"reader": f"Bearer {reader['token']}", "admin": f"Bearer {make_api_token(db, clock, admin)}"},
    )
    app.state.registry.close()


def fuzz(world: World, identity: str | None, examples: int) -> tuple[int, int, list[str]]:
    """Every operation of the document, ``examples`` generated cases each; (operations, requests,
    failures). Failures are collected, not raised, so one run reports them all."""
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.app, config=CONFIG)
    failures: list[str] = []
    operations = 0
    client = TestClient(world.app, base_url="http://testserver")
    sent = [0]
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            steer(case, world)
            headers = {"Authorization": world.tokens[identity]} if identity else {}
            sent[0] += 1
            response = send(client, case, headers)
            case.validate_response(response, headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the next one's
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    return operations, sent[0], failures


def send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    """The case through Starlette's test client (Schemathesis' own ASGI transport sets up a client
    per request, ten times slower); the response goes back to Schemathesis for every check."""
    kw = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    content = kw.get("data")
    if content is None and "json" in kw:
        import json

        content = json.dumps(kw["json"]).encode()
    sent_headers = dict(kw.get("headers") or {})
    if kw.get("cookies"):
        sent_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kw["cookies"].items())
    client.cookies.clear()  # nothing carries over from one case to the next
    return client.request(
        kw["method"], kw["url"], params=kw.get("params"), headers=sent_headers, content=content
    )


def steer(case: Any, world: World) -> None:
    """Half of the cases (chosen by a hash of the case, so a failure replays) get real objects."""
    params = case.path_parameters
    if not params:
        return
    digest = hashlib.sha256(repr(sorted(params.items())).encode()).digest()
    if digest[0] % 2:
        return
    real: dict[str, Any] = {
        "comment_id": world.comment_id,
        "thread_key": world.thread_key,
        "token": world.statement_token,
        "slug": "test",
        "key": world.thread_key,
    }
    for name in params:
        if name in real:
            params[name] = real[name]


@pytest.mark.parametrize("identity", [None, "reader", "admin"], ids=["anonymous", "reader", "admin"])
def test_fuzz(world: World, identity: str | None) -> None:
    operations, sent, failures = fuzz(world, identity, FAST_EXAMPLES)
    print(f"schemathesis ({identity or 'anonymous'}): {operations} operations, {sent} requests")
    assert operations >= 30
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("identity", [None, "reader", "admin"], ids=["anonymous", "reader", "admin"])
def test_fuzz_long(world: World, identity: str | None) -> None:
    operations, sent, failures = fuzz(world, identity, SOAK_EXAMPLES)
    print(f"schemathesis ({identity or 'anonymous'}): {operations} operations, {sent} requests")
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)
