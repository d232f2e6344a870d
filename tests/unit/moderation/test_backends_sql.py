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


def _entry(
    text: str, comment_id: int, wave: int, ts: float, author: str = "acct:1"
) -> tuple[CopyEntry, list[int]]:
    fp = fingerprint(normalize(text).words)
    assert fp is not None
    return CopyEntry(comment_id, author, ts, fp.signature, wave), list(fp.bands)


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


def _bands(db: Database) -> dict[int, int]:
    """Stored buckets per comment."""
    with db.read() as s:
        rows = s.execute(select(CopyBand.comment_id, func.count()).group_by(CopyBand.comment_id))
        return {int(cid): int(n) for cid, n in rows}


def test_a_signatures_bands_go_with_it_however_it_goes(db: Database, clock: FrozenClock) -> None:
    """The bands have no foreign keys (a POST's 16 rows each looked up and locked the signature's
    row and the site's): a trigger deletes a signature's bands with it — an edit, a prune, an
    erasure, its comment's deletion, its site's."""
    first, second, third, fourth = _comments(db, clock, 4)
    ts = datetime(2026, 3, 15, 12, tzinfo=UTC).timestamp()
    texts = {first: TEXT, second: OTHER, third: TEXT + " Nochmal.", fourth: OTHER + " Und mehr."}
    with db.write() as s:
        index = SqlCopyIndex(s)
        for cid, text in texts.items():
            author = "acct:2" if cid == fourth else "acct:1"
            index.add("copies", *_entry(text, cid, cid, ts + (cid == third) * 3600, author))
    stored = _bands(db)
    assert set(stored) == set(texts)
    assert all(n > 8 for n in stored.values())
    with db.write() as s:  # an edit: the old buckets are replaced, not added to
        edited, edited_bands = _entry(TEXT + " Wirklich ganz anders jetzt.", first, first, ts)
        SqlCopyIndex(s).add("copies", edited, edited_bands)
    assert _bands(db)[first] == len(set(edited_bands))
    with db.write() as s:
        s.execute(delete(Comment).where(Comment.id == second))
    assert set(_bands(db)) == {first, third, fourth}  # the comment's went with it
    with db.write() as s:
        SqlCopyIndex(s).forget("acct:2")  # an erasure: fourth
    assert set(_bands(db)) == {first, third}
    with db.write() as s:
        assert SqlCopyIndex(s).prune(ts + 1) == 1  # first (third is newer)
    assert set(_bands(db)) == {third}
    with db.write() as s:
        s.execute(delete(Site).where(Site.slug == "copies"))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(CopyBand)) == 0
        assert s.scalar(select(func.count()).select_from(CopySignature)) == 0
