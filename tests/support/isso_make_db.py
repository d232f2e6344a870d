"""Run with the Python of a virtualenv that has the real Isso installed: writes an Isso database by
posting, replying, liking, moderating and deleting through Isso's own WSGI app.

    python isso_make_db.py PATH
"""

from __future__ import annotations

import contextlib
import json
import sys

from isso import Isso, config, core  # type: ignore[import-not-found]
from isso.utils import http  # type: ignore[import-not-found]
from werkzeug.test import Client
from werkzeug.wrappers import Response


@contextlib.contextmanager
def no_network(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    yield None  # Isso would fetch the page title from the site: never, here


http.curl = no_network


class App(Isso, core.Mixin):  # type: ignore[misc]
    pass


def app(path: str, moderated: bool) -> Client:
    conf = config.load(config.default_file())
    conf.set("general", "dbpath", path)
    conf.set("general", "host", "http://blog.example/")
    conf.set("guard", "enabled", "off")
    conf.set("hash", "algorithm", "none")
    conf.set("moderation", "enabled", "true" if moderated else "false")
    return Client(App(conf), Response)


def post(client: Client, uri: str, ip: str = "192.0.2.1", **data: object) -> int:
    r = client.post(
        f"/new?uri={uri}",
        data=json.dumps(data),
        content_type="application/json",
        environ_base={"REMOTE_ADDR": ip},
    )
    assert r.status_code in (201, 202), (r.status_code, r.data)
    return int(json.loads(r.data)["id"])


def main(path: str) -> None:
    c = app(path, moderated=False)
    first = post(
        c,
        "/blog/eins/",
        text="Erster **Kommentar** mit [Link](https://example.org/x)",
        author="Jürgen Größ",
        email="juergen@example.org",
        title="Blog eins",
    )
    reply = post(
        c, "/blog/eins/", text="Antwort *darauf* – ünïcödé", author="Ølga", parent=first, ip="192.0.2.2"
    )
    post(c, "/blog/eins/", text="Ohne Namen", ip="192.0.2.3")
    doomed = post(
        c, "/blog/eins/", text="Wird gelöscht", author="Weg", email="weg@example.org", ip="192.0.2.4"
    )
    post(c, "/blog/eins/", text="Antwort auf Gelöschtes", author="Ølga", parent=doomed, ip="192.0.2.2")
    post(c, "/blog/zwei/", text="<script>alert(1)</script>Skript als Text", author="Max", title="Blog zwei")
    for ip in ("198.51.100.1", "198.51.100.2"):
        r = c.post(f"/id/{first}/like", environ_base={"REMOTE_ADDR": ip})
        assert r.status_code == 200, r.data
    r = c.post(f"/id/{reply}/dislike", environ_base={"REMOTE_ADDR": "198.51.100.3"})
    assert r.status_code == 200
    r = c.delete(f"/id/{doomed}", environ_base={"REMOTE_ADDR": "192.0.2.4"})
    assert r.status_code == 200, r.data  # it has a reply: Isso keeps it as deleted (mode 4)
    moderated = app(path, moderated=True)
    post(moderated, "/blog/zwei/", text="Wartet auf Freigabe", author="Neu", ip="192.0.2.9")


if __name__ == "__main__":
    main(sys.argv[1])
