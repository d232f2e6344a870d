"""The import engine: any importer's stream of threads and comments into one site.

Decisions (docs/operations.md tells publishers the same):

- **Checked first, then written in batches.** The whole file is read once before anything is
  written, so a broken or wrong file fails with its line and element and leaves nothing behind.
  Then each batch of comments (``batch_size``) is one transaction: live traffic can write between
  batches, and a run that stops half-way (killed, disk full) is resumed by running it again.
- **Idempotent.** Every imported thread, comment and author is recorded in ``import_refs`` under
  ``(site, source, ref)``; a second run finds them all and adds nothing.
- **Authors** become accounts of kind ``imported``, one per source identity (the source's user id,
  else the e-mail address, else the name). They own their names like registered accounts, so
  nobody can later register a look-alike of a long-time commenter. A name that looks like an
  existing account's or a reserved name is *not* merged into that account: the imported author is
  renamed with a suffix (``Max (2)``) and the summary lists it. The one exception is an existing
  *imported* account with the same e-mail address (or both without one): that is the same author
  arriving again (say, from another site's export) and is reused.
- **Text** is converted (HTML → Markdown source) and rendered through the same Markdown + nh3 path
  as a posted comment; the plain text is kept for moderation and search.
- **Moderation** is optional (``moderate=True``): comments that would be published run through
  the pipeline and may end up held or rejected, with the decision recorded.
- **Counters** (thread comment counts, reply and descendant counts) are recomputed per batch for
  the threads it touched.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from parley.accounts.errors import NameInvalid
from parley.accounts.models import Account, AccountKind
from parley.accounts.names import MAX_IMPORTED_LENGTH, clean_display_name, name_skeleton
from parley.accounts.services import reserved_skeletons
from parley.comments import paths, rendering
from parley.comments.models import Comment, CommentStatus, Thread, ThreadStatus
from parley.comments.scoring import wilson_lower_bound
from parley.comments.services import allocate_comment_ids
from parley.db.database import Database, touch_threads
from parley.importers.html import html_to_markdown
from parley.importers.models import ImportRef
from parley.importers.sources import BodyFormat, Skipped, SourceComment, SourceItem, SourceThread
from parley.sites.models import Site

PUBLISHED = CommentStatus.PUBLISHED.value
LRU_SIZE = 200_000  # parents remembered in memory; older ones are looked up in import_refs
MAX_BODY = 100_000
FALLBACK_NAME = "Anonymous"


@dataclass(frozen=True, slots=True)
class Renamed:
    original: str
    imported_as: str
    collides_with: str


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    threads_created: int = 0
    threads_existing: int = 0
    comments: Counter[str] = field(default_factory=Counter)  # created, by status
    comments_existing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason → count
    authors_created: int = 0
    authors_reused: int = 0
    renamed: list[Renamed] = field(default_factory=list)
    orphans: int = 0  # replies whose parent is not in the file: imported as top-level comments
    moderated: Counter[str] = field(default_factory=Counter)  # verdict → count (with moderate=True)
    batches: int = 0

    @property
    def comments_created(self) -> int:
        return sum(self.comments.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "threads": {"created": self.threads_created, "existing": self.threads_existing},
            "comments": {
                "created": self.comments_created,
                "by_status": dict(sorted(self.comments.items())),
                "existing": self.comments_existing,
                "orphans": self.orphans,
            },
            "skipped": dict(sorted(self.skipped.items())),
            "authors": {
                "created": self.authors_created,
                "reused": self.authors_reused,
                "renamed": [
                    {"original": r.original, "imported_as": r.imported_as, "collides_with": r.collides_with}
                    for r in self.renamed
                ],
            },
            "moderation": dict(sorted(self.moderated.items())),
        }


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an imported comment sits: enough to attach replies without reading it again."""

    id: int
    path: str
    depth: int
    root_id: int
    thread_id: int


class _DryRun(Exception):
    """Raised to roll back a dry run's single transaction."""


Progress = Callable[[int], None]


def check_stream(items: Iterable[SourceItem]) -> int:
    """Read the whole stream (raising :class:`FormatError` on the first problem); count the items."""
    return sum(1 for _ in items)


class Importer:
    def __init__(
        self,
        db: Database,
        site_slug: str,
        source: str,
        now: datetime,
        *,
        dry_run: bool = False,
        moderate: bool = False,
        batch_size: int = 500,
        registry: Any = None,
    ) -> None:
        self.db = db
        self.source = source
        self.now = now
        self.dry_run = dry_run
        self.moderate = moderate
        self.batch_size = batch_size
        self.registry = registry
        self.report = ImportReport(source, dry_run=dry_run)
        self.site_slug = site_slug
        self.site_id = 0
        self.threads: dict[str, int] = {}  # source thread ref → thread id
        self.thread_sources: dict[str, SourceThread] = {}
        self.placed: OrderedDict[str, Placed] = OrderedDict()
        self.authors: dict[str, tuple[int, str]] = {}  # identity → (account id, display name)
        self.owned: dict[str, tuple[int, str, str | None]] = {}  # skeleton → (id, name, email)
        self.waiting: dict[str, list[SourceComment]] = {}  # parent ref → replies that came first
        self._reserved: dict[str, str] | None = None
        self._session: Session | None = None
        self._decisions: list[tuple[int, Any, str]] = []
        self._pending_refs: list[dict[str, Any]] = []
        self._owner_cache: dict[str, tuple[int | None, str, str | None, str] | None] = {}
        self._next_suffix: dict[str, int] = {}

    # --- transactions ------------------------------------------------------------------------------
    @contextmanager
    def _unit(self) -> Iterator[Session]:
        if self._session is not None:  # dry run: one transaction for everything, rolled back
            yield self._session
            return
        with self.db.write() as session:
            yield session

    def run(self, items: Iterable[SourceItem], progress: Progress | None = None) -> ImportReport:
        with self.db.read() as session:
            site = session.scalar(select(Site).where(Site.slug == self.site_slug))
            if site is None:
                from parley.sites.errors import SiteNotFound

                raise SiteNotFound(context={"slug": self.site_slug})
            self.site_id = site.id
        if not self.dry_run:
            self._run(items, progress)
            return self.report
        try:
            with self.db.write() as session:
                self._session = session
                self._run(items, progress)
                raise _DryRun()
        except _DryRun:
            pass
        finally:
            self._session = None
        return self.report

    def _run(self, items: Iterable[SourceItem], progress: Progress | None) -> None:
        batch: list[SourceComment] = []
        pending_threads: list[SourceThread] = []
        for item in items:
            if progress is not None:
                progress(1)
            if isinstance(item, SourceThread):
                pending_threads.append(item)
                self.thread_sources[item.ref] = item
            elif isinstance(item, Skipped):
                self.report.skipped[item.reason] += 1
            else:
                batch.append(item)
            if len(batch) >= self.batch_size or len(pending_threads) >= self.batch_size:
                self._batch(pending_threads, batch)
                batch, pending_threads = [], []
        if batch or pending_threads:
            self._batch(pending_threads, batch)
        self._flush_orphans()

    # --- one batch ---------------------------------------------------------------------------------
    def _batch(self, threads: list[SourceThread], comments: list[SourceComment]) -> None:
        self.report.batches += 1
        with self._unit() as session:
            self._threads(session, threads)
            touched: set[int] = set()
            self._comments(session, comments, touched)
            self._flush_refs(session)
            if touched:
                recount(session, sorted(touched))

    def _flush_orphans(self) -> None:
        """Replies whose parent never appeared: imported at the top level (and counted)."""
        orphans = [c for waiting in self.waiting.values() for c in waiting]
        self.waiting.clear()
        if not orphans:
            return
        self.report.orphans += len(orphans)
        for c in orphans:
            c.parent_ref = None
        for chunk in _chunks(orphans, self.batch_size):
            self._batch([], chunk)

    def _threads(self, session: Session, sources: list[SourceThread]) -> None:
        """Find or create the batch's threads: three queries and one insert, whatever their number."""
        todo = [t for t in {t.ref: t for t in sources}.values() if t.ref not in self.threads]
        if not todo:
            return
        for r in session.execute(
            self._ref_query("thread", [t.ref for t in todo]).with_only_columns(
                ImportRef.ref, ImportRef.target_id
            )
        ):
            self.threads[r.ref] = r.target_id
            self.report.threads_existing += 1
        todo = [t for t in todo if t.ref not in self.threads]
        if not todo:
            return
        by_key = {
            r.key: r.id
            for r in session.execute(
                select(Thread.key, Thread.id).where(
                    Thread.site_id == self.site_id, Thread.key.in_([t.key for t in todo])
                )
            )
        }
        new_rows: list[dict[str, Any]] = []
        pending: set[str] = set()  # keys being created now: a second source thread with one joins it
        for t in todo:
            if t.key in pending:
                continue
            if t.key in by_key:
                self.threads[t.ref] = by_key[t.key]
                self.report.threads_existing += 1
                self._pending_refs.append(self._ref_row("thread", t.ref, by_key[t.key]))
                continue
            pending.add(t.key)
            new_rows.append(
                {
                    "site_id": self.site_id,
                    "key": t.key,
                    "title": " ".join(t.title.split())[:500],
                    "url": t.url if t.url.startswith(("http://", "https://")) else "",
                    "status": ThreadStatus.CLOSED.value if t.closed else ThreadStatus.OPEN.value,
                    "closes_at": None,
                    "settings": {},
                    "comment_count": 0,
                    "version": 0,
                    "created_at": t.created_at or self.now,
                    "last_comment_at": None,
                }
            )
        if new_rows:
            created = session.execute(
                insert(Thread).returning(Thread.id, Thread.key, sort_by_parameter_order=True), new_rows
            )
            for r in created:
                by_key[r.key] = r.id
            self.report.threads_created += len(new_rows)
        for t in todo:
            if t.ref not in self.threads:
                self.threads[t.ref] = by_key[t.key]
                self._pending_refs.append(self._ref_row("thread", t.ref, by_key[t.key]))

    def _ref_row(self, kind: str, ref: str, target_id: int) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "source": self.source,
            "kind": kind,
            "ref": ref,
            "target_id": target_id,
            "created_at": self.now,
        }

    def _flush_refs(self, session: Session) -> None:
        if self._pending_refs:
            session.execute(insert(ImportRef), self._pending_refs)
            self._pending_refs = []

    def _ref_query(self, kind: str, refs: list[str]) -> Any:
        return select(ImportRef).where(
            ImportRef.site_id == self.site_id,
            ImportRef.source == self.source,
            ImportRef.kind == kind,
            ImportRef.ref.in_(refs),
        )

    def _remember(self, ref: str, placed: Placed) -> None:
        self.placed[ref] = placed
        self.placed.move_to_end(ref)
        if len(self.placed) > LRU_SIZE:
            self.placed.popitem(last=False)

    def _lookup_placed(self, session: Session, refs: Iterable[str]) -> None:
        """Bring comments imported earlier (this run beyond the LRU, or a previous run) into memory."""
        wanted = [r for r in dict.fromkeys(refs) if r not in self.placed]
        for chunk in _chunks(wanted, 500):
            rows = session.execute(
                select(
                    ImportRef.ref, Comment.id, Comment.path, Comment.depth, Comment.root_id, Comment.thread_id
                )
                .join(Comment, Comment.id == ImportRef.target_id)
                .where(
                    ImportRef.site_id == self.site_id,
                    ImportRef.source == self.source,
                    ImportRef.kind == "comment",
                    ImportRef.ref.in_(chunk),
                )
            )
            for r in rows:
                self._remember(r.ref, Placed(r.id, r.path, r.depth, r.root_id or r.id, r.thread_id))

    def _comments(self, session: Session, comments: list[SourceComment], touched: set[int]) -> None:
        self._lookup_placed(
            session, [c.ref for c in comments] + [c.parent_ref for c in comments if c.parent_ref]
        )
        queue = list(comments)
        while queue:
            ready: list[SourceComment] = []
            for c in queue:
                if c.ref in self.placed:
                    self.report.comments_existing += 1
                    continue
                if c.thread_ref not in self.threads:
                    src = self.thread_sources.get(c.thread_ref)
                    if src is not None:
                        self._threads(session, [src])
                    else:
                        found = session.scalar(
                            self._ref_query("thread", [c.thread_ref]).with_only_columns(ImportRef.target_id)
                        )
                        if found is None:
                            self.report.skipped["thread missing"] += 1
                            continue
                        self.threads[c.thread_ref] = found
                if c.parent_ref and c.parent_ref not in self.placed:
                    self.waiting.setdefault(c.parent_ref, []).append(c)
                    continue
                ready.append(c)
            queue = []
            if not ready:
                break
            inserted = self._insert(session, ready, touched)
            for ref in inserted:  # replies that arrived before their parent can go in now
                queue.extend(self.waiting.pop(ref, []))

    def _insert(self, session: Session, ready: list[SourceComment], touched: set[int]) -> list[str]:
        prepared: list[tuple[SourceComment, rendering.RenderedBody]] = []
        for c in ready:
            body = _convert(c)
            if body is None:
                self.report.skipped["empty text"] += 1
                continue
            prepared.append((c, body))
        if not prepared:
            return []
        authors = self._authors(session, [c for c, _ in prepared])
        ids = allocate_comment_ids(session, len(prepared))
        rows: list[dict[str, Any]] = []
        local: dict[str, Placed] = {}
        inserted: list[str] = []
        for (c, body), cid in zip(prepared, ids, strict=True):
            parent = local.get(c.parent_ref) if c.parent_ref else None
            if c.parent_ref and parent is None:
                parent = self.placed.get(c.parent_ref)
            thread_id = self.threads[c.thread_ref]
            if parent is not None and parent.thread_id != thread_id:
                parent = None  # a reply filed under another article: keep it, at the top level
                self.report.orphans += 1
            path = paths.child_path(parent.path if parent else "", cid)
            placed = Placed(
                cid, path, parent.depth + 1 if parent else 0, parent.root_id if parent else cid, thread_id
            )
            local[c.ref] = placed
            account_id, name = authors[c.ref]
            status = c.status
            rows.append(
                {
                    "id": cid,
                    "site_id": self.site_id,
                    "thread_id": thread_id,
                    "parent_id": parent.id if parent else None,
                    "root_id": placed.root_id,
                    "depth": placed.depth,
                    "path": path,
                    "author_id": account_id,
                    "author_name": name,
                    "body_source": body.source,
                    "body_html": body.html,
                    "body_text": body.text,
                    "status": status,
                    "featured": False,
                    "up": c.up,
                    "down": c.down,
                    "score": c.up - c.down,
                    "wilson": wilson_lower_bound(c.up, c.down),
                    "reply_count": 0,
                    "descendant_count": 0,
                    "report_count": 0,
                    "edit_count": 0,
                    "flags": {"imported": self.source},
                    "ip_hash": None,
                    "created_at": c.created_at,
                    "updated_at": c.created_at,
                    "edited_at": None,
                    "published_at": c.created_at if status == PUBLISHED else None,
                    "deleted_at": c.created_at if status == CommentStatus.DELETED.value else None,
                }
            )
            self._pending_refs.append(self._ref_row("comment", c.ref, cid))
            touched.add(thread_id)
            inserted.append(c.ref)
        if self.moderate:
            self._moderate(session, prepared, rows)
        session.execute(insert(Comment), rows)
        if self.moderate:
            self._record_decisions(session)
        for row in rows:
            self.report.comments[row["status"]] += 1
        for ref, placed in local.items():
            self._remember(ref, placed)
        return inserted

    # --- authors -----------------------------------------------------------------------------------
    def _identity(self, c: SourceComment) -> tuple[str, str, str | None]:
        """``(identity, clean name, e-mail)``: the source's user id, else the address, else the name."""
        try:
            name = clean_display_name(c.author_name, MAX_IMPORTED_LENGTH)
        except NameInvalid:
            name = FALLBACK_NAME
        email = (c.author_email or "").strip().lower()[:320] or None
        identity = c.author_key or (f"email:{email}" if email else f"name:{name_skeleton(name)}")
        return identity, name, email

    def _authors(self, session: Session, comments: list[SourceComment]) -> dict[str, tuple[int, str]]:
        """Comment ref → (account id, name shown), creating the batch's new authors in one insert."""
        wanted: dict[str, tuple[str, str | None, datetime]] = {}
        by_ref: dict[str, str] = {}
        for c in comments:
            identity, name, email = self._identity(c)
            by_ref[c.ref] = identity
            if identity not in self.authors and identity not in wanted:
                wanted[identity] = (name, email, c.created_at)
        if wanted:
            rows = session.execute(
                self._ref_query("author", list(wanted))
                .with_only_columns(ImportRef.ref, Account.id, Account.display_name)
                .join(Account, Account.id == ImportRef.target_id)
            )
            for r in rows:
                self.authors[r.ref] = (r.id, r.display_name)
                self.report.authors_reused += 1
                wanted.pop(r.ref, None)
        new_rows: list[dict[str, Any]] = []
        new_identities: list[str] = []
        for identity, (name, email, created_at) in wanted.items():
            same = self._same_author(session, name, email)
            if same is not None:
                self.authors[identity] = same
                self._pending_refs.append(self._ref_row("author", identity, same[0]))
                continue
            shown, skeleton = self._free_name(session, name)
            self._owner_cache[skeleton] = (None, shown, email, AccountKind.IMPORTED.value)  # taken now
            new_identities.append(identity)
            new_rows.append(
                {
                    "display_name": shown,
                    "name_skeleton": skeleton,
                    "email": email,
                    "kind": AccountKind.IMPORTED.value,
                    "role": "commenter",
                    "status": "active",
                    "verified": False,
                    "always_premoderate": False,
                    "home_site_id": self.site_id,
                    "created_at": created_at,
                }
            )
        if new_rows:
            created = session.execute(
                insert(Account).returning(Account.id, Account.name_skeleton, sort_by_parameter_order=True),
                new_rows,
            )
            for identity, row, r in zip(new_identities, new_rows, created, strict=True):
                self.authors[identity] = (r.id, row["display_name"])
                self._owner_cache[row["name_skeleton"]] = (
                    r.id,
                    row["display_name"],
                    row["email"],
                    "imported",
                )
                self._pending_refs.append(self._ref_row("author", identity, r.id))
            self.report.authors_created += len(new_rows)
        return {ref: self.authors[identity] for ref, identity in by_ref.items()}

    def _owner(self, session: Session, skeleton: str) -> tuple[int | None, str, str | None, str] | None:
        """Who holds ``skeleton``: ``(account id or None for reserved, name, email, kind)``."""
        if self._reserved is None:
            self._reserved = reserved_skeletons(session)
        if skeleton in self._reserved:
            return None, self._reserved[skeleton], None, "reserved"
        if skeleton not in self._owner_cache:
            row = session.execute(
                select(Account.id, Account.display_name, Account.email, Account.kind).where(
                    Account.name_skeleton == skeleton
                )
            ).first()
            self._owner_cache[skeleton] = (row.id, row.display_name, row.email, row.kind) if row else None
        return self._owner_cache[skeleton]

    def _same_author(self, session: Session, name: str, email: str | None) -> tuple[int, str] | None:
        """An imported account holding this name with the same address (or both none): the same
        author arriving again, e.g. from another site's export. Anyone else is not merged."""
        owner = self._owner(session, name_skeleton(name))
        if owner is None:
            return None
        aid, owner_name, owner_email, kind = owner
        if (
            aid is not None
            and kind == AccountKind.IMPORTED.value
            and (owner_email or "").lower() == (email or "")
        ):
            self.report.authors_reused += 1
            return aid, owner_name
        return None

    def _free_name(self, session: Session, name: str) -> tuple[str, str]:
        """``name`` if nobody holds a look-alike, else ``name (n)`` with the first free n (reported)."""
        skeleton = name_skeleton(name)
        owner = self._owner(session, skeleton)
        if owner is None:
            return name, skeleton
        n = self._next_suffix.get(skeleton, 1)
        while True:
            n += 1
            candidate = f"{name[: MAX_IMPORTED_LENGTH - 8]} ({n})"
            cand_skeleton = name_skeleton(candidate)
            if self._owner(session, cand_skeleton) is None:
                self._next_suffix[skeleton] = n
                self.report.renamed.append(Renamed(name, candidate, owner[1]))
                return candidate, cand_skeleton

    # --- moderation (optional) ---------------------------------------------------------------------
    def _moderate(
        self,
        session: Session,
        prepared: list[tuple[SourceComment, rendering.RenderedBody]],
        rows: list[dict[str, Any]],
    ) -> None:
        from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
        from parley.moderation.services import status_for

        reg = self.registry
        site = session.get(Site, self.site_id)
        assert site is not None
        assert reg is not None
        policy = site.policy()
        self._decisions = []
        for (c, body), row in zip(prepared, rows, strict=True):
            if row["status"] != PUBLISHED:
                continue
            author = AuthorInfo(
                account_id=row["author_id"],
                name=row["author_name"],
                is_guest=False,
                role="commenter",
                verified=False,
                status="active",
                created_at=c.created_at,
                always_premoderate=False,
                ip_hash=None,
                session_key=None,
            )
            thread = ThreadInfo(
                id=row["thread_id"], key="", site_id=self.site_id, is_open=True, premoderate=False, heat=False
            )
            ctx = ModerationContext(
                text=body.text,
                source=body.source,
                html=body.html,
                links=body.links,
                author=author,
                thread=thread,
                policy=policy.moderation,
                now=self.now,
                site_slug=site.slug,
                site_name=site.name,
                is_edit=False,
                comment_id=None,
                parent_id=row["parent_id"],
                backends=reg.backends_for(session),
            )
            decision = reg.pipeline.run(ctx)
            status = "held" if decision.refusal is not None else status_for(decision.verdict)
            self.report.moderated[decision.verdict.value] += 1
            row["status"] = status
            if status != PUBLISHED:
                row["published_at"] = None
            self._decisions.append((row["id"], decision, status))

    def _record_decisions(self, session: Session) -> None:
        from parley.moderation.services import do_record_decision

        for comment_id, decision, status in self._decisions:
            do_record_decision(
                session,
                site_id=self.site_id,
                comment_id=comment_id,
                decision=decision,
                status_before=None,
                status_after=status,
                now=self.now,
                trigger="import",
            )
        self._decisions = []


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalize(source: str) -> str:
    """What :func:`parley.comments.rendering.normalize_source` does, with one regex instead of a
    per-character loop (imports normalize hundreds of thousands of bodies)."""
    return _CONTROLS.sub("", source.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _convert(c: SourceComment) -> rendering.RenderedBody | None:
    raw = c.body[:MAX_BODY]
    source = html_to_markdown(raw) if c.body_format is BodyFormat.HTML else raw
    body = rendering.render(normalize(source))
    if not body.text.strip() and c.status != CommentStatus.DELETED.value:
        return None
    return body


def recount(session: Session, thread_ids: list[int]) -> None:
    """Recompute, from the rows, every counter that depends on visibility in these threads."""
    touch_threads(*thread_ids)
    child = aliased(Comment)
    for chunk in _chunks(thread_ids, 100):
        replies = (
            select(func.count(child.id))
            .where(child.parent_id == Comment.id, child.status == PUBLISHED)
            .scalar_subquery()
        )
        descendants = (
            select(func.count(child.id))
            .where(
                child.root_id == Comment.root_id,
                child.path > Comment.path,
                child.path < Comment.path + literal("~"),
                child.status == PUBLISHED,
            )
            .scalar_subquery()
        )
        session.execute(
            update(Comment)
            .where(Comment.thread_id.in_(chunk))
            .values(reply_count=replies, descendant_count=descendants)
            .execution_options(synchronize_session=False)
        )
        published = (
            select(func.count(Comment.id))
            .where(Comment.thread_id == Thread.id, Comment.status == PUBLISHED)
            .scalar_subquery()
        )
        last = (
            select(func.max(Comment.created_at))
            .where(and_(Comment.thread_id == Thread.id, Comment.status == PUBLISHED))
            .scalar_subquery()
        )
        session.execute(
            update(Thread)
            .where(Thread.id.in_(chunk))
            .values(comment_count=published, last_comment_at=last, version=Thread.version + 1)
            .execution_options(synchronize_session=False)
        )
