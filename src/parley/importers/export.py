"""``parley export --site S --format json|wxr``: a whole site, streamed, in a form the importers read
back (``parley import parley`` for JSON, ``parley import wordpress`` for WXR).

Threads in id order, each followed by its comments in tree order (a parent always before its
replies). The file holds personal data (names, e-mail addresses): treat it like a database backup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.comments.models import Comment, Thread
from parley.importers import parley_json
from parley.importers.wordpress import PARLEY_NS
from parley.sites.models import Site

WP_NS = "http://wordpress.org/export/1.2/"
WP_STATUS = {"published": "1", "held": "0", "rejected": "spam", "deleted": "trash"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _wp_date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _threads(session: Session, site_id: int) -> Iterator[Thread]:
    last = 0
    while True:
        batch = list(
            session.scalars(
                select(Thread)
                .where(Thread.site_id == site_id, Thread.id > last)
                .order_by(Thread.id)
                .limit(500)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].id
        session.expunge_all()


def _comments(session: Session, thread_id: int) -> Iterator[Any]:
    last = ""
    while True:
        rows = list(
            session.execute(
                select(Comment, Account.email, Account.display_name)
                .outerjoin(Account, Account.id == Comment.author_id)
                .where(Comment.thread_id == thread_id, Comment.path > last)
                .order_by(Comment.path)
                .limit(1000)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1][0].path
        session.expunge_all()


def write_json(session: Session, site: Site, out: IO[str]) -> tuple[int, int]:
    out.write(parley_json.header_line({"slug": site.slug, "name": site.name}))
    first = True
    threads = comments = 0

    def put(obj: dict[str, Any]) -> None:
        nonlocal first
        out.write(("" if first else ",\n") + json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        first = False

    for t in _threads(session, site.id):
        threads += 1
        put(
            {
                "type": "thread",
                "ref": str(t.id),
                "key": t.key,
                "title": t.title,
                "url": t.url,
                "status": t.status,
                "created_at": _iso(t.created_at),
            }
        )
        for c, email, name in _comments(session, t.id):
            comments += 1
            put(
                {
                    "type": "comment",
                    "ref": str(c.id),
                    "thread": str(t.id),
                    "parent": str(c.parent_id) if c.parent_id else None,
                    "author": {"name": name or c.author_name, "email": email},
                    "status": c.status,
                    "body": c.body_source,
                    "created_at": _iso(c.created_at),
                    "up": c.up,
                    "down": c.down,
                }
            )
    out.write("\n" + parley_json.FOOTER + "\n")
    return threads, comments


def _el(name: str, value: str | None) -> str:
    return f"<{name}>{escape(value or '')}</{name}>"


def write_wxr(session: Session, site: Site, out: IO[str], public_url: str = "") -> tuple[int, int]:
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f"xmlns:wp={quoteattr(WP_NS)} xmlns:parley={quoteattr(PARLEY_NS)}>\n<channel>\n"
        f"{_el('title', site.name)}\n{_el('link', public_url)}\n<wp:wxr_version>1.2</wp:wxr_version>\n"
    )
    threads = comments = 0
    for t in _threads(session, site.id):
        threads += 1
        out.write(
            "<item>\n"
            f"{_el('title', t.title)}\n{_el('link', t.url)}\n"
            f'<guid isPermaLink="false">{escape(t.key)}</guid>\n'
            f"{_el('wp:post_id', str(t.id))}\n{_el('wp:post_type', 'post')}\n{_el('wp:status', 'publish')}\n"
            f"{_el('wp:post_date_gmt', _wp_date(t.created_at))}\n"
            f"{_el('wp:comment_status', 'closed' if t.status == 'closed' else 'open')}\n"
            f"{_el('parley:thread_key', t.key)}\n"
        )
        for c, email, name in _comments(session, t.id):
            comments += 1
            out.write(
                "<wp:comment>\n"
                f"{_el('wp:comment_id', str(c.id))}\n"
                f"{_el('wp:comment_author', name or c.author_name)}\n"
                f"{_el('wp:comment_author_email', email)}\n"
                f"{_el('wp:comment_date_gmt', _wp_date(c.created_at))}\n"
                f"{_el('wp:comment_content', c.body_html)}\n"
                f"{_el('wp:comment_approved', WP_STATUS.get(c.status, '0'))}\n"
                f"{_el('wp:comment_type', 'comment')}\n"
                f"{_el('wp:comment_parent', str(c.parent_id or 0))}\n"
                f"{_el('parley:status', c.status)}\n"
                "</wp:comment>\n"
            )
        out.write("</item>\n")
    out.write("</channel>\n</rss>\n")
    return threads, comments
