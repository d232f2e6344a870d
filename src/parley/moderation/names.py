"""Display names that look alike: one skeleton per name, and the check against taken and reserved names.

``Sektglas Grünling``, ``Sektglas Grϋnling`` (Greek ϋ), ``SektgIas Grünling`` (capital I) and
``sektglas_grunling`` are one name to a reader, so they have one :func:`name_skeleton`. The accounts
domain stores it in ``accounts.name_skeleton`` under a unique index (so two concurrent sign-ups
cannot both win) and calls :func:`evaluate_name` on registration, rename, guest names,
``parley users add`` and SSO names; the ``names`` moderation phase checks the name a comment is shown
under.

The skeleton is deliberately stricter than the text folding of :mod:`parley.moderation.normalize`,
because a false collision only costs a person a different name, while a missed one lets an
impersonation through: all accents go (``ü`` = ``u``), ``I``/``l``/``1``/``|`` are one letter, digits
read as the letters they imitate, ``rn`` reads ``m`` and ``vv`` reads ``w``, and spaces,
punctuation, emoji and invisible characters do not count.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import disarm

from parley.errors import AppError, ErrorCode
from parley.moderation.policy import DEFAULT_RESERVED_NAMES

CommentKey = int | str

_DIGITS = str.maketrans(
    {"0": "o", "1": "i", "2": "z", "3": "e", "4": "a", "5": "s", "6": "b", "7": "t", "8": "b", "9": "g"}
    | {"l": "i", "|": "i", "@": "a", "$": "s"}
)
_DIGRAPHS = (("rn", "m"), ("vv", "w"))


@functools.lru_cache(maxsize=8192)
def name_skeleton(name: str) -> str:
    """The comparison key of a display name (may be empty: then the name has nothing readable)."""
    s = unicodedata.normalize("NFKC", name)
    for _ in range(2):  # a second pass folds what the first uncovered (Greek ϋ → υ → u)
        s = disarm.skeleton_key(s, digit_policy="tr39")
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    s = s.casefold().translate(_DIGITS)
    s = "".join(c for c in s if c.isalnum())
    for pair, letter in _DIGRAPHS:
        s = s.replace(pair, letter)
    return s


@dataclass(frozen=True, slots=True)
class NameHolder:
    """Who holds a skeleton: the name as that account shows it."""

    name: str
    account_id: CommentKey | None = None


NameLookup = Callable[[str], "NameHolder | None"]
"""Given a skeleton, the account holding it (the accounts domain: one indexed query)."""

HOLDERS = "names.holders"
"""Key in a moderation memo: ``{skeleton: holder or None}`` looked up ahead of the write transaction
(a guest's name is known before it), so the guest check and the names phase need not ask again."""


def remembered(memo: Mapping[str, object] | None, lookup: NameLookup) -> NameLookup:
    """``lookup``, answered from :data:`HOLDERS` in ``memo`` for the skeletons looked up already."""
    known = memo.get(HOLDERS) if memo else None
    if not isinstance(known, dict) or not known:
        return lookup

    def find(skeleton: str) -> NameHolder | None:
        return known[skeleton] if skeleton in known else lookup(skeleton)

    return find


class NameStatus(StrEnum):
    OK = "ok"
    TAKEN = "name_taken"
    RESERVED = "name_reserved"
    INVALID = "name_invalid"


@dataclass(frozen=True, slots=True)
class NameCheck:
    """The typed outcome of :func:`evaluate_name`."""

    name: str
    skeleton: str
    status: NameStatus
    collides_with: str | None = None
    """The existing or reserved name it collides with, as that one is written."""
    holder: NameHolder | None = None

    @property
    def ok(self) -> bool:
        return self.status is NameStatus.OK


def lookup_from_names(names: Iterable[str] | Mapping[str, CommentKey | None]) -> NameLookup:
    """A :data:`NameLookup` over a set of names (or a mapping name → account id), for tests and CLIs."""
    table: dict[str, NameHolder] = {}
    items = names.items() if isinstance(names, Mapping) else ((n, None) for n in names)
    for name, account in items:
        table.setdefault(name_skeleton(name), NameHolder(name, account))
    return table.get


def evaluate_name(
    name: str,
    *,
    lookup: NameLookup | None = None,
    account_id: CommentKey | None = None,
    reserved: Iterable[str] = DEFAULT_RESERVED_NAMES,
    reserved_fragments: Iterable[str] = (),
    site_name: str | None = None,
    staff: bool = False,
) -> NameCheck:
    """Is ``name`` free for ``account_id``? Pure apart from ``lookup``; raises nothing.

    ``lookup`` finds the holder of a skeleton; a holder with the same ``account_id`` is the caller
    itself (a rename to a variant of one's own name is fine). Reserved names (and the site's name)
    are refused by equal skeleton, reserved fragments anywhere inside the name; staff may use them.
    """
    skeleton = name_skeleton(name)
    if not skeleton:
        return NameCheck(name, skeleton, NameStatus.INVALID)
    if not staff:
        hit = _reserved_hit(skeleton, reserved, reserved_fragments, site_name)
        if hit is not None:
            return NameCheck(name, skeleton, NameStatus.RESERVED, hit)
    if lookup is not None:
        holder = lookup(skeleton)
        if holder is not None and (account_id is None or holder.account_id != account_id):
            return NameCheck(name, skeleton, NameStatus.TAKEN, holder.name, holder)
    return NameCheck(name, skeleton, NameStatus.OK)


def _reserved_hit(
    skeleton: str, reserved: Iterable[str], fragments: Iterable[str], site_name: str | None
) -> str | None:
    candidates = list(reserved)
    if site_name:
        candidates.append(site_name)
    for r in candidates:
        if name_skeleton(r) == skeleton:
            return r
    for frag in fragments:
        key = name_skeleton(frag)
        if key and key in skeleton:
            return frag
    return None


class NameTaken(AppError):
    code = ErrorCode.NAME_TAKEN
    status = 409
    message = "This name is already taken or looks too much like another name: {name}."


class NameInvalid(AppError):
    code = ErrorCode.NAME_INVALID
    status = 422
    message = "This name has nothing in it that can be read."


def check_name_available(
    name: str,
    *,
    lookup: NameLookup | None = None,
    account_id: CommentKey | None = None,
    reserved: Iterable[str] = DEFAULT_RESERVED_NAMES,
    reserved_fragments: Iterable[str] = (),
    site_name: str | None = None,
    staff: bool = False,
) -> str:
    """Validate a display name; returns its skeleton (for ``accounts.name_skeleton``).

    Raises :class:`NameTaken` (``name_taken``, 409, with ``params["name"]`` = the colliding name) or
    :class:`NameInvalid` (``name_invalid``, 422). The unique index on the skeleton column stays the
    final word under concurrency: map its IntegrityError to :class:`NameTaken` as well.
    """
    result = evaluate_name(
        name,
        lookup=lookup,
        account_id=account_id,
        reserved=reserved,
        reserved_fragments=reserved_fragments,
        site_name=site_name,
        staff=staff,
    )
    if result.status is NameStatus.INVALID:
        raise NameInvalid()
    if not result.ok:
        raise NameTaken(
            params={"name": result.collides_with or ""}, extra={"collides_with": result.collides_with}
        )
    return result.skeleton
