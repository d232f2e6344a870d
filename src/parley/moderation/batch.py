"""The batch moderator behind ``parley moderate``: JSON lines in, one result line per input line.

Contract (outside checks depend on it)::

    parley moderate [--config FILE] [--database URL] < in.jsonl > out.jsonl

Input, one JSON object per line: ``{"id": str, "text": str, "author": str, "thread": str}``, optional
``"name"`` (the display name shown) and ``"ts"`` (epoch seconds; rate and flood apply only when it
is given). Output, one line per input line in the same order:
``{"id", "verdict": "publish"|"hold"|"reject", "reasons": [{"phase", "code", "detail"}]}``; a bad line
gives ``{"id": <id or null>, "error": "..."}`` and the run goes on.

Each run starts from an empty in-memory site. Every ``author`` is an account; the first one to show
a name holds it (later look-alikes are impersonations). Published lines become the site's published
comments, so later copies are found. Exit status 0, or 2 (one line on stderr) if the config is bad.

With ``--database URL`` the run reads the default site of that database as well (read only): its
stored policy (unless ``--config`` is given), its published comments as earlier copies and its
accounts' names as taken names. The run's own lines still live in memory only.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from parley.moderation.backends import CopyIndex, ModerationBackends, NameRegistry
from parley.moderation.context import AuthorInfo, ModerationContext, ThreadInfo
from parley.moderation.copies import CommentKey, CopyEntry
from parley.moderation.names import NameHolder, name_skeleton
from parley.moderation.pipeline import Pipeline, build_pipeline
from parley.moderation.policy import ModerationPolicy
from parley.moderation.services import do_record_outcome
from parley.moderation.types import Decision

SITE = "default"
_REQUIRED = ("id", "text", "author", "thread")


class ConfigError(Exception):
    """The ``--config`` file cannot be used; the message is one line for people."""


def load_policy(path: Path | None) -> ModerationPolicy:
    """The policy from a TOML file (defaults of a new site without one). Raises :class:`ConfigError`."""
    if path is None:
        return ModerationPolicy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {' '.join(str(exc).split())}") from None
    try:
        return ModerationPolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "config"
        message = " ".join(str(first.get("msg", "invalid value")).split())
        raise ConfigError(f"{path}: {where}: {message}") from None


class BatchModerator:
    """One in-memory site that moderates a stream of comments in order."""

    def __init__(
        self,
        policy: ModerationPolicy,
        pipeline: Pipeline | None = None,
        backends: ModerationBackends | None = None,
        site: str = SITE,
    ) -> None:
        self.policy = policy
        self.pipeline = pipeline or build_pipeline()
        self.backends = backends or ModerationBackends.in_memory()
        self.site = site
        self._accounts: dict[str, int] = {}
        self._skeletons: dict[int, str] = {}

    def handle(self, line: str | bytes) -> dict[str, Any]:
        """The output object for one input line (never raises for bad input)."""
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return {"id": None, "error": "the line is not valid JSON"}
        if not isinstance(obj, dict):
            return {"id": None, "error": "the line is not a JSON object"}
        line_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        problem = _validate(obj)
        if problem is not None:
            return {"id": line_id, "error": problem}
        decision = self.moderate(obj)
        return {"id": line_id, "verdict": decision.verdict.value, "reasons": decision.public_reasons()}

    def moderate(self, obj: dict[str, Any]) -> Decision:
        """Moderate one validated input object and record its outcome in the site's stores."""
        # negative ids: a batch author is never mistaken for a stored account (--database)
        account = self._accounts.setdefault(obj["author"], -(len(self._accounts) + 1))
        name = obj.get("name") or ""
        ts = obj.get("ts")
        now = datetime.fromtimestamp(ts, UTC) if ts is not None else datetime.now(UTC)
        ctx = ModerationContext(
            text=obj["text"],
            source=obj["text"],
            author=AuthorInfo(account_id=account, name=name),
            thread=ThreadInfo(id=None, key=obj["thread"], site_id=None),
            policy=self.policy,
            now=now,
            site_slug=self.site,
            backends=self.backends,
            timed=ts is not None,
        )
        decision = self.pipeline.run(ctx)
        do_record_outcome(ctx, decision, comment_id=obj["id"])
        if name and decision.refusal is None and not any(r.phase == "names" for r in decision.reasons):
            self._claim(account, name)
        return decision

    def _claim(self, account: int, name: str) -> None:
        """The account shows ``name`` from now on: it holds the name's skeleton (a rename frees the old)."""
        skeleton = name_skeleton(name)
        if not skeleton or self._skeletons.get(account) == skeleton:
            return
        if self.backends.names.claim(skeleton, NameHolder(name, account)) is None:
            old = self._skeletons.get(account)
            if old is not None:
                self.backends.names.release(old, account)
            self._skeletons[account] = skeleton


def _validate(obj: dict[str, Any]) -> str | None:
    for field in _REQUIRED:
        if field not in obj:
            return f"missing field {field!r}"
        if not isinstance(obj[field], str):
            return f"field {field!r} must be a string"
    if obj.get("name") is not None and not isinstance(obj["name"], str):
        return "field 'name' must be a string"
    ts = obj.get("ts")
    if ts is not None:
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            return "field 'ts' must be a number of epoch seconds"
        if (isinstance(ts, float) and not math.isfinite(ts)) or not 0 <= ts < 32_503_680_000:  # year 3000
            return "field 'ts' is out of range"
    return None


def run(
    lines: Iterable[bytes], out: IO[str], policy: ModerationPolicy, moderator: BatchModerator | None = None
) -> int:
    """Moderate ``lines`` into ``out``; returns the number of lines handled."""
    moderator = moderator or BatchModerator(policy)
    n = 0
    for raw in _lines(lines):
        try:
            result = moderator.handle(raw)
        except Exception as exc:  # a bug on one line must not end the run; the line says so
            result = {"id": None, "error": f"internal error ({type(exc).__name__})"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        n += 1
    out.flush()
    return n


def _lines(lines: Iterable[bytes]) -> Iterator[bytes]:
    for raw in lines:
        yield raw.rstrip(b"\r\n")


class LayeredCopyIndex:
    """Lines of this run (in memory, written) over a database's published comments (read only)."""

    def __init__(self, fresh: CopyIndex, stored: CopyIndex) -> None:
        self.fresh = fresh
        self.stored = stored

    def candidates(self, site: str, bands: Sequence[int], since: float) -> list[CopyEntry]:
        return self.stored.candidates(site, bands, since) + self.fresh.candidates(site, bands, since)

    def add(self, site: str, entry: CopyEntry, bands: Sequence[int], *, fresh: bool = False) -> None:
        self.fresh.add(site, entry, bands, fresh=fresh)

    def wave_of(self, site: str, comment_id: CommentKey) -> CommentKey | None:
        wave = self.fresh.wave_of(site, comment_id)
        if wave is None and isinstance(comment_id, int):
            wave = self.stored.wave_of(site, comment_id)
        return wave

    def forget(self, author: str) -> None:
        self.fresh.forget(author)  # the database is read only here


class LayeredNames:
    """Names shown in this run (in memory) over a database's accounts (read only)."""

    def __init__(self, fresh: NameRegistry, stored: NameRegistry) -> None:
        self.fresh = fresh
        self.stored = stored

    def holder(self, skeleton: str) -> NameHolder | None:
        return self.stored.holder(skeleton) or self.fresh.holder(skeleton)

    def claim(self, skeleton: str, holder: NameHolder) -> NameHolder | None:
        return self.stored.claim(skeleton, holder) or self.fresh.claim(skeleton, holder)

    def release(self, skeleton: str, account_id: CommentKey | None) -> None:
        self.fresh.release(skeleton, account_id)


@contextmanager
def database_moderator(url: str, policy: ModerationPolicy | None) -> Iterator[BatchModerator]:
    """A moderator reading the default site of the database at ``url``. Raises :class:`ConfigError`."""
    from parley.config import load_settings
    from parley.db.database import Database
    from parley.errors import AppError
    from parley.moderation.sql import SqlCopyIndex, SqlNameRegistry
    from parley.sites.services import get_site_by_slug

    try:
        settings = load_settings(database_url=url)
        db = Database(settings)
    except (ValidationError, ValueError, OSError) as exc:
        raise ConfigError(f"cannot use the database: {' '.join(str(exc).split())[:200]}") from None
    try:
        with db.read() as session:
            try:
                site = get_site_by_slug(session, settings.default_site)
            except AppError:
                raise ConfigError(f"the database has no site {settings.default_site!r}") from None
            except SQLAlchemyError as exc:
                raise ConfigError(f"cannot read the database: {type(exc).__name__}") from None
            memory = ModerationBackends.in_memory()
            backends = ModerationBackends(
                copies=LayeredCopyIndex(memory.copies, SqlCopyIndex(session)),
                rates=memory.rates,
                history=memory.history,
                names=LayeredNames(memory.names, SqlNameRegistry(session)),
            )
            chosen = policy if policy is not None else site.policy().moderation
            yield BatchModerator(chosen, backends=backends, site=site.slug)
    finally:
        db.dispose()
