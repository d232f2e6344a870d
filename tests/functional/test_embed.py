"""``/embed.js``: caching headers, compression, the pinned URL, and CORS for publisher origins."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from parley.embed.bundle import BUDGET_GZIP_BYTES
from parley.sites.models import Site

PUBLISHER = "https://zeitung.example"


def test_embed_js_is_gzipped_cacheable_and_cookieless(client: TestClient) -> None:
    r = client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=3600, stale-while-revalidate=86400"
    assert r.headers["vary"] == "Accept-Encoding"
    etag = r.headers["etag"]
    assert etag.startswith('"')  # strong: no W/
    assert etag.endswith('-gz"')  # one tag per representation
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in r.headers
    assert "w.Parley = {" in r.text  # httpx decoded the gzip: the script itself
    assert "__CSS__" not in r.text
    assert int(r.headers["content-length"]) <= BUDGET_GZIP_BYTES


def test_embed_js_in_brotli_for_browsers_that_accept_it(client: TestClient) -> None:
    r = client.get("/embed.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.headers["content-encoding"] == "br"
    assert r.headers["etag"].endswith('-br"')
    assert "w.Parley = {" in r.text  # httpx decoded the Brotli
    gz = client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert int(r.headers["content-length"]) < int(gz.headers["content-length"])
    assert r.text == gz.text
    again = client.get("/embed.js", headers={"Accept-Encoding": "br", "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == r.headers["etag"]


def test_embed_js_revalidates_with_its_etag(client: TestClient) -> None:
    first = client.get("/embed.js", headers={"Accept-Encoding": "gzip"})
    again = client.get(
        "/embed.js", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    plain = client.get("/embed.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] != first.headers["etag"]
    assert plain.content == first.content  # the same script either way (httpx decodes gzip)
    head = client.head("/embed.js", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.headers["etag"] == first.headers["etag"]
    stale = client.get(
        "/embed.js", headers={"Accept-Encoding": "gzip", "If-None-Match": '"0123456789abcdef"'}
    )
    assert stale.status_code == 200


def test_pinned_url_is_immutable_and_old_pins_lead_to_the_current_build(client: TestClient) -> None:
    name = client.get("/embed.js").headers["x-parley-widget"]
    pinned = client.get("/" + name)
    assert pinned.status_code == 200
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    old = client.get("/embed.0000000000000000.js", follow_redirects=False)
    assert old.status_code == 307
    assert old.headers["location"] == "/embed.js"


def test_cors_for_a_publisher_origin_and_only_for_it(app: FastAPI, client: TestClient) -> None:
    with app.state.registry.db.write() as s:
        site = s.query(Site).filter_by(slug="test").one()
        site.allowed_origins = ["http://testserver", PUBLISHER]
    # preflights are not operations of the API document: a plain client sends them
    raw = TestClient(app, base_url="http://testserver")
    pre = raw.options(
        "/api/v1/threads/a/comments",
        headers={
            "Origin": PUBLISHER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == PUBLISHER
    assert "Authorization" in pre.headers["access-control-allow-headers"]
    assert "PATCH" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in pre.headers  # bearer tokens only, never cookies

    r = client.get("/api/v1/threads/a/comments", headers={"Origin": PUBLISHER})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == PUBLISHER
    assert "Origin" in r.headers["vary"]
    assert "access-control-allow-credentials" not in r.headers

    stranger = "https://fremd.example"
    denied = raw.options(
        "/api/v1/threads/a/comments",
        headers={"Origin": stranger, "Access-Control-Request-Method": "POST"},
    )
    assert denied.status_code == 403
    assert "access-control-allow-origin" not in denied.headers
    assert (
        "access-control-allow-origin"
        not in client.get("/api/v1/threads/a/comments", headers={"Origin": stranger}).headers
    )
    # the admin API is not for browsers on other origins
    admin = raw.options(
        "/api/v1/admin/sites", headers={"Origin": PUBLISHER, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in admin.headers
