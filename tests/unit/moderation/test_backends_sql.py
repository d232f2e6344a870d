"""The database copy index against the same contract as the in-memory one, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from parley.accounts.models import Account
from parley.clock import FrozenClock
from parley.comments import rendering
from parley.comments.models import Comment
from parley.comments.services import do_insert_comment
from parley.comments.threads import do_get_or_create_thread
from parley.config import Settings
from parley.db.database import Database
from parley.moderation.copies import CopyEntry, fingerprint
from parley.moderation.models import CopyBand, CopySignature
from parley.moderation.normalize import normalize
from parley.moderation.sql import SqlCopyIndex
from parley.sites.models import Site
from parley.sites.services import get_site_by_slug
from support.factories import make_account, make_site

TEXT = "Die Waffen werden schon in wenigen Wochen, wenn nicht Tagen schweigen."
OTHER = "Ganz etwas anderes steht hier, und zwar mit vielen anderen Worten als oben."


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


def _comments(db: Database, clock: FrozenClock, n: int) -> list[int]:
    make_site(db, clock, "copies")
    account_id = make_account(db, clock)
    ids = []
    with db.write() as s:
        site = get_site_by_slug(s, "copies")
        thread = do_get_or_create_thread(s, site, "story", clock.now())
        author = s.get(Account, account_id)
        assert author is not None
        for i in range(n):
            body = rendering.render(f"Kommentar {i}")
            c = do_insert_comment(
                s, site=site, thread=thread, parent=None, author=author, body=body,
                status="published", now=clock.now(), ip_hash=None,
            )  # fmt: skip
            ids.append(c.id)
    return ids


def _entry(text: str, comment_id: int, wave: int, ts: float) -> tuple[CopyEntry, list[int]]:
    fp = fingerprint(normalize(text).words)
    assert fp is not None
    return CopyEntry(comment_id, "acct:1", ts, fp.signature, wave), list(fp.bands)


def test_sql_copy_index_contract(db: Database, clock: FrozenClock) -> None:
    first, second, third = _comments(db, clock, 3)
    ts = datetime(2026, 3, 15, 12, tzinfo=UTC).timestamp()
    entry, bands = _entry(TEXT, first, first, ts)
    with db.write() as s:
        index = SqlCopyIndex(s)
        assert index.candidates("copies", bands, 0) == []
        index.add("copies", entry, bands)
        other, other_bands = _entry(OTHER, second, second, ts)
        index.add("copies", other, other_bands)
    with db.read() as s:
        index = SqlCopyIndex(s)
        (found,) = index.candidates("copies", bands, ts - 60)
        assert (found.comment_id, found.author, found.ts, found.wave_id) == (first, "acct:1", ts, first)
        assert np.array_equal(found.signature, entry.signature)
        assert index.candidates("copies", bands, ts + 1) == []  # older than the window
        assert index.candidates("nosuchsite", bands, 0) == []
        assert index.wave_of("copies", first) == first
        assert index.wave_of("copies", third) is None
    with db.write() as s:  # an edit replaces the signature; a copy joins the first comment's wave
        index = SqlCopyIndex(s)
        index.add(
            "copies",
            _entry(TEXT + " Wirklich.", first, first, ts)[0],
            _entry(TEXT + " Wirklich.", 0, 0, 0)[1],
        )
        copy, copy_bands = _entry(TEXT, third, first, ts + 5)
        index.add("copies", copy, copy_bands)
    with db.read() as s:
        index = SqlCopyIndex(s)
        assert [e.comment_id for e in index.candidates("copies", bands, 0)] == [first, third]
        assert index.wave_of("copies", third) == first
    with db.write() as s:
        assert SqlCopyIndex(s).prune(ts + 1) == 2
    with db.read() as s:
        assert [e.comment_id for e in SqlCopyIndex(s).candidates("copies", bands, 0)] == [third]


def test_a_deleted_sites_copy_bands_go_with_its_signatures(db: Database, clock: FrozenClock) -> None:
    """The bands have no foreign key of their own to ``sites`` (a POST's 16 rows each locked the
    site's row): they go with their signature, which goes with its site and its comment."""
    first, second = _comments(db, clock, 2)
    ts = datetime(2026, 3, 15, 12, tzinfo=UTC).timestamp()
    with db.write() as s:
        index = SqlCopyIndex(s)
        index.add("copies", *_entry(TEXT, first, first, ts))
        index.add("copies", *_entry(OTHER, second, second, ts))
        s.execute(delete(Comment).where(Comment.id == second))
    with db.read() as s:
        assert set(s.scalars(select(CopyBand.comment_id))) == {first}  # the comment's went with it
    with db.write() as s:
        s.execute(delete(Site).where(Site.slug == "copies"))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(CopyBand)) == 0
        assert s.scalar(select(func.count()).select_from(CopySignature)) == 0
