"""Database implementations of the moderation stores (tables in :mod:`parley.moderation.models`).

They work on the caller's session and never commit: the request (or CLI command) is the unit of
work, so a comment, its decision and its copy-index rows are stored together or not at all. Build
them per unit of work (they are cheap wrappers), e.g. in the comment service::

    backends = ModerationBackends(
        copies=SqlCopyIndex(session), rates=registry.rates, history=..., names=...
    )

Here: the copy index (its own tables), the name registry (a read of ``accounts.name_skeleton``) and
the author history (the comments table by status). Rates live in the process or in Redis
(:mod:`parley.moderation.memory`, scale-out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, union_all
from sqlalchemy.orm import Session

from parley.db.direct import Along, Direct
from parley.moderation.backends import AuthorStats
from parley.moderation.copies import CommentKey, CopyEntry, signature_from_bytes, signature_to_bytes
from parley.moderation.models import CopyBand, CopySignature
from parley.moderation.names import NameHolder
from parley.moderation.phases.copies import LOOK_UP
from parley.moderation.types import Verdict

# Built once, on the tables (Core statements: no ORM compile step per execution; they autoflush
# like ORM ones), so each is compiled once per dialect (and bucket count), then only bound. A POST
# runs the look-up and the inserts inside the writers' lock: on the driver's cursor
# (parley.db.direct).
_SIGNATURES = cast(Table, CopySignature.__table__)
_BANDS = cast(Table, CopyBand.__table__)


@cache
def _candidates(buckets: int) -> Direct:
    """The look-up for ``buckets`` buckets (one parameter each: Direct has no expanding lists).

    One ``UNION ALL`` arm per bucket, each an equality on the primary key's two leading columns
    (site, bucket): a probe of the index whatever the planner knows. As ``bucket IN (…)`` beside
    ``site_id = …``, PostgreSQL chose, while the table had no statistics yet (a new database, the
    first minutes of a site), an index range over the site's every bucket with the buckets as a
    filter: 6,064 rows read for a look-up that found none, 1.4 ms and growing with each comment.
    """
    bucket = _BANDS.c.bucket.type
    probes = [
        select(_BANDS.c.comment_id).where(
            _BANDS.c.site_id == bindparam("site"), _BANDS.c.bucket == bindparam(f"b{i}", type_=bucket)
        )
        for i in range(buckets)
    ]
    return Direct(
        select(
            _SIGNATURES.c.comment_id,
            _SIGNATURES.c.author_key,
            _SIGNATURES.c.published_at,
            _SIGNATURES.c.signature,
            _SIGNATURES.c.wave_id,
        )
        .where(
            _SIGNATURES.c.comment_id.in_(union_all(*probes)),
            _SIGNATURES.c.published_at >= bindparam("since", type_=_SIGNATURES.c.published_at.type),
        )
        .order_by(_SIGNATURES.c.comment_id)
    )


# the writes of :meth:`SqlCopyIndex.add` (a POST runs them all)
_DELETE_SIGNATURE = delete(_SIGNATURES).where(_SIGNATURES.c.comment_id == bindparam("b_comment"))
_INSERT_SIGNATURE = Direct(insert(_SIGNATURES))


@cache
def _insert_bands(count: int) -> Direct:
    """One multi-row INSERT of a comment's ``count`` buckets (``k0`` …): one statement, not one per
    bucket."""
    rows: list[dict[str, Any]] = [
        {"site_id": bindparam("b_site"), "bucket": bindparam(f"k{i}"), "comment_id": bindparam("b_comment")}
        for i in range(count)
    ]
    return Direct(insert(_BANDS).values(rows))


@cache
def _holder_stmt() -> Direct:
    # built on first use: parley.accounts imports this module, so its models are not imported here;
    # on the driver's cursor: every guest's POST asks
    from parley.accounts.models import Account

    accounts = cast(Table, Account.__table__)
    return Direct(
        select(accounts.c.display_name, accounts.c.id).where(
            accounts.c.name_skeleton == bindparam("skeleton")
        )
    )


def _look_up_values(site_id: int, bands: Sequence[int], since: float) -> dict[str, Any]:
    values: dict[str, Any] = {f"b{i}": bucket for i, bucket in enumerate(bands)}
    values["site"] = site_id
    values["since"] = datetime.fromtimestamp(since, UTC)
    return values


def _entries(rows: list[tuple[Any, ...]]) -> list[CopyEntry]:
    return [
        CopyEntry(cid, author, published.timestamp(), signature_from_bytes(sig), wave)
        for cid, author, published, sig, wave in rows
    ]


class SqlCopyIndex:
    """:class:`~parley.moderation.backends.CopyIndex` over ``moderation_copy_*`` tables.

    ``site`` is the site's slug (as in :attr:`ModerationContext.site_slug`); comment ids are the
    ``comments.id`` integers. A lookup is one query: 16 probes of the bucket primary key and a join
    on the signature's primary key, so its cost does not grow with the number of stored comments.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._site_ids: dict[str, int | None] = {}
        # look-ups read ahead (read_along): (site, buckets, since) -> what candidates() returns
        self._read: dict[tuple[str, tuple[int, ...], float], list[CopyEntry]] = {}

    def know_site(self, slug: str, site_id: int) -> None:
        """Tell the index a site's id, which the caller has loaded already: spares a query per use."""
        self._site_ids[slug] = site_id

    def _site_id(self, site: str) -> int | None:
        if site not in self._site_ids:
            from parley.sites.models import Site

            self._site_ids[site] = self.session.scalar(select(Site.id).where(Site.slug == site))
        return self._site_ids[site]

    def candidates(self, site: str, bands: Sequence[int], since: float) -> list[CopyEntry]:
        read = self._read.pop((site, tuple(bands), since), None)
        if read is not None:
            return read
        site_id = self._site_id(site)
        if site_id is None or not bands:
            return []
        return _entries(_candidates(len(bands)).rows(self.session, _look_up_values(site_id, bands, since)))

    def read_along(self, site_id: int, memo: Mapping[str, Any]) -> Along | None:
        """The look-up the copies phase will make (the memo's ``LOOK_UP``, from its ``prepare``) as
        a read to run along another (``Direct.first_with``: on PostgreSQL in the same statement),
        with what takes its rows: the phase's :meth:`candidates` then finds them read. None when
        the phase will make none."""
        look_up = memo.get(LOOK_UP)
        if look_up is None or not look_up[1]:
            return None
        site, bands, since = look_up
        self.know_site(site, site_id)

        def take(rows: list[tuple[Any, ...]]) -> None:
            self._read[(site, tuple(bands), since)] = _entries(rows)

        return Along(_candidates(len(bands)), _look_up_values(site_id, bands, since), take)

    def add(self, site: str, entry: CopyEntry, bands: Sequence[int], *, fresh: bool = False) -> None:
        site_id = self._site_id(site)
        if site_id is None:
            raise LookupError(f"unknown site {site!r}")
        comment_id = int(entry.comment_id)
        if not fresh:
            # an edit replaces the comment's signature and buckets (a trigger deletes a signature's
            # buckets with it). A comment stored in this unit of work has none: its id is new (a
            # deleted comment's rows went with it), so a POST skips the statement.
            self.session.execute(_DELETE_SIGNATURE, {"b_comment": comment_id})
        _INSERT_SIGNATURE.defer(
            self.session,
            {
                "comment_id": comment_id,
                "site_id": site_id,
                "author_key": entry.author[:160],
                "published_at": datetime.fromtimestamp(entry.ts, UTC),
                "signature": signature_to_bytes(entry.signature),
                "wave_id": int(entry.wave_id),
            },
        )
        buckets = list(dict.fromkeys(bands))
        if buckets:
            values: dict[str, Any] = {f"k{i}": bucket for i, bucket in enumerate(buckets)}
            values["b_site"] = site_id
            values["b_comment"] = comment_id
            _insert_bands(len(buckets)).defer(self.session, values)

    def forget(self, author: str) -> None:
        """Drop an erased author's signatures (their buckets go with them): they are derived from
        their words."""
        self.session.execute(delete(CopySignature).where(CopySignature.author_key == author[:160]))

    def wave_of(self, site: str, comment_id: CommentKey) -> CommentKey | None:
        site_id = self._site_id(site)
        if site_id is None:
            return None
        wave: int | None = self.session.scalar(
            select(CopySignature.wave_id).where(
                CopySignature.comment_id == int(comment_id), CopySignature.site_id == site_id
            )
        )
        return wave

    def prune(self, before: float) -> int:
        """Delete signatures (and, by the trigger, their buckets) published before ``before``;
        returns how many."""
        result = self.session.execute(
            delete(CopySignature).where(CopySignature.published_at < datetime.fromtimestamp(before, UTC))
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlNameRegistry:
    """:class:`~parley.moderation.backends.NameRegistry` over ``accounts.name_skeleton``.

    Read side only: the accounts domain writes the skeleton when it saves an account (its unique
    index settles races), so :meth:`claim` reports a conflict without writing and :meth:`release`
    does nothing.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def holder(self, skeleton: str) -> NameHolder | None:
        row = _holder_stmt().first(self.session, {"skeleton": skeleton})
        return NameHolder(row[0], row[1]) if row is not None else None

    def claim(self, skeleton: str, holder: NameHolder) -> NameHolder | None:
        current = self.holder(skeleton)
        return current if current is not None and current.account_id != holder.account_id else None

    def release(self, skeleton: str, account_id: CommentKey | None) -> None:
        return None


_STATUS_VERDICT = {"published": Verdict.PUBLISH, "held": Verdict.HOLD, "rejected": Verdict.REJECT}


class SqlAuthorHistory:
    """:class:`~parley.moderation.backends.AuthorHistory` read from the comments table itself.

    The comments table already is the history (statuses change when moderators decide, and the
    history must follow them), so :meth:`record` writes nothing. Authors are counted by account
    (``acct:<id>`` keys); other keys (sessionless guests) have no history.
    """

    RECENT = 20

    def __init__(self, session: Session) -> None:
        self.session = session

    def stats(self, author: str) -> AuthorStats:
        from parley.comments.models import Comment

        if not author.startswith("acct:") or not author[5:].isdigit():
            return AuthorStats()
        account_id = int(author[5:])
        counts = dict(
            self.session.execute(
                select(Comment.status, func.count(Comment.id))
                .where(Comment.author_id == account_id)
                .group_by(Comment.status)
            ).all()
        )
        recent = self.session.scalars(
            select(Comment.status)
            .where(Comment.author_id == account_id, Comment.status.in_(list(_STATUS_VERDICT)))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(self.RECENT)
        ).all()
        return AuthorStats(
            published=int(counts.get("published", 0)),
            held=int(counts.get("held", 0)),
            rejected=int(counts.get("rejected", 0)),
            recent=tuple(_STATUS_VERDICT[s] for s in reversed(recent)),
        )

    def record(self, author: str, verdict: Verdict) -> None:
        return None

    def forget(self, author: str) -> None:
        return None  # the comments table is the history; erasure anonymises or removes it
