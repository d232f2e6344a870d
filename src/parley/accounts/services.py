"""Use cases of the accounts domain: names, registration, login, sessions, guests, API tokens.

``check_*`` validates, ``do_*`` writes, ``access_*`` fetches with a permission check. Nothing here
commits: the caller's unit of work does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from parley.accounts import passwords
from parley.accounts.errors import (
    AccountBanned,
    AccountSuspended,
    EmailTaken,
    InvalidCredentials,
    NameInvalid,
    NameTaken,
)
from parley.accounts.models import (
    Account,
    AccountKind,
    AccountStatus,
    ApiToken,
    NameChange,
    Role,
    SessionRecord,
)
from parley.accounts.names import MAX_LENGTH, clean_display_name, name_skeleton
from parley.db.direct import Direct
from parley.db.stored import add_as_stored, load_as_stored, row_as_stored
from parley.errors import ValidationFailed
from parley.moderation import names as engine_names
from parley.moderation.names import NameStatus, evaluate_name
from parley.moderation.policy import DEFAULT_RESERVED_NAMES
from parley.moderation.sql import SqlNameRegistry
from parley.security import hash_token, new_token
from parley.sites.models import Site


@dataclass(frozen=True, slots=True)
class NameCollision:
    name: str
    skeleton: str
    account_id: int | None  # None: a reserved name


def reserved_names(session: Session) -> tuple[list[str], list[str]]:
    """Names nobody but staff may use: the engine's defaults, every site's name and reserved list."""
    names = list(DEFAULT_RESERVED_NAMES)
    fragments: list[str] = []
    for site_name, settings in session.execute(select(Site.name, Site.settings)):
        names.append(site_name)
        policy = (settings or {}).get("moderation", {}).get("names", {})
        names.extend(policy.get("reserved", ()))
        fragments.extend(policy.get("reserved_fragments", ()))
    return names, fragments


def reserved_skeletons(session: Session) -> dict[str, str]:
    """Skeleton → reserved name (for bulk checks such as imports; fragments not included)."""
    names, _ = reserved_names(session)
    return {name_skeleton(n): n for n in names if n}


def find_name_collision(
    session: Session,
    name: str,
    *,
    exclude_account_id: int | None = None,
    staff: bool = False,
    reserved: tuple[list[str], list[str]] | None = None,
    known: Mapping[str, object] | None = None,
) -> NameCollision | None:
    """The existing account or reserved name that ``name`` looks like, if any (one indexed query).
    ``reserved`` is :func:`reserved_names`, when the caller keeps it (read here otherwise);
    ``known``: a moderation memo with holders looked up already (``engine_names.HOLDERS``)."""
    names, fragments = reserved if reserved is not None else reserved_names(session)
    check = evaluate_name(
        name,
        lookup=engine_names.remembered(known, SqlNameRegistry(session).holder),
        account_id=exclude_account_id,
        reserved=names,
        reserved_fragments=fragments,
        staff=staff,
    )
    if check.status is NameStatus.INVALID:
        raise engine_names.NameInvalid()
    if check.ok:
        return None
    holder_id = check.holder.account_id if check.holder is not None else None
    return NameCollision(check.collides_with or name, check.skeleton, int(holder_id) if holder_id else None)


def name_taken(collision: NameCollision) -> NameTaken:
    return NameTaken(
        params={"name": collision.name},
        extra={"collides_with": collision.name},
        context={"account_id": collision.account_id},
    )


def check_name_available(
    session: Session,
    name: str,
    *,
    exclude_account_id: int | None = None,
    max_length: int = MAX_LENGTH,
    staff: bool = False,
) -> tuple[str, str]:
    """Clean ``name`` and make sure nobody holds a look-alike; returns ``(name, skeleton)``."""
    name = clean_display_name(name, max_length)
    collision = find_name_collision(session, name, exclude_account_id=exclude_account_id, staff=staff)
    if collision is not None:
        raise name_taken(collision)
    return name, name_skeleton(name)


def normalize_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > 320 or any(c.isspace() for c in email):
        raise ValidationFailed([{"field": "email", "code": "invalid", "message": "not an e-mail address"}])
    return f"{local}@{domain.lower()}".lower()


def _insert_account(session: Session, account: Account) -> Account:
    """Insert under a savepoint: the unique skeleton/e-mail indexes decide races, not a prior read."""
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError as exc:
        message = str(exc.orig).lower()
        if "email" in message:
            raise EmailTaken() from None
        # a concurrent sign-up with a look-alike name won the unique skeleton index
        raise NameTaken(params={"name": account.display_name}) from None
    return account


def do_create_account(
    session: Session,
    *,
    name: str,
    now: datetime,
    email: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    role: Role = Role.COMMENTER,
    kind: AccountKind = AccountKind.LOCAL,
    verified: bool = False,
    home_site_id: int | None = None,
    max_name_length: int = MAX_LENGTH,
) -> Account:
    """``password_hash``: a hash made earlier (a confirmed sign-up), instead of ``password``."""
    name, skeleton = check_name_available(session, name, max_length=max_name_length)
    email_norm = normalize_email(email) if email else None
    if email_norm and session.scalar(select(Account.id).where(Account.email_normalized == email_norm)):
        raise EmailTaken()
    if password is not None:
        check_password(password)
    account = Account(
        display_name=name,
        name_skeleton=skeleton,
        email=email.strip() if email else None,
        email_normalized=email_norm,
        password_hash=passwords.hash_password(password) if password else password_hash,
        role=role.value,
        kind=kind.value,
        verified=verified,
        home_site_id=home_site_id,
        created_at=now,
    )
    return _insert_account(session, account)


def check_password(password: str) -> None:
    if len(password) < passwords.MIN_LENGTH or len(password) > passwords.MAX_LENGTH:
        raise ValidationFailed(
            [{"field": "password", "code": "invalid_length", "message": "8 to 1024 characters"}]
        )


def do_rename(session: Session, account: Account, new_name: str, now: datetime) -> Account:
    if clean_display_name(new_name) == account.display_name:
        return account
    name, owned = check_name_available(session, new_name, exclude_account_id=account.id)
    skeleton: str | None = owned
    if account.kind == AccountKind.GUEST.value:
        skeleton = None  # guests never own a name; the check above still keeps look-alikes out
    session.add(
        NameChange(account_id=account.id, old_name=account.display_name, new_name=name, created_at=now)
    )
    account.display_name = name
    account.name_skeleton = skeleton
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise NameTaken(params={"name": name}) from None
    from parley.comments.threads import bump_author_threads  # comments builds on accounts

    bump_author_threads(session, account.id)  # the new name shows on their comments
    return account


def check_can_act(account: Account, now: datetime) -> None:
    """Suspended and banned accounts may read, not write."""
    if account.status == AccountStatus.BANNED.value:
        raise AccountBanned()
    suspended = account.status == AccountStatus.SUSPENDED.value
    if suspended and (account.suspended_until is None or account.suspended_until > now):
        until = account.suspended_until.isoformat() if account.suspended_until else None
        raise AccountSuspended(extra={"until": until})


def check_login(session: Session, email: str, password: str) -> Account:
    try:
        email_norm = normalize_email(email)
    except ValidationFailed:
        passwords.verify_password(password, None)
        raise InvalidCredentials() from None
    account = session.scalar(select(Account).where(Account.email_normalized == email_norm))
    ok = passwords.verify_password(password, account.password_hash if account else None)
    if account is None or not ok:
        raise InvalidCredentials()
    if account.status == AccountStatus.BANNED.value:
        raise AccountBanned()
    return account


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    csrf_token: str


# on the driver's cursor (parley.db.direct): a guest's POST runs them inside the writers' lock
_INSERT_SESSION = Direct(insert(cast(Table, SessionRecord.__table__)).inline())
_ACCOUNTS = cast(Table, Account.__table__)
_SET_LAST_LOGIN = Direct(
    update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("b_id")).values(last_login_at=bindparam("b_now"))
)


def do_create_session(session: Session, account: Account, now: datetime, days: int) -> NewSession:
    """A login session for ``account`` (one INSERT; only the token's hash is stored)."""
    token = new_token("pst")
    csrf = secrets.token_urlsafe(24)
    _INSERT_SESSION.defer(
        session,
        {
            "token_hash": hash_token(token),
            "account_id": account.id,
            "csrf_token": csrf,
            "created_at": now,
            "expires_at": now + timedelta(days=days),
            "last_seen_at": now,
        },
    )
    if account.last_login_at != now:  # a guest made for this session has it already
        # a statement, not a change to the object: the ORM's flush of it cost ~0.5 ms (a returning
        # guest's POST does this inside the writers' lock)
        _SET_LAST_LOGIN.defer(session, {"b_id": account.id, "b_now": now})
        set_committed_value(account, "last_login_at", now)
    return NewSession(token, csrf)


def access_session(session: Session, token: str, now: datetime) -> tuple[SessionRecord, Account] | None:
    row = session.execute(
        select(SessionRecord, Account)
        .join(Account, Account.id == SessionRecord.account_id)
        .where(SessionRecord.token_hash == hash_token(token))
    ).first()
    if row is None or row[0].expires_at <= now:
        return None
    return row[0], row[1]


def do_end_session(session: Session, token: str) -> None:
    record = session.scalar(select(SessionRecord).where(SessionRecord.token_hash == hash_token(token)))
    if record is not None:
        session.delete(record)
        session.flush()


def do_end_all_sessions(session: Session, account_id: int) -> int:
    records = list(session.scalars(select(SessionRecord).where(SessionRecord.account_id == account_id)))
    for r in records:
        session.delete(r)
    session.flush()
    return len(records)


def guest_key(secret: bytes, name: str, email: str) -> str:
    """Keyed hash of a guest's name and e-mail: the same pair finds the same guest account."""
    import hashlib
    import hmac

    message = name_skeleton(name).encode() + b"\x00" + normalize_email(email).encode()
    return hmac.new(secret, b"guest:" + message, hashlib.sha256).hexdigest()


# built once: constructing it per POST (the comparison, its coercion and a new cache key) cost more
# than running it; run inside the writers' lock, so loaded without the ORM (parley.db.stored)
_GUEST_BY_KEY = Direct(
    select(_ACCOUNTS)
    .where(_ACCOUNTS.c.guest_key == bindparam("b_key"), _ACCOUNTS.c.kind == AccountKind.GUEST.value)
    .limit(1)
)


NEW_GUEST_ID = "accounts.new_guest_id"
"""Key in a moderation memo: an id drawn ahead for the guest account a POST may make (PostgreSQL's
sequence, with the POST's first read), so :func:`do_get_or_create_guest` need not read it back
from the account's INSERT, which then waits with the unit's other writes (``Direct.defer``)."""

RETURNING_GUEST = "accounts.returning_guest"
"""Key in a moderation memo: ``(guest key, account or None)``, the guest account a guest's name and
e-mail address return to, read with the name's holder (:func:`guest_look_up`, :func:`take_guest_rows`)."""

# two index probes (an OR of the two conditions cost PostgreSQL twice as much: a bitmap of both)
_HOLDER_OR_GUEST = Direct(
    union_all(
        select(_ACCOUNTS).where(_ACCOUNTS.c.name_skeleton == bindparam("skeleton")),
        select(_ACCOUNTS).where(
            _ACCOUNTS.c.guest_key == bindparam("b_key"), _ACCOUNTS.c.kind == AccountKind.GUEST.value
        ),
    )
)


@dataclass(frozen=True, slots=True)
class GuestLookUp:
    """The read of ``accounts`` for a guest's name and address (``Direct``, parameters), run along
    the POST's first read (``Direct.first_with``); :func:`take_guest_rows` takes its rows."""

    read: Direct
    values: dict[str, Any]
    skeleton: str
    key: str | None


def guest_look_up(name: str | None, email: str | None, secret: bytes) -> GuestLookUp | None:
    """The account holding a guest's name and the guest account the name and e-mail address
    return to, in one read of ``accounts`` where two were (a ``UNION ALL`` of two index probes);
    None when there is no name to look up."""
    skeleton = name_skeleton(name) if name else ""
    if not skeleton:
        return None
    key = None
    if email and name:
        try:
            key = guest_key(secret, clean_display_name(name), email)
        except NameInvalid:
            key = None  # refused where the guest is made, in its place among the checks
    return GuestLookUp(_HOLDER_OR_GUEST, {"skeleton": skeleton, "b_key": key}, skeleton, key)


def take_guest_rows(
    session: Session, look_up: GuestLookUp, rows: list[tuple[Any, ...]], memo: dict[str, Any] | None
) -> dict[str, engine_names.NameHolder | None]:
    """The name's holder as ``{skeleton: holder or None}`` (for the memo's
    :data:`~parley.moderation.names.HOLDERS`) and the returning guest's account into ``memo`` under
    :data:`RETURNING_GUEST` (for :func:`do_get_or_create_guest`), from the rows the read found."""
    holder: engine_names.NameHolder | None = None
    returning: Account | None = None
    for row in rows:
        account = row_as_stored(session, Account, row)
        if account.name_skeleton == look_up.skeleton:
            holder = engine_names.NameHolder(account.display_name, account.id)
        elif returning is None and look_up.key is not None:
            returning = account
    if memo is not None and look_up.key is not None:
        memo[RETURNING_GUEST] = (look_up.key, returning)
    return {look_up.skeleton: holder}


def do_get_or_create_guest(
    session: Session,
    name: str,
    email: str | None,
    now: datetime,
    site_id: int | None,
    secret: bytes,
    *,
    reserved: tuple[list[str], list[str]] | None = None,
    known: Mapping[str, object] | None = None,
) -> Account:
    """A guest account for this comment.

    Guests do not own their name (no skeleton), but the name must not look like an account's or a
    reserved name (``reserved``: :func:`reserved_names`, when the caller keeps it). With an e-mail
    address, the same name and address return the same guest account (so a returning guest keeps
    their history); without one, every post makes a new guest account. A new guest is logged in
    from the start (``last_login_at``): it is made for the session its comment opens. ``known``: as
    for :func:`find_name_collision`.
    """
    name = clean_display_name(name)
    collision = find_name_collision(session, name, reserved=reserved, known=known)
    if collision is not None:
        raise name_taken(collision)
    key = guest_key(secret, name, email) if email else None
    if key is not None:
        ahead = known.get(RETURNING_GUEST) if known is not None else None
        found: Account | None
        if isinstance(ahead, tuple) and ahead[0] == key:
            found = cast(Account | None, ahead[1])  # read with the name's holder (guest_look_up)
        else:
            found = load_as_stored(session, Account, _GUEST_BY_KEY, {"b_key": key})
        if found is not None:
            return found
    drawn = known.get(NEW_GUEST_ID) if known is not None else None
    # stored without the ORM's flush (parley.db.stored): a new guest is made inside the writers' lock;
    # with an id drawn ahead its INSERT is deferred
    return add_as_stored(
        session,
        Account,
        {
            **({"id": drawn} if isinstance(drawn, int) else {}),
            "display_name": name,
            "name_skeleton": None,
            "email": email.strip()[:320] if email else None,
            "guest_key": key,
            "role": Role.COMMENTER.value,
            "kind": AccountKind.GUEST.value,
            "home_site_id": site_id,
            "created_at": now,
            "last_login_at": now,
        },
    )


def do_create_api_token(
    session: Session, account: Account, name: str, now: datetime, site_id: int | None
) -> str:
    token = new_token("pat")
    session.add(
        ApiToken(
            token_hash=hash_token(token), name=name, account_id=account.id, site_id=site_id, created_at=now
        )
    )
    session.flush()
    return token


def access_api_token(session: Session, token: str) -> tuple[ApiToken, Account] | None:
    row = session.execute(
        select(ApiToken, Account)
        .join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


def count_accounts(session: Session) -> int:
    return int(session.scalar(select(func.count(Account.id))) or 0)
