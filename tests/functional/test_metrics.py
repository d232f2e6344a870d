"""``/metrics``: Prometheus text with requests by route template and status, latency, moderation
verdicts by phase and code, phase runs, the job queue, cache hits and misses, the database pool —
and who may read it (loopback by default, a bearer token when configured, never through an unknown
proxy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from parley.app import create_app
from parley.clock import FrozenClock
from parley.config import Settings
from parley.web.turns import DEFAULT_POSTGRESQL
from support.apps import inside_write_unit
from support.factories import post

LOCAL = ("127.0.0.1", 40000)
REMOTE = ("203.0.113.9", 40000)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def token_app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    s = settings.model_copy(
        update={"metrics_token": SecretStr("scrape-me-please"), "trusted_proxies": ["10.0.0.1/32"]}
    )
    application = create_app(s, clock=clock)
    yield application
    application.state.registry.close()


def test_metrics_content(app: FastAPI, client: TestClient) -> None:
    assert post(client, "gemessen", "Ein Kommentar zum Zählen.").status_code == 201
    for _ in range(2):
        assert client.get("/api/v1/threads/gemessen/comments").status_code == 200
    local = TestClient(app, base_url="http://testserver", client=LOCAL)
    r = local.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["cache-control"] == "no-store"
    found = samples(r.text)
    route = "/api/v1/threads/{thread_key:path}/comments"
    assert value(found, "parley_http_requests_total", method="GET", route=route, status="200") == 2
    assert value(found, "parley_http_requests_total", method="POST", route=route, status="201") == 1
    assert value(found, "parley_http_request_seconds_count", method="GET", route=route) == 2
    assert "gemessen" not in r.text  # route templates, never raw paths
    assert value(found, "parley_cache_requests_total", view="thread", result="miss") == 1
    assert value(found, "parley_cache_requests_total", view="thread", result="hit") == 1
    runs = {dict(k[1])["phase"] for k in found if k[0] == "parley_moderation_phase_runs_total"}
    assert len(runs) >= 3
    verdicts = [dict(k[1]) for k in found if k[0] == "parley_moderation_verdicts_total"]
    assert verdicts
    assert all({"phase", "verdict", "code"} <= set(v) for v in verdicts)
    assert any(v["code"] == "none" and v["verdict"] == "publish" for v in verdicts)
    assert ("parley_jobs", frozenset({("status", "pending")})) in found
    assert value(found, "parley_db_pool_connections", engine="read", state="size") >= 1
    assert ("parley_db_pool_connections", frozenset({("engine", "read"), ("state", "checked_out")})) in found
    # the write turns of this process (parley.web.turns): nobody posting now; unset, no limit on
    # SQLite and DEFAULT_POSTGRESQL on PostgreSQL
    turns = {dict(k[1])["state"]: v for k, v in found.items() if k[0] == "parley_write_turns"}
    limit = 0 if app.state.registry.db.is_sqlite else DEFAULT_POSTGRESQL
    assert turns == {"running": 0, "waiting": 0, "limit": limit}
    if app.state.registry.db.is_sqlite:
        # the POST (and the set-up before it) ended SQLite write transactions, each holding >= 1 unit
        transactions = value(found, "parley_db_group_commit", count="transactions")
        assert transactions >= 1
        assert value(found, "parley_db_group_commit", count="units") >= transactions
        # and held the writers' lock for it: each part took time, and no thread spends more CPU
        # in a part than the part's wall time
        held = {
            (dict(k[1])["part"], dict(k[1])["clock"]): v
            for k, v in found.items()
            if k[0] == "parley_db_writers_lock_seconds"
        }
        assert {part for part, _ in held} == {"open", "unit", "commit"}
        for part in ("open", "unit", "commit"):
            assert 0 < held[part, "wall"] < 60
            assert 0 <= held[part, "cpu"] <= held[part, "wall"] + 0.001
    else:
        assert not any(k[0] in ("parley_db_group_commit", "parley_db_writers_lock_seconds") for k in found)


def test_phase_runs_of_a_post_are_counted_after_its_write_unit(app: FastAPI, client: TestClient) -> None:
    """The phases' metrics (locks, histogram buckets) are recorded once the POST's write unit has
    ended, so they do not hold up the writers queued behind it; every phase is still counted."""
    pipeline = app.state.registry.pipeline
    seen: list[tuple[str, bool]] = []
    pipeline.observers.append(lambda run: seen.append((run.phase, inside_write_unit())))
    assert post(client, "gemessen", "Ein Kommentar, dessen Phasen gezählt werden.").status_code == 201
    assert [phase for phase, _ in seen] == pipeline.phase_names
    assert not any(inside for _, inside in seen), seen


def test_metrics_verdict_codes(app: FastAPI, client: TestClient) -> None:
    """A phase that gives a reason is counted under its code (the link phase on a spammy body)."""
    body = " ".join(f"https://spam{i}.example/x" for i in range(8))
    post(client, "links", body)
    found = samples(TestClient(app, client=LOCAL).get("/metrics").text)
    coded = [dict(k[1]) for k in found if k[0] == "parley_moderation_verdicts_total"]
    assert any(v["code"] != "none" for v in coded), coded


def test_metrics_are_not_for_everyone(app: FastAPI) -> None:
    assert TestClient(app, client=REMOTE).get("/metrics").status_code == 404
    # loopback, but through a proxy nobody declared trusted: the real client is unknown
    proxied = TestClient(app, client=LOCAL).get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert proxied.status_code == 404
    assert (
        TestClient(app, client=LOCAL).get("/metrics", headers={"Forwarded": "for=1.2.3.4"}).status_code == 404
    )
    # no token configured: a bearer header does not open it
    r = TestClient(app, client=REMOTE).get("/metrics", headers={"Authorization": "Bearer anything"})
    assert r.status_code == 404


def test_metrics_token_and_trusted_proxy(token_app: FastAPI) -> None:
    remote = TestClient(token_app, client=REMOTE)
    assert remote.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"}).status_code == 200
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert remote.get("/metrics").status_code == 404
    proxy = TestClient(token_app, client=("10.0.0.1", 1234))
    # a trusted proxy passing an internet client on: refused; passing a local one: allowed
    assert proxy.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 404
    assert proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


@pytest.mark.parametrize("enabled", [False, True])
def test_fastapi_opentelemetry_only_when_enabled(
    settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    """Off (the default), no request asks OpenTelemetry for its providers; on, FastAPI's own
    telemetry looks for them as it does without Parley."""
    from opentelemetry import trace

    asked: list[object] = []
    real = trace.get_tracer_provider

    def counting() -> trace.TracerProvider:
        asked.append(None)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counting)
    application = create_app(settings.model_copy(update={"opentelemetry": enabled}), clock=clock)
    try:
        with TestClient(application) as c:
            for _ in range(3):
                assert c.get("/healthz").status_code == 200
    finally:
        application.state.registry.close()
    assert (len(asked) >= 3) is enabled
